"""A run's processes never outlive it, through a real server and its worker (issue 13 §2): a
daemon is killed when its run ends and counted on the run, with a per-run cgroup and with the
subreaper fallback (HYDRA_CGROUPS=false); `keep_daemons` is the job's explicit opt-out.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from hydra_jobs.client import Client
from hydra_jobs.worker import cgroups
from tests.cgroup_hosts import require_cgroups
from tests.conftest import ADMIN, Server, wait_for
from tests.procs import UpProcess

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process containment"),
]

# Double fork, the daemon with an empty environment: only the containment can know whose it is.
DAEMON = """
import os, sys
path = sys.argv[1] if len(sys.argv) > 1 else os.environ["PID_FILE"]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        fd = os.open(os.devnull, os.O_RDWR)
        for n in (0, 1, 2):
            os.dup2(fd, n)
        with open(path + ".tmp", "w") as fh:
            fh.write(str(os.getpid()))
        os.rename(path + ".tmp", path)
        os.execve("/bin/sleep", ["sleep", "300"], {})
    os._exit(0)
os.wait()
while not os.path.exists(path):
    pass
print("daemon started")
"""


def pid_file_in(tmp_path: Path) -> Path:
    """A place the job may write: not the server's data dir's parent, which a confined job may
    read but not add to (Landlock cannot allow a directory but deny its data dir entry)."""
    (tmp_path / "pids").mkdir(exist_ok=True)
    return tmp_path / "pids" / "daemon.pid"


def daemon_pid(path: Path) -> int:
    deadline = time.monotonic() + 5
    while not path.exists():
        assert time.monotonic() < deadline, "the job never started its daemon"
        time.sleep(0.01)
    return int(path.read_text())


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.mark.parametrize("cgroups", ["true", "false"])
def test_a_daemon_ends_with_its_run_and_is_counted(
    make_server: Callable[..., Server], tmp_path: Path, cgroups: str
) -> None:
    if cgroups == "true":
        require_cgroups()
    server = make_server(HYDRA_CGROUPS=cgroups)
    pid_file = pid_file_in(tmp_path)
    job = server.job("daemon", DAEMON, type="python", env={"PID_FILE": str(pid_file)})

    run = server.wait_run(server.client.trigger(job["id"])["id"])

    assert run["status"] == "succeeded", run
    pid = daemon_pid(pid_file)
    assert not alive(pid)
    assert run["resource_usage"]["processes_killed"] == 1


def test_keep_daemons_lets_a_daemon_outlive_its_run(server: Server, tmp_path: Path) -> None:
    pid_file = pid_file_in(tmp_path)
    job = server.job(
        "keeper", DAEMON, type="python", env={"PID_FILE": str(pid_file)}, keep_daemons=True
    )

    run = server.wait_run(server.client.trigger(job["id"])["id"])

    pid = daemon_pid(pid_file)
    try:
        assert run["status"] == "succeeded", run
        assert run["resource_usage"]["processes_killed"] == 0
        assert alive(pid), "the daemon of a keep_daemons job was killed"
        # A later run of another job does not take it for one of its own orphans either.
        other = server.job("other", "true")
        assert server.wait_run(server.client.trigger(other["id"])["id"])["status"] == "succeeded"
        assert alive(pid), "the next run's end killed the kept daemon"
    finally:
        os.kill(pid, signal.SIGKILL)
        with_parent = psutil.Process(pid).ppid() if psutil.pid_exists(pid) else None
        if with_parent == os.getpid():  # adopted by this process (the subreaper): reap it
            os.waitpid(pid, 0)


def test_a_stopped_worker_leaves_no_cgroup_behind(tmp_path: Path) -> None:
    require_cgroups()
    up = UpProcess(tmp_path / "data").start()
    try:
        assert up.proc is not None
        base = cgroups.own_cgroup_dir_of(up.proc.pid)
        assert base is not None
        parent = base / cgroups.parent_name(up.proc.pid)  # up shares our pid namespace
        client = Client(up.url, ADMIN)
        job = client.create_job({"name": "one", "executor": {"type": "shell", "script": "true"}})
        run = client.trigger(job["id"])
        wait_for(lambda: client.get_run(run["id"])["status"] == "succeeded", 15, message="run")
        assert parent.is_dir(), "the run got no cgroup"
        # Its guard is its own child (it is a subreaper before starting it), reaped when it quits.
        guards = [p for p in psutil.Process(up.proc.pid).children() if "-S" in p.cmdline()]
        assert len(guards) == 1, psutil.Process(up.proc.pid).children()
        client.close()
    finally:
        up.stop()  # SIGTERM: uvicorn re-raises it once shut down, so no exit handler runs
    assert not parent.exists()
    assert not guards[0].is_running(), "the stopped worker's guard is left (or a zombie)"
