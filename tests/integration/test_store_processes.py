"""`hydra-jobs up` and `hydra-jobs scheduler` as real processes on PostgreSQL.

Each test gets an empty database on the local server, so the processes run the migrations
themselves, and checks rows with direct queries, so the data is known to live in PostgreSQL and
not in a process. Locally a missing server skips with the reason; under `CI=true` it fails.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.client import Client
from tests.cluster import Cluster, SchedulerProcess, all_runs
from tests.conftest import ADMIN, TERMINAL, wait_for
from tests.contract.backends import PgDatabases, run_sync
from tests.procs import UpProcess

pytestmark = pytest.mark.postgres

EVERY_SECOND = {"cron": "* * * * * *"}
STOPPED = {0, -signal.SIGTERM}  # a clean SIGTERM shutdown (uvicorn re-raises the signal)


@pytest.fixture
def pg_url(pg_databases: PgDatabases) -> str:
    """A fresh PostgreSQL database with no tables yet."""
    pg_databases.template()  # skips (locally) or fails (CI=true) here when the server is down
    return run_sync(pg_databases.empty)


def pg_rows(url: str, query: str, *args: object) -> list[dict[str, Any]]:
    """Rows of a direct query on the database the processes use, bypassing Hydra Jobs."""
    import asyncpg

    async def fetch() -> list[dict[str, Any]]:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return run_sync(fetch)


# hydra-jobs up ---------------------------------------------------------------------------------


def test_up_on_postgresql_runs_jobs_and_keeps_them_across_a_restart(
    pg_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    up = UpProcess(data_dir, DATABASE_URL=pg_url).start()
    try:
        spec = tmp_path / "job.json"
        body = {"name": "pg-job", "executor": {"type": "shell", "script": "echo in-postgres"}}
        spec.write_text(json.dumps(body))
        submitted = up.cli("submit", str(spec))
        assert submitted.returncode == 0, submitted.stderr
        followed = up.cli("run", "pg-job", "-f")  # the CLI waits for the run's end
        assert followed.returncode == 0, followed.stderr
        assert followed.stdout.endswith("\nin-postgres\n") and "succeeded" in followed.stderr
        with Client(up.url, ADMIN) as client:
            job = client.find_job("pg-job")
            assert job is not None
            second = client.trigger(job["id"])["id"]
            wait_for(
                lambda: client.get_run(second)["status"] == "succeeded", 15, message="second run"
            )
            before = {r["id"]: r for r in all_runs(client, job["id"])}
    finally:
        up.stop()
    assert up.proc is not None and up.proc.returncode in STOPPED, up.log.read_text()

    # In PostgreSQL, not in a SQLite file of the data dir.
    assert not (data_dir / "hydra.db").exists()
    [row] = pg_rows(pg_url, "SELECT id, name, domain FROM jobs")
    assert (row["id"], row["name"], row["domain"]) == (job["id"], "pg-job", "default")
    stored = pg_rows(pg_url, "SELECT id, status FROM runs WHERE job_id = $1", job["id"])
    assert {r["id"]: r["status"] for r in stored} == dict.fromkeys(before, "succeeded")
    logs = pg_rows(pg_url, "SELECT data FROM log_chunks WHERE run_id = $1", second)
    assert "".join(r["data"] for r in logs) == "in-postgres\n"

    again = UpProcess(data_dir, DATABASE_URL=pg_url).start()
    try:
        with Client(again.url, ADMIN) as client:
            assert client.get_job(job["id"])["name"] == "pg-job"
            after = {r["id"]: r for r in all_runs(client, job["id"])}
            assert after == before, "the run history survived the restart"
            assert client.logs(second)["data"] == "in-postgres\n"
            third = client.trigger(job["id"])["id"]
            wait_for(
                lambda: client.get_run(third)["status"] == "succeeded", 15, message="third run"
            )
        listed = again.cli("runs", "--job", "pg-job")
        assert listed.returncode == 0 and all(r in listed.stdout for r in (*before, third))
    finally:
        again.stop()
    count = pg_rows(pg_url, "SELECT count(*) AS n FROM runs WHERE status = 'succeeded'")
    assert count == [{"n": 3}]


# hydra-jobs scheduler --------------------------------------------------------------------------


@pytest.fixture
def pg_cluster(tmp_path: Path, pg_url: str) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, database_url=pg_url)
    yield cluster
    cluster.close()
    # Shown by pytest only when the test failed: what every process logged, last lines first.
    for proc in [*cluster.schedulers, *cluster.workers]:
        print(f"----- {proc.log.name} -----", *proc.output().splitlines()[-25:], sep="\n")


def _follower(cluster: Cluster, leader: SchedulerProcess) -> SchedulerProcess:
    return next(s for s in cluster.schedulers if s is not leader)


def _restart(cluster: Cluster, *procs: SchedulerProcess) -> None:
    """Stop the replicas (SIGTERM), all of them, then start each again on its data dir."""
    for proc in procs:
        proc.stop()
        assert proc.proc is not None and proc.proc.returncode in STOPPED, proc.output()
    for proc in procs:
        index = cluster.schedulers.index(proc)
        cluster.schedulers[index] = SchedulerProcess(cluster, index).start()


def _live_client(cluster: Cluster) -> Client:
    return Client(next(s for s in cluster.schedulers if s.alive()).url, ADMIN)


def test_two_scheduler_replicas_on_postgresql_with_one_leader_run_jobs(
    pg_cluster: Cluster,
) -> None:
    for _ in range(2):
        pg_cluster.scheduler()
    pg_cluster.worker("pgw", 4)
    leader = pg_cluster.leader()
    follower = _follower(pg_cluster, leader)
    assert not follower.is_leader()
    assert leader.metrics()["hydra_is_leader"] + follower.metrics()["hydra_is_leader"] == 1

    with Client(follower.url, ADMIN) as client:
        job = client.create_job(
            {"name": "hello", "executor": {"type": "shell", "script": "echo hello-$HYDRA_DOMAIN"}}
        )
        ids = [r["id"] for r in client.trigger_batch(job["id"], [{}] * 6)]
        wait_for(
            lambda: all(client.get_run(r)["status"] == "succeeded" for r in ids),
            20,
            0.1,
            message="every run succeeded",
        )
        assert {client.full_log(r) for r in ids} == {"hello-default\n"}
        assert all(client.get_run(r)["worker_id"].startswith("pgw-") for r in ids)

    rows = pg_rows(pg_cluster.database_url, "SELECT status FROM runs WHERE job_id = $1", job["id"])
    assert [r["status"] for r in rows] == ["succeeded"] * 6
    tokens = pg_rows(pg_cluster.database_url, "SELECT domain FROM tokens WHERE revoked_at IS NULL")
    assert tokens == [{"domain": "default"}], "the worker's token is stored in PostgreSQL"


def _slots(runs: list[dict[str, Any]]) -> list[datetime]:
    return sorted(datetime.fromisoformat(r["scheduled_for"]) for r in runs if r["scheduled_for"])


def _fired_at_least(cluster: Cluster, job_id: str, n: int) -> list[dict[str, Any]] | None:
    with _live_client(cluster) as client:
        runs = all_runs(client, job_id)
    return runs if len(_slots(runs)) >= n else None


def test_cron_slots_fire_once_across_replicas_and_survive_scheduler_restarts(
    pg_cluster: Cluster,
) -> None:
    for _ in range(2):
        pg_cluster.scheduler()
    pg_cluster.worker("pgw", 8)
    leader = pg_cluster.leader()
    follower = _follower(pg_cluster, leader)
    with Client(follower.url, ADMIN) as client:
        job = client.create_job(
            {
                "name": "tick",
                "executor": {"type": "shell", "script": "true"},
                "schedule": EVERY_SECOND,
                "catchup": "all",
            }
        )
        once = client.create_job({"name": "once", "executor": {"type": "shell", "script": "true"}})
        manual = client.trigger(once["id"])["id"]
    fired = len(_slots(wait_for(lambda: _fired_at_least(pg_cluster, job["id"], 3), 15, 0.1)))
    assert follower.metrics()["hydra_slot_attempts"] == 0, "only the leader fires slots"
    assert leader.metrics()["hydra_slot_attempts"] >= fired

    # The leader restarts: the other replica takes over and the schedule goes on.
    _restart(pg_cluster, leader)
    pg_cluster.leader()
    fired = len(_slots(wait_for(lambda: _fired_at_least(pg_cluster, job["id"], fired + 3), 20)))

    # Every replica down at once: what they knew is kept in PostgreSQL (and Redis) only.
    with _live_client(pg_cluster) as client:
        done_before = {r["id"]: r["status"] for r in all_runs(client) if r["status"] in TERMINAL}
    _restart(pg_cluster, *pg_cluster.schedulers)
    pg_cluster.leader()
    wait_for(lambda: _fired_at_least(pg_cluster, job["id"], fired + 3), 20, 0.1)

    with _live_client(pg_cluster) as client:
        client.pause(job["id"])
        runs = wait_for(
            lambda: (rs := all_runs(client)) and all(r["status"] in TERMINAL for r in rs) and rs,
            20,
            0.2,
            message="every run to end",
        )
        assert client.get_run(manual)["status"] == "succeeded"
        assert {d["name"]: d["tokens"] for d in client.list_domains()} == {"default": 1}
    by_id = {r["id"]: r["status"] for r in runs}
    assert {i: by_id.get(i) for i in done_before} == done_before, "history kept across restarts"
    ticks = [r for r in runs if r["job_id"] == job["id"]]
    assert {r["status"] for r in ticks} == {"succeeded"}
    slots = _slots(ticks)
    assert len(slots) == len(ticks) == len(set(slots)), "a slot fired twice"
    gaps = [(a, b) for a, b in pairwise(slots) if b - a != timedelta(seconds=1)]
    assert not gaps, f"slots missed between {gaps[:3]} (catchup is 'all')"

    # The database agrees: one row per slot, as many rows as the API shows.
    url = pg_cluster.database_url
    twice = pg_rows(
        url,
        "SELECT scheduled_for FROM runs WHERE job_id = $1 GROUP BY scheduled_for"
        " HAVING count(*) > 1",
        job["id"],
    )
    assert twice == []
    stored = pg_rows(url, "SELECT count(*) AS n FROM runs WHERE job_id = $1", job["id"])
    assert stored == [{"n": len(ticks)}]
