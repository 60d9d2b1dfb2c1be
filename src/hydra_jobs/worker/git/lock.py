"""An exclusive lock per cached repository, between runs and between worker processes.

Two runs of the same repository must not fetch into one mirror at once (git would fail on its
own ref locks, or a clone could read a half-updated mirror). A lock file held with `flock`
(POSIX) or `msvcrt.locking` (Windows) covers runs in this worker and other workers sharing the
cache directory; the OS drops it if the process dies, so a crash never leaves it held. Waiting
polls without blocking the event loop and gives up on the run's deadline or cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from hydra_jobs.git_errors import GitCancelled, GitTimeout
from hydra_jobs.worker.git.command import Deadline

__all__ = ["lock_now", "repo_lock", "unlock_and_close"]

LOCK_POLL_SECONDS = 0.05  # how often a waiter retries; git operations take far longer


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            # flock, not lockf: flock locks belong to the open file, so two runs in this
            # process exclude each other too (lockf locks belong to the process).
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def lock_now(path: Path) -> int | None:
    """Open and lock `path` without waiting: the open file, or None if someone holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if _try_lock(fd):
        return fd
    os.close(fd)
    return None


def unlock_and_close(fd: int) -> None:
    with contextlib.suppress(OSError):
        _unlock(fd)
    os.close(fd)


@contextlib.asynccontextmanager
async def repo_lock(path: Path, deadline: Deadline, cancel: asyncio.Event) -> AsyncIterator[None]:
    """Hold the lock file at `path` for the duration of the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while not _try_lock(fd):
            if cancel.is_set():
                raise GitCancelled("the run was cancelled while waiting for the repository cache")
            try:
                wait = min(LOCK_POLL_SECONDS, deadline.remaining())
            except GitTimeout:
                raise GitTimeout(
                    "another run kept this repository's cache locked for longer than "
                    f"the {deadline.seconds:g}s allowed"
                ) from None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await cancel.wait()
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
