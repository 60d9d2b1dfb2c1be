"""Each run's private directory: its TMPDIR and its #! script file, removed when the run ends.

The shared /tmp lets every job read what another left there; a run space is reachable only by
its own run: by file mode when jobs run as another user than the worker (HYDRA_RUN_AS: the space
is theirs, 0700, in a root directory they may pass through but not list), and by Landlock
(`confine.py`) when they run as the worker's own user.

A space is marked in use by a lock (flock) on the directory itself while its run lasts, so a
worker starting after another was killed removes the spaces nobody holds, and never one of a
live worker sharing the directory.

Where the disk is fast, a space is made, and removed when the job left nothing in it, on the
event loop: a handful of system calls, ~0.1 ms here, against ~0.4 ms of CPU per run for the hop
to a thread and back when the worker is busy (`bench/throughput.py`). On a slow disk (one
machine's ext4 with discard took 1-3 ms per mkdir or rmdir), found by timing a few at start or
by a few slow calls later, they stay off the loop. What a job left behind, of any size, is
always removed off the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import statistics
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

from hydra_jobs.private_files import passable_dir, private_dir
from hydra_jobs.worker.run_as import RunAs, give_to

__all__ = ["RunSpaces", "lock_dir"]

log = logging.getLogger(__name__)

SPACE_PREFIX = "hydra-run-"
RESERVE_ATTEMPTS = 5  # new names tried when a concurrent sweep races the reservation
SLOW_DISK_SECONDS = 0.001  # making and removing an empty space: slower keeps it off the loop
PROBES = 5
# Later, on the loop: this many calls slower than this (above a GIL switch interval, 5 ms, so
# that a busy worker's threads alone rarely count) move spaces off the loop for good.
SLOW_CALL_SECONDS = 0.010
SLOW_CALLS = 3
_T = TypeVar("_T")


class RunSpaces:
    def __init__(self, root: Path, run_as: RunAs | None) -> None:
        self.run_as = run_as
        self.root = passable_dir(root) if run_as is not None else private_dir(root)
        self.sweep_abandoned()
        self.on_loop = self._disk_is_fast()
        self._slow_calls = 0  # calls on the loop that took over SLOW_CALL_SECONDS

    @contextlib.asynccontextmanager
    async def open(self, run_id: str) -> AsyncIterator[Path]:
        """A new space for `run_id` (the run's TMPDIR), removed when the block exits."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)[:64]
        prefix = f"{SPACE_PREFIX}{safe}-"
        if self.on_loop:
            space, fd = self._timed(self._reserve, prefix)
        else:
            space, fd = await asyncio.to_thread(self._reserve, prefix)
        try:
            yield space
        finally:
            if not (self.on_loop and self._timed(_remove_empty, space, fd)):
                await asyncio.shield(asyncio.to_thread(_release, space, fd))

    def _timed(self, call: Callable[..., _T], *args: object) -> _T:
        """`call` on the loop; a disk that has turned slow moves spaces off it for good."""
        began = time.perf_counter()
        try:
            return call(*args)
        finally:
            if time.perf_counter() - began > SLOW_CALL_SECONDS:
                self._slow_calls += 1
                if self._slow_calls == SLOW_CALLS:
                    self.on_loop = False
                    log.warning(
                        "run spaces are made and removed off the event loop from now on: %d "
                        "calls on %s took over %.0f ms",
                        SLOW_CALLS,
                        self.root,
                        SLOW_CALL_SECONDS * 1000,
                        extra={"action": "run_space"},
                    )

    def _disk_is_fast(self) -> bool:
        """Whether making and removing an empty space takes under `SLOW_DISK_SECONDS` here
        (the median of a few tries, made at start, before busy threads can skew the clock)."""
        took = []
        for _ in range(PROBES):
            began = time.perf_counter()
            try:
                space, fd = self._reserve(f"{SPACE_PREFIX}probe-")
            except OSError as exc:  # each run's own spawn then fails and says why, as before
                log.warning("cannot make a run space in %s: %s", self.root, exc)
                return False
            if not _remove_empty(space, fd):
                _release(space, fd)
            took.append(time.perf_counter() - began)
        typical = statistics.median(took)
        if typical >= SLOW_DISK_SECONDS:
            log.info(
                "run spaces are made and removed off the event loop: the disk of %s took %.1f ms",
                self.root,
                typical * 1000,
                extra={"action": "run_space"},
            )
        return typical < SLOW_DISK_SECONDS

    def hand_over(self, path: Path) -> None:
        """Give `path` (and what it holds) to the jobs' user, if they have their own."""
        if self.run_as is not None:
            give_to(path, self.run_as)

    def sweep_abandoned(self) -> None:
        """Remove the spaces of runs whose worker died (nobody holds their lock)."""
        for space in self.root.glob(f"{SPACE_PREFIX}*"):
            fd = lock_dir(space)
            if fd is not None:
                log.info("removing abandoned run space %s", space, extra={"action": "run_space"})
                _release(space, fd)

    def _reserve(self, prefix: str) -> tuple[Path, int]:
        for _ in range(RESERVE_ATTEMPTS):
            space = self.root / f"{prefix}{secrets.token_hex(6)}"
            space.mkdir(mode=0o700)
            fd = lock_dir(space)
            if fd is not None and _same_file(fd, space):
                try:
                    self.hand_over(space)
                except BaseException:
                    _release(space, fd)
                    raise
                return space, fd
            if fd is not None:
                os.close(fd)  # a starting worker's sweep took it before we locked it
        raise OSError(f"could not reserve a run space in {self.root}")


def lock_dir(path: Path) -> int | None:
    """Open and lock the directory `path` without waiting; None if someone holds it (or it is
    gone). The lock lives as long as the descriptor: a killed worker's locks are released."""
    import fcntl  # POSIX only, as run spaces are (confinement, HYDRA_RUN_AS)

    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove_empty(space: Path, fd: int) -> bool:
    """Remove `space` if the job left nothing in it (one rmdir) and release it; else False."""
    try:
        space.rmdir()
    except OSError:
        return False
    os.close(fd)
    return True


def _release(space: Path, fd: int) -> None:
    shutil.rmtree(space, ignore_errors=True)
    os.close(fd)  # after the removal: until then no sweep may take it


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), path.stat())
    except FileNotFoundError:
        return False
