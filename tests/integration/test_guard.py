"""The guard kills the job groups it was told about once the worker's end of its pipe closes.

Jobs here carry no HYDRA_WORKER_ID in their environment, so the guard can find them only through
the groups the worker registered: on the board (shared memory) or, past its slots, by pipe lines.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import psutil
import pytest

from hydra_jobs.worker import cgroups
from hydra_jobs.worker import guard as guard_module
from hydra_jobs.worker.guard import Guard
from tests.cgroup_hosts import require_cgroups

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no process groups on Windows")


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for: {what}")


@pytest.fixture
def jobs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)


def job(started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """A job leading its own group, with an environment free of any worker marker."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True, env={"PATH": os.defpath})
    started.append(proc)
    return proc


def die(guard: Guard) -> None:
    """What the kernel does when the worker dies: its end of the pipe closes, no goodbye."""
    assert guard.proc is not None and guard.proc.stdin is not None
    guard._flush()
    guard.proc.stdin.close()
    guard.proc = None
    if guard.pid is not None:  # it ends once it has killed; adopted if we are a subreaper
        threading.Thread(target=_reap_when_done, args=(guard.pid,), daemon=True).start()


def _reap_when_done(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


@pytest.mark.parametrize("slots", [guard_module.BOARD_SLOTS, 1], ids=["board", "board-full"])
def test_a_dead_workers_registered_groups_are_killed_and_removed_ones_spared(
    jobs: list[subprocess.Popen[bytes]], slots: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard_module, "BOARD_SLOTS", slots)
    guard = Guard("test-worker")
    guard.start()
    try:
        first, second, ended = job(jobs), job(jobs), job(jobs)
        for proc in (first, second, ended):
            guard.add(proc.pid)
        guard.remove(ended.pid)  # its job ended: the guard must leave that group alone
        die(guard)
        wait_until(lambda: first.poll() is not None and second.poll() is not None, 5, "kills")
        time.sleep(0.2)  # the guard has acted; give a wrong kill the time to land too
        assert ended.poll() is None, "a group removed from the guard was killed"
    finally:
        guard.close()


def test_a_freed_board_slot_serves_the_next_job(
    jobs: list[subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard_module, "BOARD_SLOTS", 1)
    guard = Guard("test-worker")
    guard.start()
    try:
        old = job(jobs)
        guard.add(old.pid)
        guard.remove(old.pid)
        new = job(jobs)
        guard.add(new.pid)  # takes the slot `old` gave back, not a pipe line
        assert guard._groups == set()
        die(guard)
        wait_until(lambda: new.poll() is not None, 5, "the new job killed")
        assert old.poll() is None
    finally:
        guard.close()


def test_a_missed_heartbeat_kills_the_board_groups(jobs: list[subprocess.Popen[bytes]]) -> None:
    guard = Guard("test-worker")
    guard.start()
    try:
        proc = job(jobs)
        guard.add(proc.pid)
        guard.arm(0.2)  # the worker is frozen: no renewal follows
        guard._flush()
        wait_until(lambda: proc.poll() is not None, 5, "the frozen worker's job killed")
    finally:
        guard.close()


def test_a_dead_workers_run_cgroups_are_killed_and_removed() -> None:
    require_cgroups()
    # A daemon that left the job's group and cleared its environment: only its cgroup finds it.
    cgroup = cgroups.RunCgroup.create()
    assert cgroup is not None
    parent = cgroups.parent_cgroup()
    assert parent is not None
    script = "setsid env -i sleep 60 >/dev/null 2>&1 & echo $!; wait"
    proc = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE, start_new_session=True)
    guard = Guard("test-worker")
    try:
        assert cgroup.adopt(proc.pid)
        assert proc.stdout is not None
        daemon = int(proc.stdout.readline())
        wait_until(lambda: daemon in cgroup.members(), 5, "the daemon in the run's cgroup")
        guard.start()
        guard.add_cgroup(str(parent))
        die(guard)
        wait_until(lambda: proc.poll() is not None, 5, "the job killed")
        wait_until(lambda: not os.path.exists(cgroup.path), 5, "the run's cgroup removed")
        wait_until(lambda: not alive(daemon), 5, "the daemon killed")
    finally:
        guard.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        cgroup.kill()
        cgroup.remove()
        with contextlib.suppress(ChildProcessError):  # adopted if this process is a subreaper
            os.waitpid(daemon, os.WNOHANG)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_a_starting_worker_kills_what_dead_workers_left_in_their_cgroups() -> None:
    # A worker killed with its guard (kill -9 of both) leaves its run cgroups; the next worker
    # of the same pid namespace kills and removes them, and leaves other namespaces' alone.
    require_cgroups()
    base = cgroups.own_cgroup_dir()
    assert base is not None
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid nobody has now
    ours = base / cgroups.parent_name(gone.pid) / "run-1"
    foreign = base / f"hydra-1-{gone.pid}" / "run-1"  # pid namespace 1: not ours to judge
    left: list[subprocess.Popen[bytes]] = []
    try:
        for run in (ours, foreign):
            run.mkdir(parents=True)
            proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
            left.append(proc)
            (run / "cgroup.procs").write_text(str(proc.pid))

        cgroups._remove_stale(base)

        wait_until(lambda: left[0].poll() is not None, 5, "the dead worker's job killed")
        assert not ours.parent.exists()
        assert left[1].poll() is None and foreign.exists()
    finally:
        for proc in left:
            proc.kill()
            proc.wait(5)
        for run in (ours, foreign):
            for path in (run, run.parent):
                with contextlib.suppress(FileNotFoundError):
                    path.rmdir()


def test_the_guard_says_what_it_is_in_ps() -> None:
    """It showed as `python -S -c` and kilobytes of inline code."""
    guard = Guard("readable-worker")
    guard.start()
    try:
        assert guard.pid is not None
        proc = psutil.Process(guard.pid)
        assert proc.name() == "hydra-guard"
        cmdline = proc.cmdline()
        assert cmdline[2].endswith("guard_process.py") and cmdline[3] == "readable-worker"
        assert len(" ".join(cmdline)) < 300
    finally:
        guard.close()
