"""Soak: 2,000 runs through 2 schedulers and 3 workers (separate processes) with random kill -9s.

Every run ends in exactly one terminal state, none twice, none stuck; every chain of attempts
ends succeeded (or failed as poison); no run id completes twice. Also D2: claiming is atomic,
so 1,000 runs with a worker killed every 200 ms all complete.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.cluster import Cluster, WorkerProcess, all_runs, chain_outcomes
from tests.conftest import TERMINAL, wait_for
from tests.live_recorder import LiveRecorder


class Chaos:
    """Kill -9 a random worker every `every` seconds and start a fresh one in its place."""

    def __init__(self, cluster: Cluster, every: tuple[float, float], concurrency: int) -> None:
        self.cluster = cluster
        self.every = every
        self.concurrency = concurrency
        self.kills = 0
        self._stop = threading.Event()
        self._rng = random.Random(1234)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Chaos:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._rng.uniform(*self.every)):
            workers = self.cluster.workers
            i = self._rng.randrange(len(workers))
            workers[i].kill9()
            self.kills += 1
            name = f"{workers[i].name.split('.')[0]}.{self.kills}"
            workers[i] = WorkerProcess(self.cluster, name, self.concurrency).start(wait=False)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def settled(cluster: Cluster, job_id: str, roots: int) -> list[dict[str, Any]] | None:
    client = cluster.client(0)
    runs = all_runs(client, job_id)
    if len([r for r in runs if r["retry_of"] is None]) < roots:
        return None
    if any(r["status"] not in TERMINAL for r in runs):
        return None
    retried = {r["retry_of"] for r in runs}
    owed = [r for r in runs if r["status"] == "lost" and r["id"] not in retried]
    return None if owed else runs


def check(runs: list[dict[str, Any]], roots: int, ends: Path, recorder: LiveRecorder) -> Counter:
    assert recorder.terminal_twice() == {}, "a run changed after it ended"
    outcomes = chain_outcomes(runs)
    assert len(outcomes) == roots
    assert set(outcomes.values()) <= {"succeeded", "failed"}
    for run in runs:
        if run["status"] == "failed":
            assert "poison" in (run["error"] or ""), run
    completed = Counter(ends.read_text().split())
    twice = [run_id for run_id, n in completed.items() if n > 1]
    assert not twice, f"run ids that completed twice: {twice[:5]}"
    for run in runs:
        if run["status"] == "succeeded":
            assert completed[run["id"]] == 1
    return Counter(r["status"] for r in runs)


def _job(client: Any, name: str, ends: Path, sleep: float) -> dict[str, Any]:
    script = f'sleep {sleep}; echo "$HYDRA_RUN_ID" >> {ends}'
    return dict(
        client.create_job(
            {
                "name": name,
                "executor": {"type": "shell", "script": script},
                "retries": {"max_attempts": 6, "backoff_seconds": 0},
            }
        )
    )


def test_d2_1000_runs_with_a_worker_killed_every_200ms(cluster: Cluster, tmp_path: Path) -> None:
    cluster.scheduler()
    for i in range(3):
        cluster.worker(f"d2w{i}", 8)
    recorder = LiveRecorder(cluster.redis_url).start()
    ends = tmp_path / "ends"
    ends.touch()
    client = cluster.client()
    job = _job(client, "d2", ends, 0.02)
    chaos = Chaos(cluster, (0.2, 0.2), 8).start()
    try:
        client.trigger_batch(job["id"], [{}] * 1000)
        time.sleep(6)
    finally:
        chaos.stop()
    runs = wait_for(lambda: settled(cluster, job["id"], 1000), 90, 0.5, message="settled")
    time.sleep(1)
    recorder.stop()
    counts = check(runs, 1000, ends, recorder)
    print(f"D2: {chaos.kills} kills; statuses {dict(counts)}")


def test_soak_2000_runs_2_schedulers_3_workers_random_kills(
    cluster: Cluster, tmp_path: Path
) -> None:
    for _ in range(2):
        cluster.scheduler()
    for i in range(3):
        cluster.worker(f"soak{i}", 8)
    recorder = LiveRecorder(cluster.redis_url).start()
    ends = tmp_path / "ends"
    ends.touch()
    job = _job(cluster.client(0), "soak", ends, 0.1)
    started = time.monotonic()
    chaos = Chaos(cluster, (0.7, 1.5), 8).start()
    try:
        for i in range(2):  # half through each scheduler
            cluster.client(i).trigger_batch(job["id"], [{}] * 1000)
        runs = wait_for(lambda: settled(cluster, job["id"], 2000), 180, 1.0, message="settled")
    finally:
        chaos.stop()
    took = time.monotonic() - started
    runs = wait_for(lambda: settled(cluster, job["id"], 2000), 60, 1.0, message="settled")
    time.sleep(1)
    recorder.stop()
    counts = check(runs, 2000, ends, recorder)
    assert chaos.kills >= 5
    print(f"soak: {took:.0f}s, {chaos.kills} worker kills, statuses {dict(counts)}")
