"""Each run's private directory: its TMPDIR and its #! script file, removed when the run ends.

The shared /tmp lets every job read what another left there; a run space is reachable only by
its own run: by file mode when jobs run as another user than the worker (HYDRA_RUN_AS: the space
is theirs, 0700, in a root directory they may pass through but not list), and by Landlock
(`confine.py`) when they run as the worker's own user.

A space is marked in use by a lock file held while its run lasts (locked before the directory
exists), so a worker starting after another was killed removes the spaces nobody holds, and
never one of a live worker sharing the directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from hydra_jobs.private_files import passable_dir, private_dir
from hydra_jobs.worker.git_lock import lock_now, unlock_and_close
from hydra_jobs.worker.run_as import RunAs, give_to

__all__ = ["SPACE_TMP", "RunSpaces"]

log = logging.getLogger(__name__)

SPACE_TMP = "tmp"  # the run's TMPDIR inside its space
SPACE_PREFIX = "hydra-run-"
LOCK_SUFFIX = ".lock"
RESERVE_ATTEMPTS = 5  # new names tried when a concurrent sweep races the reservation


class RunSpaces:
    def __init__(self, root: Path, run_as: RunAs | None) -> None:
        self.run_as = run_as
        self.root = passable_dir(root) if run_as is not None else private_dir(root)
        self.sweep_abandoned()

    @contextlib.contextmanager
    def open(self, run_id: str) -> Iterator[Path]:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)[:64]
        space, fd = self._reserve(f"{SPACE_PREFIX}{safe}-")
        try:
            space.mkdir(mode=0o700)
            (space / SPACE_TMP).mkdir(mode=0o700)
            self.hand_over(space)
            yield space
        finally:
            self._release(space, fd)

    def hand_over(self, path: Path) -> None:
        """Give `path` (and what it holds) to the jobs' user, if they have their own."""
        if self.run_as is not None:
            give_to(path, self.run_as)

    def sweep_abandoned(self) -> None:
        """Remove the spaces of runs whose worker died (their lock is free)."""
        for lock in self.root.glob(f"{SPACE_PREFIX}*{LOCK_SUFFIX}"):
            fd = lock_now(lock)
            if fd is None:
                continue  # a live run, here or in another worker sharing the directory
            space = lock.with_name(lock.name.removesuffix(LOCK_SUFFIX))
            if space.exists():
                log.info("removing abandoned run space %s", space, extra={"action": "run_space"})
            self._release(space, fd)

    def _reserve(self, prefix: str) -> tuple[Path, int]:
        for _ in range(RESERVE_ATTEMPTS):
            space = self.root / f"{prefix}{secrets.token_hex(6)}"
            lock = space.with_name(space.name + LOCK_SUFFIX)
            fd = lock_now(lock)
            if fd is None:
                continue
            if _same_file(fd, lock):
                return space, fd
            unlock_and_close(fd)  # a sweep unlinked it before we locked it
        raise OSError(f"could not reserve a run space in {self.root}")

    def _release(self, space: Path, fd: int) -> None:
        shutil.rmtree(space, ignore_errors=True)
        unlock_and_close(fd)  # closed before unlinking: Windows cannot delete an open file
        with contextlib.suppress(OSError):
            space.with_name(space.name + LOCK_SUFFIX).unlink()


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), path.stat())
    except FileNotFoundError:
        return False
