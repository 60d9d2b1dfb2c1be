"""Know every process a run started, wherever it went, so that the run can end them all.

A job's process group, its descendants and the holders of its stdout are not enough: a daemon
that calls setsid, closes its output and loses its parent (a double fork) is in none of them
(issue 13 §2). On Linux, in order of preference:

1. A cgroup v2 per run, when the worker can create one under its own cgroup (root, or a delegated
   subtree): membership is exact and inherited by every fork, `cgroup.kill` ends all members at
   once (also those forked during the kill), and `cpu.stat` / `memory.peak` measure all of them.
   The job is moved in right after it is spawned; a process it forks in the few microseconds
   before that stays outside and is caught by 2.
2. The worker is a child subreaper (`PR_SET_CHILD_SUBREAPER`): an orphan of any job is
   re-parented to the worker instead of PID 1. Adopted processes are attributed to a run by their
   process group or session, by the run marker in their environment, or else by when they were
   created: one created while a single run was going is that run's; one created while several
   were going is ended only when the last of those ends (never a process of a run still going).
3. Without a subreaper, the environment marker (`HYDRA_RUN_ID=<run id>`) is searched in `/proc`.

Everything here is a small blocking call (a few `/proc` or cgroupfs reads and writes); the
waiting is done by the caller (`process.py`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import itertools
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = [
    "RUN_MARKER_VAR",
    "RunCgroup",
    "RunRecord",
    "cgroups_available",
    "exempt",
    "forget",
    "register",
    "strays",
]

RUN_MARKER_VAR = "HYDRA_RUN_ID"
CGROUP_PREFIX = "hydra-"  # the worker's parent cgroup: hydra-<worker pid>
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
# A process created this close to a run's start may be the run's (start times are clock ticks).
START_SLACK_TICKS = 2
RMDIR_WAIT_SECONDS = 1.0  # a killed cgroup empties asynchronously
KEPT_WINDOWS = 1000  # creation windows remembered of runs that may leave daemons (bounded)

_LINUX = sys.platform.startswith("linux")
_TICKS = os.sysconf("SC_CLK_TCK") if _LINUX else 100


# --- what a process is ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcStat:
    pid: int
    state: str
    pgid: int
    sid: int
    start: int  # clock ticks since boot

    @property
    def zombie(self) -> bool:
        return self.state in ("Z", "X")


def proc_stat(pid: int) -> ProcStat | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()  # the name may contain spaces and parentheses
    return ProcStat(pid, fields[0].decode(), int(fields[2]), int(fields[3]), int(fields[19]))


def now_ticks() -> int:
    """The clock process start times are measured on (boot time, in ticks)."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * _TICKS)


def children(pid: int) -> list[int]:
    """Direct children of `pid`, from every one of its threads (cheap: no scan of /proc)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/children") as fh:
                found.extend(int(p) for p in fh.read().split())
    return found


def _thread_children(pid: int, tid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{tid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(children(child))
    return out


def _marker_of(pid: int) -> bytes | None:
    """The run marker in the environment of `pid` (b"" when it has none); None if unreadable."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = fh.read()
    except OSError:
        return None
    prefix = RUN_MARKER_VAR.encode() + b"="
    for item in env.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix) :]
    return b""


# --- the runs of this process -------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class RunRecord:
    """What attributes a process to a run: its group/session, marker and creation window."""

    pid: int  # the main process; it leads the run's process group and session
    start: int  # clock ticks since boot when the main process was created
    marker: bytes | None  # the value of HYDRA_RUN_ID in its environment
    keep_daemons: bool = False
    end: int | None = None
    stat: ProcStat | None = field(default=None, repr=False)


_live: dict[int, RunRecord] = {}
_kept: list[RunRecord] = []  # ended runs that were allowed to leave daemons
_exempt: set[int] = set()  # helpers of the worker that are adopted too (its guard)
_subreaper = False


def register(pid: int, marker: str | None, keep_daemons: bool) -> RunRecord:
    stat = proc_stat(pid) if _LINUX else None
    start = stat.start if stat is not None else now_ticks()
    record = RunRecord(pid, start, marker.encode() if marker else None, keep_daemons)
    _live[pid] = record
    return record


def forget(record: RunRecord) -> None:
    """The run has ended: processes created in its window now count for the other runs only."""
    _live.pop(record.pid, None)
    record.end = now_ticks()
    if record.keep_daemons:
        _kept.append(record)
        del _kept[:-KEPT_WINDOWS]


def exempt(pid: int) -> None:
    """`pid` is the worker's own helper (re-parented to it), never a job's process."""
    _exempt.add(pid)


def helpers() -> frozenset[int]:
    """The worker's own helpers this process adopted (see `exempt`)."""
    return frozenset(_exempt)


def ensure_subreaper() -> bool:
    """Make this process the child subreaper of its descendants (once); False if impossible."""
    global _subreaper
    if _subreaper or not _LINUX:
        return _subreaper
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        _subreaper = False
    if not _subreaper:
        log.warning(
            "cannot become a child subreaper; daemons of jobs are found by their environment only",
            extra={"action": "containment"},
        )
    return _subreaper


def strays(record: RunRecord) -> list[int]:
    """Live processes of `record`'s run outside its tree, with their descendants.

    Zombies among the processes we adopted for it are reaped on the way.
    """
    if not _LINUX:
        return []
    found: set[int] = set()
    host = proc_stat(os.getpid())
    if _subreaper:
        # Orphans are re-parented to our main thread; jobs are spawned by other threads, so a
        # job being spawned (not registered yet) is never taken for an orphan.
        adopted = _thread_children(os.getpid(), os.getpid())
        candidates = [p for p in adopted if p not in _live and p not in _exempt]
    elif record.marker:
        candidates = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    else:
        return []
    for pid in candidates:
        stat = proc_stat(pid)
        if stat is None or pid == os.getpid():
            continue
        if not _belongs(stat, record, host, adopted=_subreaper):
            continue
        if stat.zombie:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            continue
        found.add(pid)
        found.update(descendants(pid))
    return sorted(found)


def _belongs(stat: ProcStat, record: RunRecord, host: ProcStat | None, adopted: bool) -> bool:
    if record.pid in (stat.pgid, stat.sid):
        return True
    marker = None if stat.zombie else _marker_of(stat.pid)
    if marker:
        return marker == record.marker
    if not adopted:
        return False
    if host is not None and (stat.sid == host.sid or stat.pgid == host.pgid):
        return False  # the host's own children (tests, helpers) live in its session
    if stat.start + START_SLACK_TICKS < record.start:
        return False
    # Created while another run was going too: that run may own it; the last of them ends it.
    others = [r for r in list(_live.values()) if r is not record] + _kept
    return not any(
        r.start <= stat.start + START_SLACK_TICKS and (r.end is None or stat.start <= r.end)
        for r in others
    )


# --- cgroup v2 ----------------------------------------------------------------------------------


def _unescape(path: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    return path.encode().decode("unicode_escape") if "\\" in path else path


def own_cgroup_dir() -> Path | None:
    """This process's cgroup v2 directory, from /proc/self/mountinfo and /proc/self/cgroup."""
    return own_cgroup_dir_of("self")


def own_cgroup_dir_of(pid: int | str) -> Path | None:
    """The cgroup v2 directory of process `pid` (as seen from its mount namespace)."""
    try:
        with open(f"/proc/{pid}/cgroup") as fh:
            own = next((ln[3:].rstrip("\n") for ln in fh if ln.startswith("0::")), None)
        with open(f"/proc/{pid}/mountinfo") as fh:
            mounts = [ln.split() for ln in fh]
    except OSError:
        return None
    if own is None:
        return None
    for fields in mounts:
        sep = fields.index("-")
        if fields[sep + 1] != "cgroup2":
            continue
        root, mount = _unescape(fields[3]), _unescape(fields[4])
        if root != "/" and not own.startswith(root):
            continue
        relative = own[len(root) :] if root != "/" else own
        return Path(mount) / relative.lstrip("/")
    return None


class _Parent:
    """This worker's cgroup for its runs: <own cgroup>/hydra-<pid>, removed at exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ids = itertools.count(1)

    @classmethod
    def create(cls) -> _Parent | None:
        base = own_cgroup_dir()
        if base is None or not (base / "cgroup.procs").exists():
            return None
        _remove_stale(base)
        path = base / f"{CGROUP_PREFIX}{os.getpid()}"
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
        path = self.path / f"run-{next(self._ids)}"
        try:
            path.mkdir()
        except FileNotFoundError:  # removed under us (by our guard, which thought us dead)
            self.path.mkdir(exist_ok=True)
            path.mkdir()
        return path

    def remove(self) -> None:
        kill_cgroup(self.path)
        for sub in self.path.glob("run-*"):
            _rmdir(sub)
        _rmdir(self.path)


def _remove_stale(base: Path) -> None:
    """Kill and remove the run cgroups of workers that died (P7: jobs must not outlive them)."""
    for path in base.glob(f"{CGROUP_PREFIX}*"):
        pid = path.name.removeprefix(CGROUP_PREFIX)
        if not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            kill_cgroup(path)
            for sub in path.glob("run-*"):
                _rmdir(sub)
            _rmdir(path)


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
