"""deploy/hydra-jobs-worker.service: systemd accepts it, and stopping the worker the way the unit
stops it (KillMode=mixed: SIGTERM to the main process alone, SIGKILL for leftovers only after
TimeoutStopSec) lets a running job finish. The worker runs as a real process with the unit's
ExecStart and environment (EnvironmentFile from deploy/hydra-worker.env.example, the unit's
Environment=), against a real scheduler and redis-server."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hydra_jobs.client import Client
from hydra_jobs.worker.worker import EXIT_REVOKED
from tests.cluster import Cluster, Proc
from tests.conftest import ADMIN, TERMINAL, wait_for

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "hydra-jobs-worker.service"
ENV_FILE = ROOT / "deploy" / "hydra-worker.env.example"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unit_settings(text: str) -> dict[str, list[str]]:
    """Key -> values in file order (systemd allows a key more than once)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def env_file(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )


def local_unit(tmp_path: Path, text: str) -> Path:
    """The unit with its executable and environment file at paths that exist here."""
    settings = unit_settings(text)
    exe = shlex.split(settings["ExecStart"][0])[0]
    text = text.replace(exe, str(Path(sys.executable).parent / "hydra-jobs"))
    text = text.replace(settings["EnvironmentFile"][0], str(ENV_FILE))
    path = tmp_path / UNIT.name
    path.write_text(text)
    return path


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if IN_CI:
            pytest.fail("systemd-analyze is not installed (Debian: systemd)")
        pytest.skip("SKIPPED LOUDLY: systemd-analyze is not installed")
    return subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60
    )


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    done = verify(local_unit(tmp_path, UNIT.read_text()))
    assert done.returncode == 0 and not done.stdout + done.stderr, done.stdout + done.stderr


def test_systemd_verify_reports_a_broken_unit(tmp_path: Path) -> None:
    broken = UNIT.read_text().replace("KillMode=mixed", "KillMode=drain-please")
    done = verify(local_unit(tmp_path, broken))
    assert "kill mode" in (done.stdout + done.stderr).lower()


def test_unit_restarts_and_stops_as_a_worker_needs() -> None:
    settings = unit_settings(UNIT.read_text())
    assert settings["KillMode"] == ["mixed"] and settings["KillSignal"] == ["SIGTERM"]
    assert settings["Restart"] == ["on-failure"]
    assert settings["RestartPreventExitStatus"] == [str(EXIT_REVOKED)]
    assert shlex.split(settings["ExecStart"][0])[1:] == ["worker"]
    drain, kill = 10, 5  # HYDRA_DRAIN_GRACE_SECONDS, HYDRA_KILL_GRACE_SECONDS defaults
    assert int(settings["TimeoutStopSec"][0]) > drain + kill
    assert "ADMIN_TOKEN" not in env_file(ENV_FILE)
    assert {"API_TOKEN", "WORKER_DOMAIN", "REDIS_URL"} <= set(env_file(ENV_FILE))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        c.scheduler()
        yield c
    finally:
        c.close()


def test_stopping_like_the_unit_lets_a_running_job_finish(cluster: Cluster, tmp_path: Path) -> None:
    settings = unit_settings(UNIT.read_text())
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env.update(env_file(ENV_FILE))
    env.update(dict(v.split("=", 1) for v in settings.get("Environment", [])))
    env.update(API_TOKEN=cluster.token("default"), REDIS_URL=cluster.redis_url)
    env["HYDRA_DATA_DIR"] = str(tmp_path / "state")  # StateDirectory= here
    argv = shlex.split(settings["ExecStart"][0])
    argv[0] = str(Path(sys.executable).parent / "hydra-jobs")
    worker = Proc(argv, env, tmp_path / "unit-worker.log")
    worker.spawn()
    try:
        with Client(cluster.schedulers[0].url, ADMIN) as client:

            def registered() -> bool:
                if not worker.alive():
                    raise AssertionError(f"worker exited:\n{worker.output()}")
                return bool(client.workers())

            wait_for(registered, 30, 0.05, message="the unit's worker to register")
            job = client.create_job(
                {
                    "name": "drain-me",
                    "executor": {"type": "shell", "script": "sleep 2; echo finished"},
                }
            )
            run = client.trigger(job["id"])
            wait_for(
                lambda: client.get_run(run["id"])["status"] == "running",
                15,
                0.02,
                message="the job to run",
            )
            worker.signal(signal.SIGTERM)  # KillMode=mixed: the main process alone
            assert worker.proc is not None
            worker.proc.wait(int(settings["TimeoutStopSec"][0]))
            assert worker.proc.returncode == 0, worker.output()
            done = wait_for(
                lambda: (r := client.get_run(run["id"]))["status"] in TERMINAL and r,
                15,
                0.05,
                message="the run to end",
            )
            assert done["status"] == "succeeded", done
            assert "finished" in client.full_log(run["id"])
    finally:
        worker.stop()
