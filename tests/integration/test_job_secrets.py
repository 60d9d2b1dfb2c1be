"""A job cannot read the secrets of the processes that run it (issue 13, section 1).

Real `hydra-jobs up` and `hydra-jobs worker` processes get their secrets from the environment, as
users start them; a real job then reads `/proc/$PPID/environ` and prints what it found. The
secrets must be in neither the job's view nor the process's environment block as the test (root)
reads it, and the process that holds them is non-dumpable.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from hydra_jobs.client import Client
from hydra_jobs.worker import landlock
from tests.cluster import Cluster
from tests.conftest import ADMIN, TERMINAL, wait_for
from tests.procs import UpProcess

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

NOBODY = pwd.getpwnam("nobody")
REDIS_PASSWORD = "redis-secret-" + "p" * 24
OPENAI_KEY = "sk-test-" + "k" * 40
# Prints the parent's pid, then its environment one variable a line (or why it could not).
READ_PARENT = 'echo "ppid=$PPID"; tr "\\0" "\\n" < /proc/$PPID/environ; echo "read=$?"'


def run_job(client: Client, script: str) -> tuple[dict[str, object], str]:
    job = client.create_job({"name": "snoop", "executor": {"type": "shell", "script": script}})
    run = client.trigger(job["id"])
    final = wait_for(
        lambda: (r := client.get_run(run["id"]))["status"] in TERMINAL and r,
        30,
        message="the job's run to end",
    )
    return final, client.logs(run["id"])["data"]


def environ_of(pid: int) -> str:
    return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")


@pytest.fixture
def up(tmp_path: Path) -> Iterator[UpProcess]:
    proc = UpProcess(tmp_path / "data", OPENAI_API_KEY=OPENAI_KEY).start()
    yield proc
    proc.stop()


def test_a_job_of_up_finds_no_secret_in_its_parents_environment(up: UpProcess) -> None:
    assert up.proc is not None
    with Client(up.url, ADMIN) as client:
        run, output = run_job(client, READ_PARENT)
    assert run["status"] == "succeeded", output
    assert f"ppid={up.proc.pid}" in output  # the job's parent is the `up` process itself
    assert "read=0" in output and "HYDRA_" in output  # it did read the environment block
    for secret in (ADMIN, OPENAI_KEY):
        assert secret not in output
        assert secret not in environ_of(up.proc.pid)  # nor does root, reading it directly
    assert "ADMIN_TOKEN" not in output and "OPENAI_API_KEY" not in output


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    # A Redis user with a password, so that REDIS_URL carries a secret as it does in production.
    acl = ("on", f">{REDIS_PASSWORD}", "~*", "&*", "+@all")
    c.redis_server.command("ACL", "SETUSER", "hydra", *acl)
    host = c.redis_url.removeprefix("redis://")
    c.redis_url = f"redis://hydra:{REDIS_PASSWORD}@{host}"
    yield c
    c.close()


def test_a_job_of_a_worker_finds_no_secret_in_its_parents_environment(cluster: Cluster) -> None:
    cluster.scheduler()
    token = cluster.token("default")
    worker = cluster.worker("snooped", 1, API_TOKEN=token, GEMINI_API_KEY=OPENAI_KEY)
    run, output = run_job(cluster.client(), READ_PARENT)
    assert run["status"] == "succeeded", output
    assert f"ppid={worker.pid}" in output  # the job's parent is the worker process itself
    assert "read=0" in output and "HYDRA_" in output
    for secret in (token, REDIS_PASSWORD, OPENAI_KEY):
        assert secret not in output
        assert secret not in environ_of(worker.pid)
    assert "REDIS_URL" not in output and "API_TOKEN" not in output


AS_NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
# `up` started as nobody runs its jobs as nobody: the suite's HYDRA_RUN_AS=root (conftest) would
# make it refuse to start (a worker that is not root cannot run jobs as root).


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A directory the user nobody owns (pytest's tmp_path is private to root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start `up` as the user nobody")
    path = Path(tempfile.mkdtemp(prefix="hydra-nobody-"))
    (path / "data").mkdir()
    for owned in (path, path / "data"):
        os.chown(owned, NOBODY.pw_uid, NOBODY.pw_gid)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_up_as_a_plain_user_is_not_readable_by_its_jobs(nobody_dir: Path) -> None:
    """As a non-root user the job runs as the same user as `up`: only non-dumpability keeps it
    from reading `up`'s /proc files (environment, memory, descriptors)."""
    # With its guard: the guard is the running interpreter (/proc/self/exe), as the re-exec
    # is, not sys.executable, which links into /root/.pyenv here (closed to nobody: the guard
    # could not start, and the embedded worker stopped without a word).
    env = {"OPENAI_API_KEY": OPENAI_KEY, "HYDRA_RUN_AS": ""}
    up = UpProcess(nobody_dir / "data", runner=AS_NOBODY, **env)
    up.log = nobody_dir / "up.log"
    try:
        up.start()
        assert up.proc is not None
        pid = up.proc.pid
        assert _status_field(pid, "Uid") == str(NOBODY.pw_uid)
        # Non-dumpable: the kernel gives the process's /proc files to root.
        assert os.stat(f"/proc/{pid}/environ").st_uid == 0
        with Client(up.url, ADMIN) as client:
            run, output = run_job(client, READ_PARENT + '; tr "\\0" " " < /proc/$PPID/cmdline')
        assert run["status"] == "succeeded", output
        assert f"ppid={pid}" in output and "Permission denied" in output
        guards = [c for c in psutil.Process(pid).children() if c.name() == "hydra-guard"]
        assert len(guards) == 1 and guards[0].uids().real == NOBODY.pw_uid
        assert "hydra-jobs up" in output  # the job does see its parent (cmdline is public) ...
        for secret in (ADMIN, OPENAI_KEY):  # ... but no secret, in cmdline or anywhere
            assert secret not in output
            assert secret not in environ_of(pid)
    finally:
        up.stop()


@pytest.mark.parametrize("confine", ["off", "required"])
def test_up_as_a_plain_user_keeps_its_files_and_its_users_processes_from_jobs_when_confined(
    nobody_dir: Path, confine: str
) -> None:
    """A job runs as the same user as `up`, so file modes cannot protect the data dir from it,
    nor can they protect the environment of the user's other processes (the shell that started
    `up` with its secrets exported): only Landlock does. HYDRA_CONFINE=off shows both gaps."""
    if confine == "required" and landlock.abi_version() == 0:
        pytest.skip("needs Landlock")
    data = nobody_dir / "data"
    env = {"HYDRA_WORKER_GUARD": "false", "HYDRA_CONFINE": confine, "HYDRA_RUN_AS": ""}
    up = UpProcess(data, runner=AS_NOBODY, **env)
    up.log = nobody_dir / "up.log"
    del up.env["ADMIN_TOKEN"]  # up generates it and stores it in the data dir
    shell_secret = "exported-in-the-shell-" + "s" * 16
    shell = subprocess.Popen([*AS_NOBODY, "env", f"REDIS_URL={shell_secret}", "sleep", "120"])
    try:
        up.start()
        token = (data / "admin_token").read_text().strip()
        script = 'cat "$DATA/admin_token"; echo $?; tr "\\0" "\\n" < /proc/$SHELL_PID/environ'
        with Client(up.url, token) as client:
            job = client.create_job(
                {
                    "name": "thief",
                    "executor": {"type": "shell", "script": script},
                    "env": {"DATA": str(data), "SHELL_PID": str(shell.pid)},
                }
            )
            run = client.trigger(job["id"])
            wait_for(lambda: client.get_run(run["id"])["status"] in TERMINAL, 30, message="run")
            output = client.logs(run["id"])["data"]
        if confine == "off":
            assert token in output and shell_secret in output  # the gaps Landlock closes
        else:
            assert token not in output and shell_secret not in output
            assert output.count("Permission denied") == 2
    finally:
        up.stop()
        shell.kill()
        shell.wait()


def _status_field(pid: int, name: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].split()[0]
    raise AssertionError(f"no {name} in /proc/{pid}/status")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory everyone may enter, as a home or project directory usually is."""
    path = Path(tempfile.mkdtemp(prefix="hydra-open-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_up_keeps_its_data_dir_token_and_database_to_its_user(open_dir: Path) -> None:
    data = open_dir / "data"
    data.mkdir(mode=0o755)  # as an older version, or the operator, left it
    up = UpProcess(data)
    del up.env["ADMIN_TOKEN"]  # so that up generates and stores one
    try:
        up.start()
        token = (data / "admin_token").read_text().strip()
        with Client(up.url, token) as client:
            run, _ = run_job(client, "true")  # the database has been written to
        assert run["status"] == "succeeded"
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        stored = [p for p in data.iterdir() if p.name.startswith(("hydra.db", "admin_token"))]
        assert {p.name for p in stored} >= {"hydra.db", "admin_token"}
        for path in stored:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        if os.geteuid() == 0:  # another user cannot read them
            for path in stored:
                denied = subprocess.run([*AS_NOBODY, "cat", str(path)], capture_output=True)
                assert denied.returncode != 0 and b"Permission denied" in denied.stderr
    finally:
        up.stop()
