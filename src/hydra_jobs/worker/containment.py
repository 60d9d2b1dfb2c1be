"""Know every process a run started, wherever it went, so that the run can end them all.

A job's process group, its descendants and the holders of its stdout are not enough: a daemon
that calls setsid, closes its output and loses its parent (a double fork) is in none of them
(issue 13 §2). On Linux, in order of preference:

1. A cgroup v2 per run (`cgroups.py`), when the worker can create one under its own cgroup
   (root, or a delegated subtree): membership is exact and inherited by every fork,
   `cgroup.kill` ends all members at once (also those forked during the kill), and `cpu.stat` /
   `memory.peak` measure all of them. The job is moved in right after it is spawned; a process
   it forks in the few microseconds before that stays outside and is caught by 2.
2. The worker is a child subreaper (`PR_SET_CHILD_SUBREAPER`): an orphan of any job is
   re-parented to the worker instead of PID 1. Adopted processes are attributed to a run by their
   process group or session, by the run marker in their environment, or else by when they were
   created: one created while a single run was going is that run's; one created while several
   were going is ended only when the last of those ends (never a process of a run still going).
3. Without a subreaper, the environment marker (`HYDRA_RUN_ID=<run id>`) is searched in `/proc`.

Everything here is a small blocking call (a few `/proc` or cgroupfs reads and writes); the
waiting is done by the caller (`process/supervise.py`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

__all__ = [
    "RUN_MARKER_VAR",
    "RunRecord",
    "children",
    "descendants",
    "ensure_subreaper",
    "exempt",
    "forget",
    "helpers",
    "register",
    "strays",
]

RUN_MARKER_VAR = "HYDRA_RUN_ID"
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
# A process created this close to a run's start may be the run's (start times are clock ticks).
START_SLACK_TICKS = 2
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
    start: int  # clock ticks since boot, at or before the main process was created
    marker: bytes | None  # the value of HYDRA_RUN_ID in its environment
    keep_daemons: bool = False
    end: int | None = None


_live: dict[int, RunRecord] = {}
_kept: list[RunRecord] = []  # ended runs that were allowed to leave daemons
_exempt: set[int] = set()  # helpers of the worker that are adopted too (its guard)
_spawned: set[int] = set()  # main processes of runs being set up: ours, not orphans
_subreaper = False


def register(
    pid: int, marker: str | None, keep_daemons: bool, age_seconds: float = 0.0
) -> RunRecord:
    """The run whose main process `pid` was spawned `age_seconds` ago (at most) has begun."""
    start = now_ticks() - int(age_seconds * _TICKS) - 1  # at or before the main process's
    record = RunRecord(pid, start, marker.encode() if marker else None, keep_daemons)
    _live[pid] = record
    _spawned.discard(pid)
    return record


def spawned(pid: int) -> None:
    """`pid` is a run's main process, just forked: never an orphan, even before `register`.

    Call it in the thread that forked it, before that thread can end: a confined job is forked
    by a thread of its own (confine.py), and when that thread ends the kernel hands its children
    to the main thread, where they look like adopted orphans; a quick job's zombie was then
    reaped by another run's sweep before its own run could read its exit status.
    """
    _spawned.add(pid)


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
    if _subreaper:
        # Orphans are re-parented to our main thread; jobs are spawned by other threads, so a
        # job being spawned (not registered yet) is never taken for an orphan.
        adopted = _thread_children(os.getpid(), os.getpid())
        candidates = [p for p in adopted if p not in _live and p not in _exempt | _spawned]
    elif record.marker:
        candidates = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    else:
        return []
    host = proc_stat(os.getpid()) if candidates else None
    for pid in candidates:
        stat = proc_stat(pid)
        if stat is None or pid == os.getpid():
            continue
        if stat.zombie and _subreaper and _kept_daemon(stat, record, host):
            _reap(pid)  # a kept daemon ended on its own: nobody else will collect it
            continue
        if not _belongs(stat, record, host, adopted=_subreaper):
            continue
        if stat.zombie:
            _reap(pid)
            continue
        found.add(pid)
        found.update(d for d in descendants(pid) if not _zombie(d))
    return sorted(found)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _kept_daemon(stat: ProcStat, record: RunRecord, host: ProcStat | None) -> bool:
    """Created during a run allowed to leave daemons, and by no other run still going."""
    if host is not None and (stat.sid == host.sid or stat.pgid == host.pgid):
        return False
    in_kept = any(
        r.start <= stat.start + START_SLACK_TICKS and stat.start <= (r.end or 0) for r in _kept
    )
    others = [r for r in list(_live.values()) if r is not record]
    live = any(r.start <= stat.start + START_SLACK_TICKS for r in others)
    return in_kept and not live


def _zombie(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is None or stat.zombie


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
