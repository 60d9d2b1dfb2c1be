"""The worker's guard: a tiny helper process that kills the worker's jobs when the worker cannot.

P7 in docs/reliability.md: when a worker dies (kill -9), its jobs must die with it, or at least
before their runs are retried elsewhere. Jobs run in their own sessions (so a tree kill reaches
them all), which also means nothing takes them down when the worker goes. Options considered:

- `prctl(PR_SET_PDEATHSIG)` in each job: needs `preexec_fn` (slow, unsafe with threads), fires on
  the death of the forking *thread*, and reaches only the direct child, not the job's tree.
- a cgroup per job alone: exact, but needs cgroup v2 delegation, which containers and
  unprivileged workers usually lack. Where the worker has it (cgroups.py), the guard is told
  the parent cgroup of the worker's runs too and kills it with `cgroup.kill`, which also ends the
  daemons that left every group and cleared their environment.
- a state file of job pgids killed by the next worker on that host: too late (the run may already
  be retried elsewhere), and nothing runs if the worker is not restarted.
- this guard: one helper process per worker, detached into its own session (so a signal to the
  worker's process group does not take it down, and it is no child of the worker's), reading
  commands from a pipe. The kernel closes the
  pipe when the worker dies for any reason, and the guard then SIGKILLs every job process group
  it was told about plus, on Linux, every process whose environment carries this worker's
  `HYDRA_WORKER_ID` (descendants that left the group with setsid). It reacts within
  milliseconds, long before the lease expires and the reaper retries the run.

It is also the lease's hard backstop (D3/D4): after every successful lease renewal
the worker sends the time left before its lease could lapse; if the guard hears nothing newer by
then (the worker is frozen by SIGSTOP, or wedged, or cut off from Redis and its own soft fence
did not finish in time), it kills the jobs itself. A job group's id cannot be recycled while it is
killed: its leader is alive, or a zombie its parent (the frozen worker) has not reaped.

The job groups live on a board: a small file both processes map, one slot per running job, that
the worker writes with plain memory stores and the guard reads only when it is about to kill (the
worker is gone or frozen by then, so nothing writes meanwhile). Starting or ending a job costs no
system call and never wakes the guard; only heartbeats travel through the pipe (and job groups
beyond the board's slots, which then fall back to pipe lines).

Costs: one small Python process (`-S`, a few MB) per worker, a 16 KiB board, and a pipe write per
heartbeat. Windows has no process groups of this kind: there the guard is not used (a job
object with kill-on-close would be the equivalent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mmap
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hydra_jobs.secret_env import SELF_EXE
from hydra_jobs.worker import containment

log = logging.getLogger(__name__)

GUARD_EXIT_WAIT_SECONDS = 1.0  # a guard told to quit does at once
BOARD_SLOTS = 4096  # job groups the board holds; more running jobs than that use pipe lines
_SLOT = struct.Struct("i")

# The guard's own program: a file of its own (not a `-c` script, which `ps` showed as kilobytes
# of code), run with -S so that it starts in milliseconds.
GUARD_PROGRAM = str(Path(__file__).with_name("guard_process.py"))


def guard_supported() -> bool:
    return sys.platform != "win32"


class Guard:
    """The worker's end of the pipe. Every method is a short non-failing write."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None  # the guard itself (the launcher's child)
        self._groups: set[int] = set()  # the groups that did not fit on the board
        self._budget: float | None = None
        self._cgroups: list[str] = []  # the worker's parent cgroup of its runs (containment.py)
        self._outbox: list[str] = []  # lines of this event-loop turn, written together
        self._board_file = tempfile.TemporaryFile(prefix="hydra-guard-")
        self._board_file.truncate(BOARD_SLOTS * _SLOT.size)
        self._board = mmap.mmap(self._board_file.fileno(), 0)
        self._slot_of: dict[int, int] = {}
        self._free = list(range(BOARD_SLOTS - 1, -1, -1))

    def start(self) -> None:
        board_fd = self._board_file.fileno()
        # Linux: the running interpreter itself, which a worker that dropped privileges can
        # exec even where a directory on the way to sys.executable is closed to it.
        binary = SELF_EXE if os.path.exists(SELF_EXE) else sys.executable
        self.proc = subprocess.Popen(
            [sys.executable, "-S", GUARD_PROGRAM, self.worker_id, str(board_fd)],
            executable=binary,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            pass_fds=(board_fd,),
            start_new_session=True,
        )
        self.proc.wait(5.0)  # the launcher exits at once; the forked guard keeps the pipe
        assert self.proc.stdout is not None
        with self.proc.stdout:
            pid = self.proc.stdout.readline().strip()
        if pid.isdigit():
            # A subreaper worker adopts the guard: it is no job's process (containment.py).
            self.pid = int(pid)
            containment.exempt(self.pid)
        for pgid in self._groups:
            self._write(f"+{pgid}\n")
        for path in self._cgroups:
            self._write(f"c{path}\n")
        if self._budget is not None:
            self._write(f"d{self._budget:.3f}\n")

    def add(self, pgid: int) -> None:
        if self._free and pgid not in self._slot_of:
            slot = self._free.pop()
            self._slot_of[pgid] = slot
            _SLOT.pack_into(self._board, slot * _SLOT.size, pgid)
            return
        self._groups.add(pgid)
        self._send(f"+{pgid}\n")

    def remove(self, pgid: int) -> None:
        slot = self._slot_of.pop(pgid, None)
        if slot is not None:
            _SLOT.pack_into(self._board, slot * _SLOT.size, 0)
            self._free.append(slot)
            return
        self._groups.discard(pgid)
        self._send(f"-{pgid}\n")

    def add_cgroup(self, path: str) -> None:
        """Kill every process in the cgroup `path` (and its children) when killing the jobs."""
        self._cgroups.append(path)
        self._send(f"c{path}\n")

    def arm(self, seconds: float) -> None:
        """Kill every job unless told again within `seconds` (sent after each lease renewal)."""
        self._budget = max(0.0, seconds)
        self._send(f"d{self._budget:.3f}\n")

    def close(self) -> None:
        """The worker is exiting cleanly with no job left: the guard just ends."""
        if self.proc is not None:
            self._flush()
            with contextlib.suppress(OSError):
                self._write("q\n")
            if self.proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
            self.proc = None
            self._reap()
        if not self._board.closed:
            self._board.close()
            self._board_file.close()

    def _reap(self) -> None:
        """A subreaper worker adopted the guard: collect it once it quits, or it stays a zombie."""
        deadline = time.monotonic() + GUARD_EXIT_WAIT_SECONDS
        while self.pid is not None and time.monotonic() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0] == self.pid:
                    break
            except ChildProcessError:  # not ours (no subreaper): PID 1 reaps it
                break
            time.sleep(0.001)
        self.pid = None

    def _send(self, line: str) -> None:
        """Queue `line` for the end of this event-loop turn (at once outside a loop).

        Jobs starting and ending together cost one write and one wake-up of the guard, not one
        each; a line waits at most one turn of the loop.
        """
        if self.proc is None:
            return  # not started: `start` sends the state
        self._outbox.append(line)
        if len(self._outbox) > 1:
            return  # a flush is already scheduled
        try:
            asyncio.get_running_loop().call_soon(self._flush)
        except RuntimeError:
            self._flush()

    def _flush(self) -> None:
        lines, self._outbox = "".join(self._outbox), []
        if not lines or self.proc is None:
            return
        try:
            self._write(lines)
        except OSError:
            log.warning("the worker's guard process died; restarting it", extra={"action": "guard"})
            with contextlib.suppress(Exception):
                self.start()

    def _write(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        os.write(self.proc.stdin.fileno(), line.encode())
