"""Worker faults in distributed mode: real worker processes, real kill -9, SIGSTOP, a cut proxy.

D1 kill (also between dequeue and start), D3 stale worker after SIGSTOP, D4 self-fencing when cut
from Redis, D5 long jobs not redelivered, D6 poison runs, P7 job trees die with their worker.
Leases are 2 s here (FAST in tests/cluster.py), sweeps every 0.5 s.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any

from hydra_jobs.client import Client
from tests.cgroup_hosts import require_cgroups
from tests.cluster import Cluster, WorkerProcess, all_runs, pid_alive
from tests.conftest import wait_for
from tests.procs import cli_env
from tests.tcp_proxy import TcpProxy

LEASE = 2.0
SWEEP = 0.5
RETRY = {"max_attempts": 3, "backoff_seconds": 0}


def status_is(client: Client, run_id: str, *statuses: str) -> dict[str, Any] | None:
    run = client.get_run(run_id)
    return run if run["status"] in statuses else None


def retry_of(client: Client, job_id: str, run_id: str) -> dict[str, Any] | None:
    return next((r for r in all_runs(client, job_id) if r["retry_of"] == run_id), None)


def pids_in_log(client: Client, run_id: str, count: int) -> list[int]:
    def read() -> list[int] | None:
        words = client.logs(run_id)["data"].split()
        pids = [int(w) for w in words if w.isdigit()]
        return pids if len(pids) >= count else None

    return list(wait_for(read, 15, 0.05, message="job pids in its log"))


def test_d1_killed_worker_run_is_lost_then_retried_elsewhere(cluster: Cluster) -> None:
    cluster.scheduler()
    doomed = cluster.worker("doomed", 2)
    client = cluster.client()
    job = client.create_job(
        {
            "name": "d1",
            "executor": {"type": "shell", "script": "echo started; sleep 8; echo done"},
            "retries": RETRY,
        }
    )
    run = client.trigger(job["id"])
    wait_for(lambda: "started" in client.logs(run["id"])["data"], 15, message="run started")
    # Kill first, then start the spare: starting a worker can take longer than the job on a
    # loaded machine, and a job that already ended is not lost.
    killed = time.time()
    doomed.kill9()
    cluster.worker("spare", 2)
    lost = wait_for(lambda: status_is(client, run["id"], "lost"), 15, message="lost")
    # From the run's own record: the spare's start-up above is not part of the reaper's delay.
    lost_after = (
        datetime.fromisoformat(lost["finished_at"].replace("Z", "+00:00")).timestamp() - killed
    )
    assert "lease" in lost["error"]
    assert lost_after < LEASE + SWEEP + 1.5, f"lost only {lost_after:.1f}s after the kill"
    retry = wait_for(lambda: retry_of(client, job["id"], run["id"]), 10, message="retry")
    done = wait_for(lambda: status_is(client, retry["id"], "succeeded"), 30, message="retry ok")
    assert done["attempt"] == 2 and done["worker_id"].startswith("spare-")
    print(f"kill -9 to lost: {lost_after:.2f}s")


GHOST = """
import asyncio, sys
from hydra_jobs.broker.redis.broker import RedisBroker
from hydra_jobs.worker.credentials import WorkerCredentials, worker_keys

async def main():
    keys = worker_keys(sys.argv[2], "default")
    broker = RedisBroker(sys.argv[1], keys)
    await broker.start()
    await WorkerCredentials(broker, keys).establish(10.0)
    await broker.renew_worker_lease("ghost-1", 2.0)
    got = await broker.claim("default", ["default"], "ghost-1", 1, 30.0)
    print("claimed", got[0].run_id, flush=True)
    while True:  # alive, holding the delivery, never starting it
        await broker.renew_worker_lease("ghost-1", 2.0)
        await asyncio.sleep(0.3)

asyncio.run(main())
"""


def test_d1_kill_between_dequeue_and_start_loses_nothing(cluster: Cluster) -> None:
    """A process that claimed a delivery (through the real broker code) dies before starting it."""
    cluster.scheduler()
    client = cluster.client()
    job = client.create_job({"name": "d1b", "executor": {"type": "shell", "script": "echo ran"}})
    ghost = subprocess.Popen(
        [sys.executable, "-c", GHOST, cluster.redis_url, cluster.token("default")],
        stdout=subprocess.PIPE,
        env=cli_env(),
        text=True,
    )
    try:
        run = client.trigger(job["id"])
        assert ghost.stdout is not None
        assert ghost.stdout.readline().split() == ["claimed", run["id"]]
        time.sleep(1.0)
        assert client.get_run(run["id"])["status"] == "queued"
        ghost.kill()  # SIGKILL between dequeue and start
        ghost.wait(5)
    finally:
        if ghost.poll() is None:
            ghost.kill()
            ghost.wait(5)
        if ghost.stdout is not None:
            ghost.stdout.close()
    killed = time.monotonic()
    cluster.worker("rescuer", 2)
    done = wait_for(lambda: status_is(client, run["id"], "succeeded"), 20, message="redelivered")
    assert done["attempt"] == 1 and done["worker_id"].startswith("rescuer-")
    assert client.full_log(run["id"]) == "ran\n"
    assert time.monotonic() - killed < LEASE + SWEEP + 5
    assert len(all_runs(client, job["id"])) == 1


def test_d5_long_job_is_never_redelivered_while_running(cluster: Cluster) -> None:
    cluster.scheduler()
    cluster.worker("a", 2)
    cluster.worker("b", 2)
    client = cluster.client()
    script = 'echo "start $HYDRA_WORKER_ID"; sleep 7; echo end'
    job = client.create_job({"name": "d5", "executor": {"type": "shell", "script": script}})
    run = client.trigger(job["id"])
    done = wait_for(lambda: status_is(client, run["id"], "succeeded"), 30, 0.2, message="done")
    out = client.full_log(run["id"])
    assert out.count("start ") == 1 and out.endswith("end\n"), out
    assert (done["attempt"], len(all_runs(client, job["id"]))) == (1, 1)
    # 3.5 leases long: the lease was renewed, nobody else ever got the delivery.
    assert cluster.redis().xlen("hydra:q:default:default") == 0


TREE = "sleep 999 & echo $!; setsid sleep 998 & echo $!; echo $$; wait"


def test_p7_a_killed_workers_job_tree_dies_with_it(cluster: Cluster) -> None:
    cluster.scheduler()
    doomed = cluster.worker("doomed", 2)
    client = cluster.client()
    job = client.create_job(
        {"name": "p7", "executor": {"type": "shell", "script": TREE}, "retries": RETRY}
    )
    run = client.trigger(job["id"])
    pids = pids_in_log(client, run["id"], 3)  # a child, an escaped (setsid) child, the shell
    assert all(pid_alive(p) for p in pids)
    cluster.worker("spare", 2)
    doomed.kill9()
    killed = time.monotonic()
    wait_for(lambda: not any(pid_alive(p) for p in pids), 2, 0.01, message="tree dead")
    dead_after = time.monotonic() - killed
    retry = wait_for(lambda: retry_of(client, job["id"], run["id"]), 15, message="retry")
    assert dead_after < LEASE, "the job tree outlived the lease: its retry could overlap it"
    retry_pids = pids_in_log(client, retry["id"], 3)
    assert not set(retry_pids) & set(pids)
    client.cancel(retry["id"])
    print(f"job tree dead {dead_after * 1000:.0f} ms after the worker's kill -9")


# A daemon with no environment, outside the job's group and session: only the run's cgroup finds
# it once its worker is gone (the guard kills the worker's parent cgroup of runs).
DAEMON = "setsid env -i sleep 300 >/dev/null 2>&1 & echo $!; echo $$; wait"


def test_p7_a_killed_workers_daemon_without_environment_dies_with_it(cluster: Cluster) -> None:
    require_cgroups()
    cluster.scheduler()
    doomed = cluster.worker("doomed", 2)
    client = cluster.client()
    job = client.create_job({"name": "p7d", "executor": {"type": "shell", "script": DAEMON}})
    run = client.trigger(job["id"])
    pids = pids_in_log(client, run["id"], 2)  # the daemon, the shell
    assert all(pid_alive(p) for p in pids)
    doomed.kill9()
    wait_for(lambda: not any(pid_alive(p) for p in pids), 2, 0.01, message="daemon dead")


def test_d3_worker_frozen_past_its_lease_leaves_one_terminal_state(cluster: Cluster) -> None:
    """SIGSTOP a worker past its lease, let another take over, SIGCONT: one terminal state."""
    cluster.scheduler()
    frozen = cluster.worker("frozen", 2)
    client = cluster.client()
    script = "echo $$; sleep 5; echo finished"
    job = client.create_job(
        {"name": "d3", "executor": {"type": "shell", "script": script}, "retries": RETRY}
    )
    run = client.trigger(job["id"])
    [pid] = pids_in_log(client, run["id"], 1)
    cluster.worker("other", 2)
    frozen.signal(signal.SIGSTOP)
    stopped = time.monotonic()
    # The guard kills the job just before the lease could lapse (the worker cannot).
    wait_for(lambda: not pid_alive(pid), LEASE, 0.01, message="frozen worker's job killed")
    assert time.monotonic() - stopped < LEASE
    wait_for(lambda: status_is(client, run["id"], "lost"), 10, message="declared lost")
    retry = wait_for(lambda: retry_of(client, job["id"], run["id"]), 10, message="retry")
    wait_for(lambda: status_is(client, retry["id"], "running"), 10, message="retry running")
    frozen.signal(signal.SIGCONT)
    done = wait_for(lambda: status_is(client, retry["id"], "succeeded"), 20, message="retry ok")
    time.sleep(1.5)  # the thawed worker reports on its stale attempt: refused
    first = client.get_run(run["id"])
    assert first["status"] == "lost" and first["finished_at"] < done["started_at"]
    assert done["worker_id"].startswith("other-")
    assert "finished" not in client.logs(run["id"])["data"]
    assert frozen.alive(), "the thawed worker carries on"


def test_d4_worker_cut_from_redis_kills_its_jobs_before_its_lease_expires(
    cluster: Cluster,
) -> None:
    proxy = TcpProxy(cluster.redis_server.port).start()
    try:
        cluster.scheduler()
        cut_off = cluster.worker("cut", 2, REDIS_URL=proxy.url)
        client = cluster.client()
        script = 'echo $$; if [ "$HYDRA_ATTEMPT" = 1 ]; then sleep 60; fi; echo ok'
        job = client.create_job(
            {"name": "d4", "executor": {"type": "shell", "script": script}, "retries": RETRY}
        )
        run = client.trigger(job["id"])
        [pid] = pids_in_log(client, run["id"], 1)
        proxy.blackhole()  # no error, no reply: only the worker's own clock can tell
        cut = time.monotonic()
        wait_for(lambda: not pid_alive(pid), LEASE + 1, 0.01, message="job stopped")
        stopped_after = time.monotonic() - cut
        assert stopped_after < LEASE, f"job still ran {stopped_after:.2f}s after the cut"
        lost = wait_for(lambda: status_is(client, run["id"], "lost"), 10, message="lost")
        proxy.restore()
        retry = wait_for(lambda: retry_of(client, job["id"], run["id"]), 10, message="retry")
        done = wait_for(lambda: status_is(client, retry["id"], "succeeded"), 20, message="ok")
        assert done["worker_id"].startswith("cut-"), "the worker came back and took work again"
        assert lost["status"] == "lost" and cut_off.alive()
        print(f"job stopped {stopped_after:.2f}s after the cut (lease {LEASE}s)")
    finally:
        proxy.close()


def test_d6_a_run_that_kills_its_worker_is_failed_as_poison(cluster: Cluster) -> None:
    """A run whose worker dies each time it runs it (here the test kills the worker as soon as
    the run starts: a confined job may not signal its worker, which is the point of confining
    it) is failed as poison on the third death, in one step, and retried no more."""
    cluster.scheduler()
    for i in range(2):
        cluster.worker(f"w{i}", 2)
    client = cluster.client()
    killer = client.create_job(
        {
            "name": "killer",
            "executor": {"type": "shell", "script": "echo started; sleep 30"},
            "retries": {"max_attempts": 10, "backoff_seconds": 0},
        }
    )
    stop = threading.Event()

    def supervise() -> None:  # kill the worker running a killer run; restart dead workers
        while not stop.is_set():
            doomed = {
                r["worker_id"]
                for r in all_runs(client, killer["id"])
                if r["status"] == "running" and r["worker_id"]
            }
            for i, proc in enumerate(list(cluster.workers)):
                if proc.alive() and doomed & set(proc.worker_ids()):
                    proc.kill9()
                if not proc.alive():
                    cluster.workers[i] = WorkerProcess(cluster, f"{proc.name}x", 2).start(
                        wait=False
                    )
            time.sleep(0.1)

    supervisor = threading.Thread(target=supervise, daemon=True)
    supervisor.start()
    try:
        fine = client.create_job({"name": "fine", "executor": {"type": "shell", "script": "true"}})
        client.trigger(killer["id"])
        fine_runs = []
        deadline = time.monotonic() + 40

        def poisoned() -> list[dict[str, Any]] | None:
            if time.monotonic() < deadline and len(fine_runs) < 60:
                fine_runs.append(client.trigger(fine["id"])["id"])
            runs = all_runs(client, killer["id"])
            return runs if any(r["status"] == "failed" for r in runs) else None

        runs = sorted(wait_for(poisoned, 40, 0.3, message="poison"), key=lambda r: r["attempt"])
        assert [r["status"] for r in runs] == ["lost", "lost", "failed"]
        assert "poison" in runs[-1]["error"]
        time.sleep(2 * LEASE)
        assert len(all_runs(client, killer["id"])) == 3, "no retry after the poison verdict"
        outcomes = {client.get_run(r)["status"] for r in fine_runs[:-5]}
        assert outcomes == {"succeeded"}, "other runs kept flowing"
    finally:
        stop.set()
        supervisor.join(5)
