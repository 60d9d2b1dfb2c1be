"""Distributed mode end to end: `hydra-jobs scheduler` and `worker` processes on a real Redis.

The CLI's guard rails, worker registration, remote and SIGTERM drains, `up` with REDIS_URL, and
what replicas tell each other (job changes, dispatch wake-ups, live events on every replica).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hydra_jobs.client import Client
from tests.cluster import Cluster, all_runs
from tests.conftest import ADMIN, wait_for
from tests.procs import HYDRA, UpProcess, cli_env
from tests.redis_server import RedisServer


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    yield c
    c.close()


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HYDRA, *args], env=cli_env(**env), capture_output=True, text=True, timeout=30
    )


def test_scheduler_refuses_to_start_without_redis_or_a_strong_admin_token(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    data = str(tmp_path)
    no_redis = run_cli("scheduler", ADMIN_TOKEN=ADMIN, HYDRA_DATA_DIR=data)
    assert no_redis.returncode == 1 and "REDIS_URL is required" in no_redis.stderr
    for token in ({}, {"ADMIN_TOKEN": "short-token"}):
        weak = run_cli("scheduler", REDIS_URL=redis_server.url, HYDRA_DATA_DIR=data, **token)
        assert weak.returncode == 1 and "at least 32 characters" in weak.stderr


def test_worker_needs_a_domain_token(redis_server: RedisServer) -> None:
    bare = run_cli("worker", REDIS_URL=redis_server.url)
    assert bare.returncode == 1 and "API_TOKEN is required" in bare.stderr
    shaped_wrong = run_cli("worker", REDIS_URL=redis_server.url, API_TOKEN="tok-secret")
    assert shaped_wrong.returncode == 1
    assert "not a Hydra Jobs domain token" in shaped_wrong.stderr
    assert "tok-secret" not in shaped_wrong.stderr


def test_workers_register_and_a_remote_drain_finishes_then_exits(cluster: Cluster) -> None:
    cluster.scheduler()
    worker = cluster.worker("fleet", 2, HYDRA_WORKER_TAGS="os=linux,gpu=none")
    client = cluster.client()
    [info] = wait_for(client.workers, 10, message="registered")
    assert info["name"] == "fleet" and info["platform"] == "linux"
    assert info["tags"] == {"os": "linux", "gpu": "none"} and info["concurrency"] == 2
    assert {"shell", "python"} <= set(info["executors"]) and info["hostname"] and info["version"]
    job = client.create_job(
        {"name": "drained", "executor": {"type": "shell", "script": "sleep 1.5; echo done"}}
    )
    first = client.trigger(job["id"])["id"]
    wait_for(lambda: client.get_run(first)["status"] == "running", 10, message="running")
    response = httpx.post(
        f"{cluster.schedulers[0].url}/api/v1/workers/{info['id']}/drain",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert response.status_code == 202
    time.sleep(0.5)
    second = client.trigger(job["id"])["id"]
    assert worker.proc is not None
    assert worker.proc.wait(15) == 0, "a drained worker exits once its runs are done"
    assert client.get_run(first)["status"] == "succeeded"
    assert client.get_run(second)["status"] == "queued", "a draining worker takes nothing new"
    cluster.worker("next", 2)
    wait_for(lambda: client.get_run(second)["status"] == "succeeded", 15, message="picked up")


def test_sigterm_drains_within_the_grace_period_then_stops_the_rest(cluster: Cluster) -> None:
    cluster.scheduler()
    worker = cluster.worker("leaving", 4, HYDRA_DRAIN_GRACE_SECONDS="1.5")
    client = cluster.client()
    short = client.create_job(
        {"name": "short", "executor": {"type": "shell", "script": "sleep 0.5"}}
    )
    script = 'if [ "$HYDRA_ATTEMPT" = 1 ]; then sleep 60; fi; echo second'
    long = client.create_job(
        {
            "name": "long",
            "executor": {"type": "shell", "script": script},
            "retries": {"max_attempts": 2, "backoff_seconds": 0},
        }
    )
    quick_run = client.trigger(short["id"])["id"]
    long_run = client.trigger(long["id"])["id"]
    wait_for(
        lambda: {client.get_run(r)["status"] for r in (quick_run, long_run)} == {"running"},
        10,
        message="both running",
    )
    worker.signal(signal.SIGTERM)
    assert worker.proc is not None
    assert worker.proc.wait(10) == 0
    assert client.get_run(quick_run)["status"] == "succeeded"
    stopped = wait_for(
        lambda: (r := client.get_run(long_run))["status"] == "lost" and r, 5, message="lost"
    )
    assert "shut down" in stopped["error"]
    cluster.worker("next", 2)

    def retried() -> dict[str, Any] | None:
        runs = [r for r in all_runs(client, long["id"]) if r["retry_of"] == long_run]
        return runs[0] if runs and runs[0]["status"] == "succeeded" else None

    wait_for(retried, 15, message="the stopped run retried elsewhere")


def test_up_with_redis_url_runs_on_redis_and_outside_workers_join(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    redis_server.flush()
    up = UpProcess(tmp_path / "data", REDIS_URL=redis_server.url, HYDRA_CONCURRENCY="1")
    up.start()
    token = Client(up.url, ADMIN).create_token("default", "outside", "operator")["token"]
    outside = subprocess.Popen(
        [HYDRA, "worker", "--name", "outside", "--concurrency", "4"],
        env=cli_env(REDIS_URL=redis_server.url, API_TOKEN=token),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = Client(up.url, ADMIN)
        wait_for(lambda: len(client.workers()) == 2, 15, message="both workers registered")
        job = client.create_job({"name": "j", "executor": {"type": "shell", "script": "sleep 1"}})
        ids = [r["id"] for r in client.trigger_batch(job["id"], [{}] * 8)]
        wait_for(lambda: all(client.get_run(r)["status"] == "succeeded" for r in ids), 20, 0.2)
        names = {client.get_run(r)["worker_id"].rsplit("-", 1)[0] for r in ids}
        assert "outside" in names and len(names) == 2
        assert redis_server.command("EXISTS", "hydra:boot") == "1"
        client.close()
    finally:
        outside.terminate()
        outside.wait(15)
        up.stop()


def _leader_and_follower(cluster: Cluster) -> tuple[Any, Any]:
    leader = cluster.leader()
    return leader, next(s for s in cluster.schedulers if s is not leader)


def test_replicas_relay_job_changes_dispatch_wakeups_and_live_events(cluster: Cluster) -> None:
    for _ in range(2):
        cluster.scheduler()
    cluster.worker("w", 4)
    leader, follower = _leader_and_follower(cluster)
    client = Client(follower.url, ADMIN)
    seen: list[dict[str, Any]] = []
    ready = threading.Event()
    sse = Client(follower.url, ADMIN)

    def listen() -> None:
        with contextlib.suppress(Exception):  # the test closes the stream under it
            for event, _id, data in sse.stream("/events", timeout=30):
                if event == "ready":
                    ready.set()
                elif event == "run":
                    seen.append(data["run"])

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        _relays(cluster, client, seen, ready)
    finally:
        sse.close()
        listener.join(5)
    assert leader.is_leader()


def _relays(
    cluster: Cluster, client: Client, seen: list[dict[str, Any]], ready: threading.Event
) -> None:
    assert ready.wait(10)
    # Created on the follower: the leader's ticker learns at once (its resync is 30 s away).
    ticking = client.create_job(
        {
            "name": "ticking",
            "executor": {"type": "shell", "script": "true"},
            "schedule": {"interval_seconds": 1},
        }
    )
    created = time.monotonic()
    wait_for(lambda: all_runs(client, ticking["id"]), 5, 0.05, message="first fire")
    assert time.monotonic() - created < 3
    client.pause(ticking["id"])
    time.sleep(1.5)
    fired = len(all_runs(client, ticking["id"]))
    time.sleep(2)
    assert len(all_runs(client, ticking["id"])) == fired, "the pause reached the leader"
    # A capped run goes `pending`: the follower wakes the leader's dispatcher (else 5 s recheck).
    capped = client.create_job(
        {
            "name": "capped",
            # Long enough that `running` is published before `succeeded`: the two halves of a
            # run that ends at once may be ingested by different replicas, and the hub drops
            # the one that arrives second and would move the run backwards.
            "executor": {"type": "shell", "script": "sleep 0.2"},
            "concurrency": {"max_running": 1},
        }
    )
    time.sleep(1)
    asked = time.monotonic()
    run = client.trigger(capped["id"])
    assert run["status"] == "pending"
    wait_for(lambda: client.get_run(run["id"])["status"] == "succeeded", 5, 0.02)
    assert time.monotonic() - asked < 2
    # The follower's SSE clients saw every step, whichever replica ingested it.
    wait_for(
        lambda: [r["status"] for r in seen if r["id"] == run["id"]][-1:] == ["succeeded"],
        5,
        message="succeeded on the follower's stream",
    )
    steps = [r["status"] for r in seen if r["id"] == run["id"]]
    assert steps[0] == "pending" and "running" in steps


def test_each_domain_has_its_own_workers(cluster: Cluster) -> None:
    """A domain's runs go to that domain's workers only; each holds just its own token."""
    scheduler = cluster.scheduler()
    cluster.worker("plain", 2)
    cluster.worker("opsw", 2, WORKER_DOMAIN="ops")
    ops = httpx.Client(
        base_url=scheduler.url + "/api/v1",
        headers={"Authorization": f"Bearer {ADMIN}", "X-Hydra-Domain": "ops"},
    )
    script = 'echo "$HYDRA_DOMAIN"'
    job = ops.post("/jobs", json={"name": "o", "executor": {"type": "shell", "script": script}})
    runs = [ops.post(f"/jobs/{job.json()['id']}/run", json={}).json()["id"] for _ in range(6)]

    def done() -> list[dict[str, Any]] | None:
        got = [ops.get(f"/runs/{r}").json() for r in runs]
        return got if all(r["status"] == "succeeded" for r in got) else None

    for run in wait_for(done, 15, 0.1, message="ops runs"):
        assert run["worker_id"].startswith("opsw-")
        assert ops.get(f"/runs/{run['id']}/logs").json()["data"] == "ops\n"
    ops.close()


def test_quick_runs_of_a_confined_worker_keep_their_exit_status(cluster: Cluster) -> None:
    """A confined job is forked by a thread of its own, whose children the kernel hands to the
    worker's main thread when that thread ends: there they looked like adopted orphans, and the
    sweep at another run's end reaped a quick job's zombie before its own run could read its
    status ('worker error: No such process'; found by test_each_domain_has_its_own_workers)."""
    cluster.scheduler()
    cluster.worker("quick", 2)
    client = cluster.client()
    job = client.create_job({"name": "q", "executor": {"type": "shell", "script": "exit 3"}})
    runs = [r["id"] for r in client.trigger_batch(job["id"], [{}] * 24)]

    def ended() -> list[dict[str, Any]] | None:
        got = [client.get_run(r) for r in runs]
        return got if all(r["status"] not in ("queued", "running") for r in got) else None

    final = wait_for(ended, 60, 0.1, message="the runs to end")
    assert {(r["status"], r["exit_code"]) for r in final} == {("failed", 3)}, [
        r["error"] for r in final if r["exit_code"] != 3
    ]
