"""Routing by worker tags with real workers: a run whose job requires tags no online worker has
stays queued, says why (on the run and the job), and starts once such a worker comes online;
the other runs flow meanwhile. Embedded (in-process broker, or Redis under HYDRA_TEST_BROKER)
and distributed (`hydra-jobs scheduler` and `worker` processes on a real redis-server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hydra_jobs.client import Client
from hydra_jobs.worker.worker import Worker, WorkerConfig
from tests.cluster import Cluster
from tests.conftest import Server, wait_for

WAITING = "no online worker in domain default has"


def job_named(client: Client, name: str) -> dict[str, object]:
    [job] = [j for j in client.list_jobs(search=name)["items"] if j["name"] == name]
    return job


def test_embedded_a_run_waits_for_a_worker_with_its_tags_then_runs_there(
    make_server: Callable[..., Server],
) -> None:
    server = make_server(HYDRA_WORKER_TAGS="os=linux,zone=eu")
    client = server.client
    win = server.job("win", "echo on windows", requires={"os": "windows", "gpu": True})
    linux = server.job("lin", "echo on linux", requires={"os": "linux", "zone": ["eu", "us"]})
    plain = server.job("plain", "echo anywhere")
    waiting = client.trigger(win["id"])["id"]
    for job in (linux, plain):
        done = server.wait_run(client.trigger(job["id"])["id"])
        assert done["status"] == "succeeded", done
    # Both later runs are done on the embedded worker; the first one has not moved.
    run = client.get_run(waiting)
    assert run["status"] == "queued" and run["worker_id"] is None
    assert run["waiting_reason"].startswith(WAITING), run["waiting_reason"]
    assert job_named(client, "win")["waiting_reason"].startswith(WAITING)
    assert job_named(client, "lin")["waiting_reason"] is None
    assert client.get_run(done["id"])["waiting_reason"] is None

    engine = server.app.state.engine
    loop = engine._tasks[0].get_loop()
    config = WorkerConfig(
        domain="default",
        all_domains=True,
        tags={"os": "windows", "gpu": "true"},
        name="windows-box",
        guard=False,
        heartbeat_interval_seconds=0.5,
    )
    windows = Worker(engine.rt.broker, config)
    task = asyncio.run_coroutine_threadsafe(windows.run(), loop)
    try:
        finished = server.wait_run(waiting, timeout=30)
        assert finished["status"] == "succeeded" and finished["worker_id"] == windows.id
        assert finished["waiting_reason"] is None
        assert wait_for(lambda: job_named(client, "win")["waiting_reason"] is None, 10)
    finally:
        loop.call_soon_threadsafe(windows.stop)
        task.result(30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    yield c
    c.close()


def test_distributed_a_run_waits_for_a_worker_with_its_tags_then_runs_there(
    cluster: Cluster,
) -> None:
    cluster.scheduler()
    cluster.worker("linux", 2, HYDRA_WORKER_TAGS="os=linux")
    client = cluster.client()
    wait_for(lambda: client.workers(), 10, message="the linux worker reported")
    win = client.create_job(
        {
            "name": "win",
            "executor": {"type": "shell", "script": "echo win"},
            "requires": {"os": ["windows"], "gpu": True},
        }
    )
    plain = client.create_job({"name": "plain", "executor": {"type": "shell", "script": "true"}})
    waiting = [client.trigger(win["id"])["id"] for _ in range(3)]
    others = [client.trigger(plain["id"])["id"] for _ in range(4)]
    for run_id in others:
        done = wait_for(lambda r=run_id: client.get_run(r)["status"] == "succeeded", 30)
        assert done
    time.sleep(1.5)  # several claim rounds of the linux worker
    for run_id in waiting:
        run = client.get_run(run_id)
        assert run["status"] == "queued", run
        assert run["waiting_reason"] == f"{WAITING} gpu=true" or run["waiting_reason"] == (
            f"{WAITING} os=windows"
        )
    windows = cluster.worker("windows", 2, HYDRA_WORKER_TAGS="os=windows,gpu")
    for run_id in waiting:
        wait_for(lambda r=run_id: client.get_run(r)["status"] == "succeeded", 30, message=run_id)
    ran_on = {client.get_run(r)["worker_id"] for r in waiting}
    assert len(ran_on) == 1 and next(iter(ran_on)).startswith("windows-"), ran_on
    assert windows.alive()
