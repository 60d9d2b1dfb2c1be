"""The README's first command: `./scripts/dev-up.sh` starts Hydra Jobs in the background,
`./scripts/dev-down.sh` stops it (here without the UI build, in a state dir of the test's)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from hydra_jobs.client import Client
from hydra_jobs.worker import landlock
from tests.conftest import TERMINAL, free_port, wait_for
from tests.procs import cli_env

ROOT = Path(__file__).resolve().parents[2]


def script(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / name)], env=env, capture_output=True, text=True, timeout=120
    )


def test_dev_up_and_dev_down(tmp_path: Path) -> None:
    state = tmp_path / "state"
    port = free_port()
    env = cli_env(HYDRA_STATE_DIR=str(state), HYDRA_PORT=str(port), HYDRA_SKIP_UI="1")
    env.pop("HYDRA_DATA_DIR", None)
    try:
        first = script("dev-up.sh", env)
        assert first.returncode == 0, first.stderr
        assert f"Hydra Jobs is up: http://127.0.0.1:{port}" in first.stdout
        assert "Admin token (shown once" in first.stdout
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        token = (state / "data" / "admin_token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/jobs", headers=headers).status_code == 200
        again = script("dev-up.sh", env)
        assert again.returncode == 0 and "already running" in again.stdout

        pid = int((state / "dev.pid").read_text())
        stopped = script("dev-down.sh", env)
        assert stopped.returncode == 0 and "Hydra Jobs stopped." in stopped.stdout
        assert not _alive(pid)

        second = script("dev-up.sh", env)  # the same data: the token is not shown again
        assert second.returncode == 0, second.stderr
        assert "Admin token (shown once" not in second.stdout
        assert "Admin token (shown once" in (state / "dev.log.1").read_text()  # kept
    finally:
        script("dev-down.sh", env)
    assert script("dev-down.sh", env).stdout.strip() == "Hydra Jobs is not running."


def test_a_job_cannot_read_the_token_dev_up_logged(tmp_path: Path) -> None:
    """dev-up's log shows the generated admin token: its state dir is hidden from jobs."""
    if landlock.abi_version() == 0:
        pytest.skip("needs Landlock")
    state = tmp_path / "state"
    port = free_port()
    env = cli_env(HYDRA_STATE_DIR=str(state), HYDRA_PORT=str(port), HYDRA_SKIP_UI="1")
    env.pop("HYDRA_DATA_DIR", None)
    try:
        assert script("dev-up.sh", env).returncode == 0
        token = (state / "data" / "admin_token").read_text().strip()
        assert token in (state / "dev.log").read_text()
        with Client(f"http://127.0.0.1:{port}", token) as client:
            reader = {"type": "shell", "script": f"cat {state}/dev.log"}
            body = {"name": "reader", "executor": reader}
            run_id = client.trigger(client.create_job(body)["id"])["id"]
            wait_for(lambda: client.get_run(run_id)["status"] in TERMINAL, 30, message="run")
            output = client.logs(run_id)["data"]
        assert token not in output and "Permission denied" in output
    finally:
        script("dev-down.sh", env)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
