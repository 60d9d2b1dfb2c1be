"""A cgroup v2 per run: exact membership, `cgroup.kill`, and usage of every member.

The worker's runs live under one parent it creates in its own cgroup (found from
/proc/self/mountinfo and /proc/self/cgroup): `<own cgroup>/hydra-<pid namespace>-<worker
pid>/run-N`. The parent
has no process of its own, so controllers delegated to the worker (memory, pids) can be enabled
for the runs. Where the directory cannot be created (no cgroup v2, read-only, not delegated) runs
get none and `containment.py`'s subreaper is the fallback. The guard kills the parent when the
worker dies; a worker that starts removes the parents of dead workers.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import itertools
import logging
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

from hydra_jobs.worker.containment import descendants

log = logging.getLogger(__name__)

__all__ = [
    "RunCgroup",
    "cgroup_dir",
    "cgroups_available",
    "kill_cgroup",
    "own_cgroup_dir",
    "own_cgroup_dir_of",
    "parent_cgroup",
    "release",
]

CGROUP_PREFIX = "hydra-"  # the worker's parent cgroup: hydra-<pid namespace>-<worker pid>
RMDIR_WAIT_SECONDS = 1.0  # a killed cgroup empties asynchronously

_LINUX = sys.platform.startswith("linux")


_MOUNTINFO_ESCAPE = re.compile(r"\\([0-7]{3})")  # space, tab, newline, backslash as \ooo


def own_cgroup_dir() -> Path | None:
    """This process's cgroup v2 directory, from /proc/self/mountinfo and /proc/self/cgroup."""
    return own_cgroup_dir_of("self")


def own_cgroup_dir_of(pid: int | str) -> Path | None:
    """The cgroup v2 directory of process `pid` (as seen from its mount namespace)."""
    try:
        with open(f"/proc/{pid}/cgroup") as fh:
            cgroup_text = fh.read()
        with open(f"/proc/{pid}/mountinfo") as fh:
            mountinfo_text = fh.read()
    except OSError:
        return None
    return cgroup_dir(cgroup_text, mountinfo_text)


def cgroup_dir(cgroup_text: str, mountinfo_text: str) -> Path | None:
    """Where a process's cgroup v2 is mounted, from its /proc/PID/cgroup and mountinfo texts.

    The `0::` line names the cgroup relative to the namespace's root; a cgroup2 mount shows the
    part of the hierarchy at its root (`/` unless bind-mounted from deeper), and the first mount
    that contains the cgroup is used (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts).
    """
    own = next((ln[3:] for ln in cgroup_text.splitlines() if ln.startswith("0::")), None)
    if own is None:
        return None
    for line in mountinfo_text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        if len(fields) <= sep + 1 or fields[sep + 1] != "cgroup2":
            continue
        root, mount = _unescape(fields[3]), _unescape(fields[4])
        if root == "/":
            return Path(mount) / own.lstrip("/")
        if own == root or own.startswith(root + "/"):
            return Path(mount) / own[len(root) :].lstrip("/")
    return None


def _unescape(path: str) -> str:
    return _MOUNTINFO_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), path)


class _Parent:
    """This worker's cgroup for its runs: <own cgroup>/hydra-<pidns>-<pid>, removed at exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ids = itertools.count(1)

    @classmethod
    def create(cls) -> _Parent | None:
        base = own_cgroup_dir()
        if base is None or not (base / "cgroup.procs").exists():
            return None
        _remove_stale(base)
        path = base / parent_name(os.getpid())
        if path.exists():  # a dead worker's that had our pid: what it left is no run of ours
            _clear(path)
        try:
            path.mkdir(exist_ok=True)
        except OSError as exc:
            log.info("cgroups unavailable (%s): using the subreaper fallback", exc)
            return None
        if not (path / "cgroup.procs").exists():  # not a cgroup file system after all
            _rmdir(path)
            log.info("%s is no cgroup v2 directory: using the subreaper fallback", base)
            return None
        with contextlib.suppress(OSError):  # measure memory where the controller is delegated
            available = (path / "cgroup.controllers").read_text().split()
            for name in ("memory", "pids"):
                if name in available:
                    (path / "cgroup.subtree_control").write_text(f"+{name}")
        return cls(path)

    def child(self) -> Path:
        while True:
            path = self.path / f"run-{next(self._ids)}"
            try:
                path.mkdir()
            except FileNotFoundError:  # removed under us (by our guard, which thought us dead)
                self.path.mkdir(exist_ok=True)
                path.mkdir()
            except FileExistsError:
                continue
            return path

    def remove(self) -> None:
        kill_cgroup(self.path)
        for sub in self.path.glob("run-*"):
            _rmdir(sub)
        _rmdir(self.path)


def parent_name(pid: int) -> str:
    # The pid namespace is part of the name: a worker in another one (a container sharing this
    # cgroup) may have a pid that looks dead from here, and its runs must not be taken for stale.
    return f"{CGROUP_PREFIX}{_pid_namespace()}-{pid}"


def _pid_namespace() -> int:
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def _remove_stale(base: Path) -> None:
    """Kill and remove the run cgroups of workers that died (P7: jobs must not outlive them)."""
    prefix = f"{CGROUP_PREFIX}{_pid_namespace()}-"
    for path in base.glob(f"{prefix}*"):
        pid = path.name.removeprefix(prefix)
        if not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
            continue
        _clear(path)
        _rmdir(path)


def _clear(path: Path) -> None:
    """Kill every process under `path` and remove its run cgroups."""
    with contextlib.suppress(OSError):
        kill_cgroup(path)
        for sub in path.glob("run-*"):
            _rmdir(sub)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_cgroup(path: Path) -> None:
    try:
        (path / "cgroup.kill").write_text("1")
    except FileNotFoundError:  # kernel before 5.14: SIGKILL the members one by one
        for pid in _read_procs(path):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _read_procs(path: Path) -> list[int]:
    try:
        return [int(p) for p in (path / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _rmdir(path: Path) -> None:
    deadline = time.monotonic() + RMDIR_WAIT_SECONDS
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                log.warning("cannot remove cgroup %s: %s", path, exc)
                return
        time.sleep(0.005)


_parent: _Parent | None = None
_cgroups_failed = False


_parent_lock = threading.Lock()  # the first runs are spawned by several threads at once


def _the_parent() -> _Parent | None:
    global _parent, _cgroups_failed
    with _parent_lock:
        if _parent is None and not _cgroups_failed and _LINUX:
            _parent = _Parent.create()
            _cgroups_failed = _parent is None
            if _parent is not None:
                atexit.register(_close_parent)
    return _parent


def release() -> None:
    """A worker stops: remove the parent cgroup unless a run still uses it. Needed besides the
    exit handler, which does not run when a signal ends the process (uvicorn re-raises SIGTERM)."""
    global _parent
    with _parent_lock:
        if _parent is None:
            return
        try:
            _parent.path.rmdir()
        except FileNotFoundError:
            pass
        except OSError:  # EBUSY: runs of another worker of this process are still going
            return
        _parent = None


def _close_parent() -> None:
    global _parent
    if _parent is not None:
        _parent.remove()
        _parent = None


def cgroups_available() -> bool:
    """Whether runs get their own cgroup on this host (creates the worker's parent cgroup)."""
    return _the_parent() is not None


def parent_cgroup() -> Path | None:
    return _parent.path if _parent is not None else None


class RunCgroup:
    """One run's cgroup: the job is moved in after spawning, its members are killed at its end."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls) -> RunCgroup | None:
        global _cgroups_failed
        parent = _the_parent()
        if parent is None:
            return None
        try:
            return cls(parent.child())
        except OSError as exc:
            log.warning("cannot create a run cgroup (%s); using the subreaper fallback", exc)
            _cgroups_failed = True
            return None

    def adopt(self, pid: int) -> bool:
        """Move `pid`, then whatever it forked before the move, into this cgroup."""
        try:
            (self.path / "cgroup.procs").write_text(str(pid))
        except ProcessLookupError:
            return True  # already gone: nothing of it can be outside
        except OSError as exc:
            log.warning("cannot move job %s into its cgroup: %s", pid, exc)
            return False
        for child in descendants(pid):
            with contextlib.suppress(OSError):
                (self.path / "cgroup.procs").write_text(str(child))
        return True

    def members(self) -> list[int]:
        return _read_procs(self.path)

    def kill(self) -> None:
        """SIGKILL every member at once, and whatever they fork meanwhile (`cgroup.kill`)."""
        kill_cgroup(self.path)

    def usage(self) -> tuple[float, float, int | None]:
        """CPU user and system seconds of every member ever, and peak memory when measured."""
        user = system = 0.0
        with contextlib.suppress(OSError, ValueError):
            for line in (self.path / "cpu.stat").read_text().splitlines():
                key, value = line.split()
                if key == "user_usec":
                    user = int(value) / 1e6
                elif key == "system_usec":
                    system = int(value) / 1e6
        peak = None
        with contextlib.suppress(OSError, ValueError):
            peak = int((self.path / "memory.peak").read_text())
        return user, system, peak

    def remove(self) -> None:
        _rmdir(self.path)
