"""Distributed mode: two `hydra-jobs scheduler` processes on a real Redis and a real worker; the
leader is killed while deliveries are pending, and the new leader delivers them: once per dedup
key to a receiver that de-duplicates, at least once to one that does not (N1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster
from tests.conftest import wait_for
from tests.receivers import HttpReceiver

NOTIFY_ENV = {"HYDRA_NOTIFY_RETRY_SECONDS": "0.3", "HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS": "true"}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, **NOTIFY_ENV)
    yield c
    c.close()


def test_a_leader_change_with_deliveries_pending(cluster: Cluster) -> None:
    dedup, plain = HttpReceiver(dedup=True, failing=True), HttpReceiver(failing=True)
    try:
        cluster.scheduler()
        cluster.scheduler()
        cluster.worker("w", 4)
        client = cluster.client(0)
        client.create_channel({"name": "dedup", "type": "webhook", "url": dedup.url})
        client.create_channel({"name": "plain", "type": "webhook", "url": plain.url})
        job = client.create_job(
            {
                "name": "broken",
                "executor": {"type": "shell", "script": "exit 1"},
                "notify": [
                    {"channel": "dedup", "on": ["failed"]},
                    {"channel": "plain", "on": ["failed"]},
                ],
            }
        )
        runs = {client.trigger(job["id"])["id"] for _ in range(3)}
        wait_for(
            lambda: (
                len(d := client.deliveries(job_id=job["id"])) == 6
                and all(x["attempts"] >= 1 for x in d)
            ),
            40,
            0.1,
            message="six deliveries tried",
        )
        old = cluster.leader()
        old.kill9()
        dedup.failing = plain.failing = False
        survivor = next(s for s in cluster.schedulers if s is not old)
        client = cluster.client(cluster.schedulers.index(survivor))
        wait_for(survivor.is_leader, 20, 0.1, message="the survivor leads")
        sent = wait_for(
            lambda: (
                (d := client.deliveries(job_id=job["id"]))
                and all(x["status"] == "sent" for x in d)
                and d
            ),
            60,
            0.2,
            message="every delivery sent by the new leader",
        )
        assert {d["run_id"] for d in sent} == runs and len(sent) == 6
        keys = {
            ch: {d["dedup_key"] for d in sent if d["channel"] == ch} for ch in ("dedup", "plain")
        }
        # Once per dedup key where the receiver de-duplicates ...
        accepted = [r.headers["X-Hydra-Delivery"] for r in dedup.accepted]
        assert sorted(accepted) == sorted(keys["dedup"])
        # ... at least once where it does not.
        delivered = {r.headers["X-Hydra-Delivery"] for r in plain.requests if r.answered == 200}
        assert delivered == keys["plain"]
        print(f"duplicates dropped by the de-duplicating receiver: {dedup.duplicates}")
    finally:
        dedup.close()
        plain.close()


def test_a_run_lost_with_its_killed_worker_alerts_lost(cluster: Cluster) -> None:
    """The `lost` event from a real loss: the worker running the job is killed with SIGKILL."""
    receiver = HttpReceiver()
    try:
        cluster.scheduler()
        doomed = cluster.worker("doomed", 2)
        client = cluster.client()
        client.create_channel({"name": "ops", "type": "webhook", "url": receiver.url})
        job = client.create_job(
            {
                "name": "fragile",
                "executor": {"type": "shell", "script": "echo started; sleep 30"},
                "notify": [{"channel": "ops", "on": ["lost", "failed"]}],
            }
        )
        run = client.trigger(job["id"])
        wait_for(lambda: "started" in client.logs(run["id"])["data"], 20, message="run started")
        doomed.kill9()
        wait_for(lambda: client.get_run(run["id"])["status"] == "lost", 20, 0.1, message="run lost")
        got = wait_for(
            lambda: [r.json() for r in receiver.accepted], 20, 0.1, message="alert delivered"
        )
        assert [(p["event"], p["run"]["id"], p["run"]["status"]) for p in got] == [
            ("lost", run["id"], "lost")
        ]
    finally:
        receiver.close()
