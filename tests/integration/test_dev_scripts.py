"""The README's first command: `./scripts/dev-up.sh` starts Hydra Jobs in the background,
`./scripts/dev-down.sh` stops it (here without the UI build, in a state dir of the test's); and
`dev-up.sh --distributed`, the full local stack as separate processes."""

from __future__ import annotations

import http.server
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from hydra_jobs.client import Client
from hydra_jobs.worker import containment, landlock
from tests.cluster import pid_alive
from tests.conftest import TERMINAL, free_port, wait_for
from tests.procs import cli_env
from tests.redis_server import require_redis

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("redis", "scheduler", "worker")  # what --distributed starts, each with a pid file


def dev_env(
    tmp_path: Path, port: int | None = None, **extra: str
) -> tuple[Path, int, dict[str, str]]:
    """A state dir of the test's own, a free port (or `port`), no UI build, no data dir given:
    the state dir, the port, and the environment for the scripts."""
    state, port = tmp_path / "state", port or free_port()
    env = cli_env(HYDRA_STATE_DIR=str(state), HYDRA_PORT=str(port), HYDRA_SKIP_UI="1", **extra)
    env.pop("HYDRA_DATA_DIR", None)
    return state, port, env


def script(name: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / name), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_dev_up_and_dev_down(tmp_path: Path) -> None:
    state, port, env = dev_env(tmp_path)
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
        assert again.returncode == 0, again.stderr
        assert f"already running at http://127.0.0.1:{port} (pid" in again.stdout
        same = script("dev-up.sh", {**env, "HYDRA_DATA_DIR": str(state / "data")})  # the default
        assert same.returncode == 0 and not same.stderr, same.stderr

        pid = int((state / "dev.pid").read_text())
        stopped = script("dev-down.sh", env)
        assert stopped.returncode == 0 and "Hydra Jobs stopped." in stopped.stdout
        assert "stopping:" not in stopped.stdout  # no run was running: nothing to wait for
        assert not pid_alive(pid)

        second = script("dev-up.sh", env)  # the same data: the token is not shown again
        assert second.returncode == 0, second.stderr
        assert "Admin token (shown once" not in second.stdout
        assert "Admin token (shown once" in (state / "dev.log.1").read_text()  # kept
    finally:
        script("dev-down.sh", env)
    assert script("dev-down.sh", env).stdout.strip() == "Hydra Jobs is not running."


def test_dev_up_asked_for_other_settings_than_the_running_ones_says_they_were_not_applied(
    tmp_path: Path,
) -> None:
    """`HYDRA_PORT=8001 ./scripts/dev-up.sh` beside a running one said "already running" and
    exited 0: the user then met "connection refused" on 8001."""
    state, port, env = dev_env(tmp_path)
    try:
        assert script("dev-up.sh", env).returncode == 0
        pid = int((state / "dev.pid").read_text())
        other = free_port()
        asked = script("dev-up.sh", {**env, "HYDRA_PORT": str(other), "HYDRA_CONCURRENCY": "3"})
        assert asked.returncode == 1, asked.stdout
        assert f"already running at http://127.0.0.1:{port} (pid {pid})" in asked.stdout
        assert "NOT applied: HYDRA_CONCURRENCY HYDRA_PORT" in asked.stderr, asked.stderr
        assert "./scripts/dev-down.sh first" in asked.stderr
        distributed = script("dev-up.sh", env, "--distributed")
        assert distributed.returncode == 1 and "NOT applied: --distributed" in distributed.stderr
        assert int((state / "dev.pid").read_text()) == pid and pid_alive(pid)  # left as it was
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{other}/healthz")
    finally:
        script("dev-down.sh", env)


def test_dev_down_says_what_becomes_of_running_runs(tmp_path: Path) -> None:
    """dev-down waited the drain grace in silence, then the runs still running ended lost."""
    state, port, env = dev_env(tmp_path, HYDRA_DRAIN_GRACE_SECONDS="1")
    try:
        assert script("dev-up.sh", env).returncode == 0
        url = f"http://127.0.0.1:{port}"
        with Client(url, (state / "data" / "admin_token").read_text().strip()) as client:
            job = client.create_job(
                {"name": "long", "executor": {"type": "shell", "script": "sleep 300"}}
            )
            run_id = client.trigger(job["id"])["id"]
            wait_for(lambda: client.get_run(run_id)["status"] == "running", 30, message="running")

        stopped = script("dev-down.sh", {**env, "HYDRA_DRAIN_GRACE_SECONDS": "7"})  # not up's

        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.splitlines() == [
            "stopping: running runs (1) get up to 1 s to finish (HYDRA_DRAIN_GRACE_SECONDS); "
            "what is still running then is marked lost",
            "Hydra Jobs stopped.",
        ]
        assert script("dev-up.sh", env).returncode == 0
        with Client(url, (state / "data" / "admin_token").read_text().strip()) as client:
            wait_for(
                lambda: client.get_run(run_id)["status"] == "lost", 30, message="lost, as said"
            )
    finally:
        script("dev-down.sh", env)


def test_a_job_cannot_read_the_token_dev_up_logged(tmp_path: Path) -> None:
    """dev-up's log shows the generated admin token: its state dir is hidden from jobs."""
    if landlock.abi_version() == 0:
        pytest.skip("needs Landlock")
    state, port, env = dev_env(tmp_path)
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


def _distributed_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = cli_env(
        HYDRA_STATE_DIR=str(tmp_path / "state"),
        HYDRA_PORT=str(free_port()),
        HYDRA_REDIS_PORT=str(free_port()),
        HYDRA_SKIP_UI="1",
        HYDRA_KILL_GRACE_SECONDS="1",
        HYDRA_DRAIN_GRACE_SECONDS="2",
        **extra,
    )
    env.pop("HYDRA_DATA_DIR", None)
    return env


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.deploy
def test_dev_up_distributed_runs_a_job_and_dev_down_stops_everything(tmp_path: Path) -> None:
    require_redis()
    env = _distributed_env(tmp_path)
    state = tmp_path / "state"
    port = env["HYDRA_PORT"]
    try:
        up = script("dev-up.sh", env, "--distributed")
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"Hydra Jobs is up (distributed): http://127.0.0.1:{port}" in up.stdout
        assert "Admin token (shown once" in up.stdout
        pids = {name: int((state / f"{name}.pid").read_text()) for name in PARTS}
        assert len(set(pids.values())) == 3 and all(pid_alive(p) for p in pids.values())
        assert "redis-server" in _cmdline(pids["redis"])
        assert "hydra-jobs scheduler" in _cmdline(pids["scheduler"])
        assert "hydra-jobs worker" in _cmdline(pids["worker"])
        worker_env = Path(f"/proc/{pids['worker']}/environ").read_bytes().split(b"\0")
        # The worker re-execs itself without its secrets: its API_TOKEN is not in its block.
        assert not any(v.startswith((b"ADMIN_TOKEN=", b"API_TOKEN=")) for v in worker_env)
        for name in PARTS:
            assert (state / f"{name}.log").is_file()

        token = (state / "data" / "admin_token").read_text().strip()
        with Client(f"http://127.0.0.1:{port}", token) as client:
            job = client.create_job(
                {"name": "dev-dist", "executor": {"type": "shell", "script": "echo dist-ok"}}
            )
            run = client.trigger(job["id"])
            done = wait_for(
                lambda: (r := client.get_run(run["id"]))["status"] in TERMINAL and r,
                30,
                0.05,
                message="the run to end",
            )
            assert done["status"] == "succeeded", done
            assert done["worker_id"].startswith("dev-worker-")
            # It authenticated with a domain token of its own (its block shows none now).
            names = [t["name"] for t in client.list_tokens("default")]
            assert "dev-worker" in names and (state / "data" / "dev_worker_token").is_file()
            assert "dist-ok" in client.full_log(run["id"])
        again = script("dev-up.sh", env)
        assert again.returncode == 0, again.stderr
        assert f"already running at http://127.0.0.1:{port} (pid" in again.stdout

        stopped = script("dev-down.sh", env)
        assert stopped.returncode == 0 and "Hydra Jobs stopped." in stopped.stdout, stopped
        assert not any(pid_alive(p) for p in pids.values())
        assert not list(state.glob("*.pid"))
        # It drained and said so (SIGTERM), rather than being killed.
        assert f"worker {done['worker_id']} stopped" in (state / "worker.log").read_text()
    finally:
        script("dev-down.sh", env)
    assert script("dev-down.sh", env).stdout.strip() == "Hydra Jobs is not running."


@pytest.mark.deploy
def test_dev_up_distributed_without_redis_says_how_to_install_it(tmp_path: Path) -> None:
    env = _distributed_env(tmp_path, HYDRA_REDIS_SERVER=str(tmp_path / "no-redis-server"))
    up = script("dev-up.sh", env, "--distributed")
    assert up.returncode == 1
    assert "needs redis-server" in up.stderr and "apt-get install redis-server" in up.stderr
    assert not list((tmp_path / "state").glob("*.pid"))


def test_dev_up_on_a_port_another_server_holds_says_so_and_starts_nothing(tmp_path: Path) -> None:
    """Another server answering /healthz on the port made dev-up print "Hydra Jobs is up" and
    point the CLI at a new token while its own `up` had died with "Address already in use"."""
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysHealthy)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    state, port, env = dev_env(tmp_path, port=other.server_address[1])
    try:
        done = script("dev-up.sh", env)
        assert done.returncode == 1, done.stdout
        assert "Hydra Jobs is up" not in done.stdout
        assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
        assert "HYDRA_PORT=" in done.stderr
        assert not (state / "dev.pid").exists()
    finally:
        other.shutdown()
        other.server_close()
        script("dev-down.sh", env)


class _AlwaysHealthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args: object) -> None:
        pass


def test_dev_down_under_a_parent_that_does_not_reap(tmp_path: Path) -> None:
    """Under a parent that does not collect what it adopts (a child subreaper such as this test
    process once an embedded worker ran in it; PID 1 of this machine, some containers' PID 1), a
    stopped `up` stays a zombie: `kill -0` still succeeded, so dev-down waited 30 s and said it
    had killed it."""
    assert containment.ensure_subreaper()
    state, _, env = dev_env(tmp_path)
    pid = 0
    try:
        assert script("dev-up.sh", env).returncode == 0
        pid = int((state / "dev.pid").read_text())
        assert psutil.Process(pid).ppid() == os.getpid()  # adopted: ours to reap, or a zombie
        started = time.monotonic()
        stopped = script("dev-down.sh", env)
        assert stopped.stdout.strip() == "Hydra Jobs stopped.", stopped.stdout
        assert time.monotonic() - started < 20
        assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        again = script("dev-up.sh", env)  # a zombie's pid file is not "already running"
        assert "already running" not in again.stdout, again.stdout
    finally:
        script("dev-down.sh", env)
        for child in psutil.Process().children():  # collect what we adopted
            if child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, 0)
