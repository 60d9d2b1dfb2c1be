"""Issue 13 §4: `up`'s memory goes back near its baseline after a flood of log output.

60 runs of 11 MB each took a real `up` from 120 MiB to 725 MiB, and it stayed there: the live
replay buffer kept 20,000 events whatever their size, and freed log text stayed in the heap.
"""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from hydra_jobs.client import Client
from tests.conftest import ADMIN, wait_for
from tests.procs import UpProcess

RUNS = 40
OUTPUT = 11_000_000  # bytes per run, past HYDRA_LOG_MAX_BYTES (10 MiB): the cap is reached too
MIB = 1024 * 1024
PEAK_MARGIN = 200 * MIB  # above the baseline while the flood goes on (it was 400+ MiB)
SETTLED_MARGIN = 16 * MIB  # above the baseline once it is over


def test_memory_returns_near_its_baseline_after_a_flood_of_output(tmp_path: Path) -> None:
    # Replayable for 3 s (default 300 s), so that the test sees the buffer emptied too.
    up = UpProcess(tmp_path / "up", HYDRA_EVENT_REPLAY_SECONDS="3").start()
    try:
        client = Client(up.url, ADMIN)
        rss = psutil.Process(up.pid).memory_info
        line = "the quick brown fox jumps over the lazy dog 0123456789"
        script = f"yes '{line}' | head -c {OUTPUT}"
        flood = client.create_job(
            {"name": "flood", "executor": {"type": "shell", "script": script}}
        )
        warm = client.create_job(
            {"name": "warm", "executor": {"type": "shell", "script": "echo hi"}}
        )
        for run in [client.trigger(warm["id"]) for _ in range(3)]:
            wait_for(lambda r=run: client.get_run(r["id"])["status"] == "succeeded", 15)
        baseline = rss().rss
        ids = [client.trigger(flood["id"])["id"] for _ in range(RUNS)]
        peak = baseline
        deadline = time.monotonic() + 240
        pending = set(ids)
        while pending:
            assert time.monotonic() < deadline, f"{len(pending)} runs still going"
            peak = max(peak, rss().rss)
            done = {i for i in pending if client.get_run(i)["status"] == "succeeded"}
            pending -= done
            time.sleep(0.2)
        assert client.get_run(ids[-1])["log_truncated"]
        assert peak - baseline < PEAK_MARGIN, f"peak {peak / MIB:.0f} MiB, {baseline / MIB:.0f}"
        settled = wait_for(
            lambda: (now := rss().rss) - baseline < SETTLED_MARGIN and now,
            30,
            0.5,
            message=f"RSS back within {SETTLED_MARGIN / MIB:.0f} MiB of {baseline / MIB:.0f} MiB",
        )
        print(f"baseline {baseline / MIB:.0f} peak {peak / MIB:.0f} settled {settled / MIB:.0f}")
    finally:
        up.stop()
