"""The rest of a job's tree: finding its descendants, group members and the processes that hold its
output pipe, signalling them, and waiting until they are gone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterable
from typing import Any

import psutil

from hydra_jobs.worker.process import support
from hydra_jobs.worker.process.support import WINDOWS, set_result

log = logging.getLogger(__name__)

EXIT_POLL_INTERVAL_SECONDS = 0.02


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def group_exists(pgid: int) -> bool:
    if WINDOWS:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_members(pgid: int) -> list[psutil.Process]:
    """Live members of a process group; zombies are dead and only wait for their parent."""
    if WINDOWS:
        return []
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
    return members


def pipe_holders(fd: int) -> list[psutil.Process]:
    """Other processes holding the pipe `fd` belongs to; finds escapees that left the group."""
    if not sys.platform.startswith("linux"):
        return []
    target = f"pipe:[{os.fstat(fd).st_ino}]"
    holders = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError, psutil.Error):  # gone, or not ours to inspect
            fd_dir = f"/proc/{entry.name}/fd"
            if any(_readlink(f"{fd_dir}/{name}") == target for name in os.listdir(fd_dir)):
                holders.append(psutil.Process(int(entry.name)))
    return holders


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:  # the descriptor was closed while we looked
        return None


def processes(pids: Iterable[int]) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    return procs


def done_future() -> asyncio.Future[None]:
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    fut.set_result(None)
    return fut


def is_alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_gone_blocking(procs: list[psutil.Process], timeout: float) -> None:
    """Error path only: SIGKILL is delivered asynchronously, so wait (briefly) until it landed."""
    deadline = time.monotonic() + timeout
    while procs := [p for p in procs if is_alive(p)]:
        if time.monotonic() >= deadline:
            log.error("processes %s survived SIGKILL", [p.pid for p in procs])
            return
        time.sleep(0.001)


def signal_procs(procs: Iterable[psutil.Process], hard: bool) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # psutil refuses pids that were reused
            if hard:
                proc.kill()
            elif not WINDOWS:  # on Windows terminate() is already a hard kill
                proc.terminate()


async def wait_exited(
    procs: list[psutil.Process], also: asyncio.Future[Any], timeout: float
) -> bool:
    """Wait until `also` is done and every process in `procs` has exited; False on timeout."""
    if support.pidfd_supported():
        return await _wait_exited_pidfd(procs, also, timeout)
    deadline = time.monotonic() + timeout
    while not (also.done() and not any(is_alive(p) for p in procs)):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(EXIT_POLL_INTERVAL_SECONDS)
    return True


async def _wait_exited_pidfd(
    procs: list[psutil.Process], also: asyncio.Future[Any], timeout: float
) -> bool:
    loop = asyncio.get_running_loop()
    waits: list[asyncio.Future[Any]] = [also]
    fds: list[int] = []
    try:
        for proc in procs:
            try:
                fd = os.pidfd_open(proc.pid)
            except ProcessLookupError:
                continue
            fds.append(fd)
            if proc.is_running():  # the pidfd is for our process, not a later one with its pid
                fut = loop.create_future()
                loop.add_reader(fd, _on_pidfd_readable, loop, fd, fut)
                waits.append(fut)
        _, pending = await asyncio.wait(waits, timeout=timeout)
        return not pending
    finally:
        for fd in fds:
            loop.remove_reader(fd)
            os.close(fd)


def _on_pidfd_readable(loop: asyncio.AbstractEventLoop, fd: int, fut: asyncio.Future[Any]) -> None:
    loop.remove_reader(fd)
    set_result(fut)
