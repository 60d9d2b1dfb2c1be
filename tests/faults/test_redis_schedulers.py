"""Scheduler faults in distributed mode: replicas killed (-9) and frozen (SIGSTOP) under load.

S1 every slot fires exactly once with three schedulers and kill -9s; S2 a frozen leader stops
firing the moment it wakes; S4 `max_running` holds across worker crashes and leader failover.
"""

from __future__ import annotations

import random
import signal
import time
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from hydra_jobs.client import Client
from tests.cluster import Cluster, SchedulerProcess, all_runs
from tests.conftest import ADMIN, TERMINAL, wait_for

LEASE = 2.0
EVERY_SECOND = {"cron": "* * * * * *"}


def live_client(cluster: Cluster) -> Client:
    proc = next(s for s in cluster.schedulers if s.alive())
    return Client(proc.url, ADMIN)


def assert_each_slot_once(runs: list[dict[str, Any]]) -> list[datetime]:
    slots = sorted(datetime.fromisoformat(r["scheduled_for"]) for r in runs if r["scheduled_for"])
    assert len(slots) == len(set(slots)), "a slot fired twice"
    gaps = [(a, b) for a, b in pairwise(slots) if b - a != timedelta(seconds=1)]
    assert not gaps, f"slots missing between {gaps[:3]}"
    return slots


def test_s1_each_slot_fires_once_with_three_schedulers_and_kill9s(cluster: Cluster) -> None:
    for _ in range(3):
        cluster.scheduler()
    cluster.worker("w", 8)
    job = live_client(cluster).create_job(
        {
            "name": "s1",
            "executor": {"type": "shell", "script": "true"},
            "schedule": EVERY_SECOND,
            "catchup": "all",
        }
    )
    rng = random.Random(7)
    kills = leader_kills = 0
    until = time.monotonic() + 18
    # At least 18 s of slots and three leader kills, however long restarts take on a busy machine.
    while time.monotonic() < until or leader_kills < 3:
        time.sleep(rng.uniform(1.5, 3.0))
        leader = cluster.leader()
        victim = leader if kills % 2 == 0 else rng.choice(cluster.schedulers)
        index = cluster.schedulers.index(victim)
        victim.kill9()
        kills += 1
        leader_kills += victim is leader
        cluster.schedulers[index] = SchedulerProcess(cluster, index).start()
    client = live_client(cluster)
    time.sleep(LEASE + 1)  # a last failover's catch-up lands
    client.pause(job["id"])
    time.sleep(1)
    runs = all_runs(client, job["id"])
    slots = assert_each_slot_once(runs)
    assert len(slots) >= 18 and leader_kills >= 3
    wait_for(
        lambda: all(r["status"] in TERMINAL for r in all_runs(client, job["id"])),
        20,
        0.2,
        message="every slot's run to finish",
    )
    print(f"{len(slots)} slots, each once, across {kills} kills ({leader_kills} of the leader)")


def test_s2_a_frozen_leader_stops_firing_the_moment_it_wakes(cluster: Cluster) -> None:
    for _ in range(2):
        cluster.scheduler()
    cluster.worker("w", 8)
    client = live_client(cluster)
    job = client.create_job(
        {"name": "s2", "executor": {"type": "shell", "script": "true"}, "schedule": EVERY_SECOND}
    )
    leader = cluster.leader()
    other = next(s for s in cluster.schedulers if s is not leader)
    time.sleep(2.5)
    before = leader.metrics()["hydra_slot_attempts"]
    leader.signal(signal.SIGSTOP)
    assert before >= 2, "the leader was firing"
    wait_for(other.is_leader, 3 * LEASE, 0.05, message="failover")
    time.sleep(2 * LEASE)
    leader.signal(signal.SIGCONT)
    woke = leader.metrics()
    assert woke["hydra_slot_attempts"] - before <= 1  # at most the slot racing the SIGSTOP
    wait_for(lambda: not leader.is_leader(), 1, 0.02, message="old leader stepped down")
    time.sleep(3)
    after = leader.metrics()
    assert after["hydra_slot_attempts"] == woke["hydra_slot_attempts"], "stale leader fired"
    assert other.is_leader()
    client = Client(other.url, ADMIN)
    client.pause(job["id"])
    time.sleep(1)
    assert_each_slot_once(all_runs(client, job["id"]))


LOCKED = 'exec 9>"$LOCK"; flock -n 9 || { echo OVERLAP; exit 3; }; echo $$; sleep 2; echo done'


def test_s4_max_running_holds_across_worker_crashes_and_failover(
    cluster: Cluster, tmp_path: Path
) -> None:
    for _ in range(2):
        cluster.scheduler()
    workers = [cluster.worker(f"w{i}", 4) for i in range(2)]
    client = live_client(cluster)
    job = client.create_job(
        {
            "name": "s4",
            "executor": {"type": "shell", "script": LOCKED},
            "env": {"LOCK": str(tmp_path / "s4.lock")},
            "concurrency": {"max_running": 1, "overlap": "queue"},
            "retries": {"max_attempts": 3, "backoff_seconds": 0},
        }
    )
    roots = [client.trigger(job["id"])["id"] for _ in range(4)]

    def running(*, besides: str = "") -> dict[str, Any] | None:
        runs = all_runs(live_client(cluster), job["id"])
        found = [r for r in runs if r["status"] == "running" and r["id"] != besides]
        return found[0] if found else None

    # A worker crash under a running run, then the leader, then a worker again.
    first = wait_for(running, 15, 0.05, message="a run running")
    next(w for w in workers if first["worker_id"].startswith(w.name + "-")).kill9()
    cluster.worker("w2", 4)
    time.sleep(0.5)
    leader = cluster.leader()
    index = cluster.schedulers.index(leader)
    leader.kill9()
    cluster.schedulers[index] = SchedulerProcess(cluster, index).start()
    second = wait_for(lambda: running(besides=first["id"]), 20, 0.05, message="another run running")
    victim = next(w for w in cluster.workers if second["worker_id"].startswith(w.name + "-"))
    victim.kill9()
    cluster.worker("w3", 4)

    def finished() -> list[dict[str, Any]] | None:
        runs = all_runs(live_client(cluster), job["id"])
        owed = [
            r
            for r in runs
            if r["status"] == "lost" and not any(x["retry_of"] == r["id"] for x in runs)
        ]
        done = all(r["status"] in TERMINAL for r in runs) and not owed
        return runs if done and len([r for r in runs if r["status"] == "succeeded"]) == 4 else None

    runs = wait_for(finished, 60, 0.3, message="all four chains to succeed")
    client = live_client(cluster)
    for run in runs:
        assert "OVERLAP" not in client.full_log(run["id"]), "two runs held the lock at once"
    assert len([r for r in runs if r["status"] == "lost"]) >= 2
    assert {r["id"] for r in runs} >= set(roots)
    spans = sorted(
        (datetime.fromisoformat(r["started_at"]), datetime.fromisoformat(r["finished_at"]))
        for r in runs
        if r["status"] == "succeeded"
    )
    for (_, end), (start, _) in pairwise(spans):
        assert start >= end, "two successful runs of a max_running=1 job overlapped"
