"""Keep a job away from the worker's own files: the data dir (database, admin token, git cache),
`.env`, and every other run's private directory (issue 13).

On Linux each job starts confined by Landlock (`landlock.py`). Landlock only grants, it cannot
deny a subtree of a granted one, so each spawn gets "everything but the hidden paths": every
entry of each directory on the way from `/` down to a hidden path is granted in full, except the
next step towards the hidden path (those grants are kept open between spawns: `BaseGrants`),
and then the run's own directories (its checkout, its run space) are granted inside.
Consequences, documented in the README: a directory on the way to a hidden path (e.g. `$HOME`
when the data dir is `~/.local/share/hydra-jobs`) keeps its existing entries readable and
writable, but a job cannot create or list entries directly in it.

A thread cannot be un-restricted, so the spawn happens in a fresh thread that restricts itself
and then forks the job (which inherits the restriction); the worker's other threads are never
confined. Doing it in the child instead (`preexec_fn`) would forbid vfork and run Python code
between fork and exec in a threaded process.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from hydra_jobs.errors import ConfigError
from hydra_jobs.worker import landlock

__all__ = ["ConfineMode", "Confiner", "Sandbox", "allowed_paths"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
CACHE_MAX_RULES = 512  # entries kept open between spawns (descriptors); beyond: opened per spawn
MTIME_SETTLE_NS = 50_000_000  # a directory changed more recently may change again unseen


class ConfineMode(StrEnum):
    AUTO = "auto"  # confine where the kernel can; say once, loudly, where it cannot
    REQUIRED = "required"  # refuse to start a worker that cannot confine its jobs
    OFF = "off"


def allowed_paths(hidden: Iterable[str], granted: Iterable[str] = ()) -> list[str]:
    """The paths to grant so that everything is reachable except `hidden` (absolute, resolved)
    and what lies beneath, with `granted` (inside hidden ones) reachable again."""
    outermost = _outermost(hidden)
    steps = {str(parent) for h in outermost for parent in Path(h).parents}
    allowed = []
    for directory in sorted(steps):
        with contextlib.suppress(OSError):  # gone meanwhile: nothing there to grant
            for entry in os.scandir(directory):
                if entry.path not in steps and entry.path not in outermost:
                    allowed.append(entry.path)
    return allowed + [g for g in granted if g not in steps]


def _outermost(paths: Iterable[str]) -> set[str]:
    """`paths` without those inside another one (hiding a directory hides what it holds)."""
    unique = sorted(set(paths))
    kept: set[str] = set()
    for path in unique:
        if not any(Path(path).is_relative_to(k) for k in kept):
            kept.add(path)
    return kept


class BaseGrants:
    """The grants of "everything but the hidden paths", kept open between spawns.

    Opening them for every spawn cost 0.3 to 1 ms of the worker's CPU (a lookup, an fstat and a
    close per entry of each directory on the way to a hidden path: 37 with the data dir in
    /root, ~95 with one in /tmp). Those entries change only when one of those directories does,
    so the opened rules are reused until a directory's mtime moves, and rebuilt while one changed
    too recently to trust its (coarse-grained) timestamp: with /tmp on the way, on this shared
    machine, 56 rebuilds in 1,242 spawns.
    """

    def __init__(self, hidden: Iterable[str], rights: int) -> None:
        self.hidden = tuple(hidden)
        self.rights = rights
        self.steps = sorted({str(p) for h in _outermost(self.hidden) for p in Path(h).parents})
        self._lock = threading.Lock()
        self._stamps: tuple[int, ...] | None = None
        self._rules: list[landlock.PathRule] = []

    def add_to(self, ruleset: landlock.Ruleset) -> None:
        stamps = self._settled_stamps()
        with self._lock:  # spawner threads share the open rules
            if stamps is None or stamps != self._stamps:
                self._close()
                paths = allowed_paths(self.hidden)
                if len(paths) > CACHE_MAX_RULES:  # too many descriptors to keep: not cached
                    for path in paths:
                        ruleset.allow(path)
                    return
                opened = (landlock.PathRule.open(p, self.rights) for p in paths)
                self._rules = [rule for rule in opened if rule is not None]
                self._stamps = stamps
            for rule in self._rules:
                ruleset.add(rule)

    def _settled_stamps(self) -> tuple[int, ...] | None:
        now = time.time_ns()
        stamps = []
        for step in self.steps:
            try:
                changed = os.stat(step).st_mtime_ns
            except OSError:
                return None
            if now - changed < MTIME_SETTLE_NS:
                return None
            stamps.append(changed)
        return tuple(stamps)

    def _close(self) -> None:
        for rule in self._rules:
            rule.close()
        self._rules = []
        self._stamps = None


@dataclass(frozen=True, slots=True)
class Sandbox:
    """How one job's process is confined: built by the worker per run, used by `process`."""

    abi: int
    base: BaseGrants
    granted: tuple[str, ...]

    def spawn(self, start: Callable[[], _T]) -> _T:
        """Call `start` (which forks and execs the job) in a new thread confined to this
        sandbox; raise `LandlockError` (an OSError: the run fails to spawn) if it cannot be."""
        ruleset = landlock.Ruleset(self.abi)
        try:
            self.base.add_to(ruleset)
            steps = set(self.base.steps)
            for path in self.granted:
                if path not in steps:  # never a directory on the way to a hidden one
                    ruleset.allow(path)
            outcome: list[Any] = []

            def confined() -> None:
                try:
                    landlock.restrict_thread(ruleset)
                    outcome.append((True, start()))
                except BaseException as exc:  # handed to the caller's thread
                    outcome.append((False, exc))

            thread = threading.Thread(target=confined, name="hydra-confined-spawn")
            try:
                thread.start()
            except RuntimeError as exc:  # "can't start new thread": the run fails to spawn
                why = f"no thread to spawn the job from: {exc}"
                raise landlock.LandlockError(errno.EAGAIN, why) from exc
            thread.join()
        finally:
            ruleset.close()
        ok, value = outcome[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]


class Confiner:
    """A worker's confinement of its jobs: what they must not reach."""

    def __init__(self, abi: int, hidden: Sequence[Path], runs_root: Path) -> None:
        self.abi = abi
        # Resolved once: Landlock rules name inodes, and the walk from / must follow real paths.
        # A missing path stays hidden: its directory is then not granted, so it cannot appear.
        paths = {os.path.realpath(p) for p in [*hidden, runs_root]}
        self.hidden = tuple(sorted(paths))
        self.base = BaseGrants(self.hidden, landlock.fs_rights(abi))

    @classmethod
    def for_worker(
        cls, mode: ConfineMode, hidden: Sequence[Path], runs_root: Path
    ) -> Confiner | None:
        """The worker's confiner; None when off or (mode auto) unavailable, said once here."""
        if mode is ConfineMode.OFF:
            return None
        abi = landlock.abi_version()
        if abi == 0:
            why = "this kernel has no Landlock (Linux 5.13+ with landlock in the LSM list)"
            if mode is ConfineMode.REQUIRED:
                raise ConfigError(f"HYDRA_CONFINE=required, but {why}")
            log.warning(
                "jobs run unconfined: %s; they can read the worker's files (data dir, .env). "
                "Set HYDRA_CONFINE=off to silence this, or =required to refuse to start.",
                why,
                extra={"action": "confine_unavailable"},
            )
            return None
        return cls(abi, hidden, runs_root)

    def sandbox(self, granted: Iterable[Path]) -> Sandbox:
        return Sandbox(self.abi, self.base, tuple(os.path.realpath(p) for p in granted))
