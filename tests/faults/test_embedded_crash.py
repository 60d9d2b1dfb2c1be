"""Faults in embedded mode: `hydra-jobs up` killed with SIGKILL and started again.

S4: a job's `max_running` holds across the crash: the run that was running is reconciled (lost,
then retried per policy) before any other run of the job starts. Queued runs survive the restart.
"""

from __future__ import annotations

import contextlib
import os
import signal
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import psutil

from hydra_jobs.client import Client
from tests.conftest import ADMIN, wait_for
from tests.procs import UpProcess


def test_max_running_holds_across_a_crash_and_runs_are_reconciled(tmp_path: Path) -> None:
    up = UpProcess(
        tmp_path / "data", HYDRA_LEASE_SECONDS="2", HYDRA_HEARTBEAT_SECONDS="0.5"
    ).start()
    client = Client(up.url, ADMIN)
    job = client.create_job(
        {
            "name": "serial",
            "executor": {"type": "shell", "script": "echo $$; sleep 3"},
            "concurrency": {"max_running": 1, "overlap": "queue"},
            "retries": {"max_attempts": 2, "backoff_seconds": 0},
        }
    )
    runs = [client.trigger(job["id"])["id"] for _ in range(3)]
    wait_for(lambda: client.get_run(runs[0])["status"] == "running", 10, message="first run")
    pid = int(wait_for(lambda: client.logs(runs[0])["data"].strip(), 5, message="pid"))
    up.kill9()
    # The worker's guard kills the job's tree when `up` dies (P7 in docs/reliability.md); if it
    # is still on its way, end it like an operator would. It may be gone by the time we look.
    if psutil.pid_exists(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

    up.start()
    client = Client(up.url, ADMIN)
    first = wait_for(
        lambda: (r := client.get_run(runs[0]))["status"] == "lost" and r,
        15,
        message="the crashed run to be reconciled as lost",
    )
    assert "lease" in first["error"]

    def all_done() -> list[dict[str, object]] | None:
        items = client.list_runs(job_id=job["id"], limit=50)["items"]
        if len(items) == 4 and all(r["status"] in {"succeeded", "lost"} for r in items):
            return items
        return None

    items = wait_for(all_done, 40, interval=0.2, message="every run to finish")
    retry = [r for r in items if r["retry_of"] == runs[0]]
    assert len(retry) == 1 and retry[0]["status"] == "succeeded" and retry[0]["attempt"] == 2
    started = sorted(
        (
            datetime.fromisoformat(str(r["started_at"])),
            datetime.fromisoformat(str(r["finished_at"])),
        )
        for r in items
        if r["status"] == "succeeded"
    )
    for (_, end), (start, _) in pairwise(started):
        assert start >= end, "two runs of a max_running=1 job overlapped"
    lost_end = datetime.fromisoformat(str(first["finished_at"]))
    assert all(start >= lost_end for start, _ in started), "a run started before reconciliation"
    client.close()
    up.stop()
