"""A run lost for real (`up` killed with SIGKILL mid-run) is analysed as infrastructure."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import psutil

from hydra_jobs.client import Client
from tests.conftest import ADMIN, wait_for
from tests.procs import UpProcess


def test_a_lost_run_is_blamed_on_its_worker_not_its_code(tmp_path: Path) -> None:
    up = UpProcess(
        tmp_path / "data", HYDRA_LEASE_SECONDS="2", HYDRA_HEARTBEAT_SECONDS="0.5"
    ).start()
    try:
        client = Client(up.url, ADMIN)
        job = client.create_job(
            {"name": "long", "executor": {"type": "shell", "script": "echo $$; sleep 30"}}
        )
        run_id = client.trigger(job["id"])["id"]
        pid = int(wait_for(lambda: client.logs(run_id)["data"].strip(), 10, message="pid"))
        up.kill9()
        if psutil.pid_exists(pid):  # the worker's guard normally got there first
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        up.start()
        client = Client(up.url, ADMIN)
        wait_for(lambda: client.get_run(run_id)["status"] == "lost", 15, message="lost")
        answer = client.analyze(run_id)
        assert answer["category"] == "infrastructure" and answer["provider"] == "heuristic"
        assert "lease" in answer["summary"] and answer["evidence"] == [
            {"line": 1, "text": str(pid)}
        ]
    finally:
        up.stop()
