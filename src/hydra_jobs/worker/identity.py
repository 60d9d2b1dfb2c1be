"""A job's identity, taken on by a thread of its own that then forks the job.

On Linux a thread's credentials (user, group, supplementary groups) and its Landlock domain are
its own: the C library's `setuid()` changes every thread of a process by signalling them all, but
the system calls change only the thread that makes them. So a job is spawned from a fresh thread
that first becomes the job (Landlock-restricted by `confine.py`, and for a root worker the job's
user from `run_as.py`, through the raw system calls), then forks and execs it. The job inherits
all of it; the thread ends; the worker's other threads keep their own identity.

Why not `Popen(user=, group=, extra_groups=)`: with those, CPython forks instead of using vfork
(a vfork child shares the parent's memory, where the C library's all-threads setuid is unsafe),
and a fork copies the page tables of the whole worker: 4-5 ms per run for a 150 MiB `up`, which
capped a root worker at about a quarter of its throughput (README, Performance).

One difference from `Popen(user=)`: the job's working directory is entered as the job's user,
not as root, so a directory the job's user cannot enter fails the spawn instead of starting a job
that cannot read where it runs.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hydra_jobs.worker.syscalls import libc

__all__ = ["THREAD_CREDENTIALS", "as_user", "in_fresh_thread"]

_T = TypeVar("_T")

# (setgroups, setresgid, setresuid) by machine: where the numbers are not known here, jobs switch
# user through Popen's fork instead.
_SYSCALLS = {"x86_64": (116, 119, 117), "aarch64": (159, 149, 147)}
THREAD_CREDENTIALS = sys.platform.startswith("linux") and platform.machine() in _SYSCALLS


def _syscall(name: str, number: int, *args: int | None) -> None:
    if libc().syscall(ctypes.c_long(number), *args) < 0:
        errno = ctypes.get_errno()
        raise PermissionError(errno, f"{name} for the job's user: {os.strerror(errno)}")


def become_user(uid: int, gid: int) -> None:
    """Make the calling thread (only) the user `uid` with group `gid` and no other groups."""
    setgroups, setresgid, setresuid = _SYSCALLS[platform.machine()]
    _syscall("setgroups", setgroups, 0, None)
    _syscall("setresgid", setresgid, gid, gid, gid)
    _syscall("setresuid", setresuid, uid, uid, uid)  # last: it gives up the right to the others
    # getuid() and friends are plain system calls, so they read this thread's credentials.
    if os.getresuid() != (uid,) * 3 or os.getresgid() != (gid,) * 3 or os.getgroups():
        raise PermissionError(f"the spawning thread did not become uid {uid}, gid {gid}")


def as_user(user: tuple[int, int], start: Callable[[], _T]) -> _T:
    """Become `user` (uid, gid) in this thread, which must be one made for it, then `start`."""
    become_user(*user)
    return start()


def in_fresh_thread(start: Callable[[], _T]) -> _T:
    """Call `start` in a new thread and hand back what it returned or raised."""
    outcome: list[tuple[bool, Any]] = []

    def body() -> None:
        try:
            outcome.append((True, start()))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append((False, exc))

    thread = threading.Thread(target=body, name="hydra-job-spawn")
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]
