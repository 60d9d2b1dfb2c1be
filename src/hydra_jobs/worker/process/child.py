"""The job's main process: signalling it, noticing its exit, reaping it with its resource usage.

On Linux the exit is noticed through a pidfd and the process reaped with `wait4` (exact rusage);
it is left a zombie until the rest of the tree has been dealt with, so its pid (the group id we
signal) cannot be recycled under us. Elsewhere a waiter thread and psutil sampling stand in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

import psutil

from hydra_jobs.worker.process import support
from hydra_jobs.worker.process.spec import ResourceUsage
from hydra_jobs.worker.process.support import in_thread, set_result

log = logging.getLogger(__name__)

# After SIGKILL, how long to wait for the kernel to finish the kill before giving up on a process.
KILL_WAIT_SECONDS = 2.0
# Only where pidfd is unavailable: how often psutil samples usage and checks descendants.
USAGE_SAMPLE_INTERVAL_SECONDS = 0.1
_RU_MAXRSS_BYTES_PER_UNIT = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB


class Child:
    """The job's main process: signalling it, noticing its exit, reaping it."""

    exited: asyncio.Future[Any]

    def __init__(self, popen: subprocess.Popen[bytes], started: float) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.started = started
        self.exited_at: float | None = None
        self.returncode: int | None = None
        self.usage: ResourceUsage | None = None  # set once reaped

    @property
    def reaped(self) -> bool:
        return self.usage is not None

    @property
    def holds_pid(self) -> bool:
        """True while nobody has reaped the process, so its pid (= group id) cannot be reused."""
        return self.popen.returncode is None and not self.reaped

    def _note_exit(self, _fut: object = None) -> None:
        if self.exited_at is None:
            self.exited_at = time.monotonic()

    def _wall_seconds(self) -> float:
        return (self.exited_at or time.monotonic()) - self.started

    def signal(self, hard: bool) -> None:
        raise NotImplementedError

    def reap(self) -> None:
        """Collect exit status and usage; call only once `exited` is done."""
        raise NotImplementedError

    def reap_blocking(self) -> None:
        """Last resort after SIGKILL, when we cannot await: wait a bounded time for the exit."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _PidfdChild(Child):
    """Linux: exit noticed through a pidfd, status and exact rusage from wait4."""

    def __init__(self, popen: subprocess.Popen[bytes], started: float) -> None:
        super().__init__(popen, started)
        self._loop = asyncio.get_running_loop()
        self._pidfd: int | None = os.pidfd_open(self.pid)
        self.exited = self._loop.create_future()
        self._loop.add_reader(self._pidfd, self._on_readable)

    def _on_readable(self) -> None:
        # Level-triggered: stop watching at once or the loop would spin on the readable fd.
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
        self._note_exit()
        set_result(self.exited)

    def signal(self, hard: bool) -> None:
        if self._pidfd is None or self.reaped:
            return
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL if hard else signal.SIGTERM)

    def reap(self) -> None:
        self._wait4(0)

    def reap_blocking(self) -> None:
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while not self._wait4(os.WNOHANG) and time.monotonic() < deadline:
            time.sleep(0.001)
        if not self.reaped:
            log.error("job process %s survived SIGKILL", self.pid, extra={"action": "kill_failed"})

    def _wait4(self, options: int) -> bool:
        if self.reaped:
            return True
        try:
            pid, status, ru = os.wait4(self.pid, options)
        except ChildProcessError:  # someone else reaped it (a foreign waitpid(-1)): no status
            self._note_exit()
            self.usage = ResourceUsage(0.0, 0.0, 0, self._wall_seconds())
            self.popen.returncode = -1
            return True
        if pid == 0:
            return False
        self._note_exit()
        self.returncode = os.waitstatus_to_exitcode(status)
        # Tell Popen, so it never waits on (or signals) a pid that may now be reused.
        self.popen.returncode = self.returncode
        peak = ru.ru_maxrss * _RU_MAXRSS_BYTES_PER_UNIT
        self.usage = ResourceUsage(ru.ru_utime, ru.ru_stime, peak, self._wall_seconds())
        return True

    def close(self) -> None:
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None


class _SampledChild(Child):
    """Fallback without pidfd: a thread waits for the exit, psutil samples usage meanwhile."""

    def __init__(self, popen: subprocess.Popen[bytes], started: float) -> None:
        super().__init__(popen, started)
        loop = asyncio.get_running_loop()
        self.exited = in_thread(popen.wait)
        self.exited.add_done_callback(self._note_exit)
        self._user = self._system = 0.0
        self._peak_rss = 0
        self._sampler = loop.create_task(self._sample())

    async def _sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(self.pid)
            while True:
                with proc.oneshot():
                    times, mem = proc.cpu_times(), proc.memory_info()
                self._user = times.user + getattr(times, "children_user", 0.0)
                self._system = times.system + getattr(times, "children_system", 0.0)
                self._peak_rss = max(self._peak_rss, mem.rss, getattr(mem, "peak_wset", 0))
                await asyncio.sleep(USAGE_SAMPLE_INTERVAL_SECONDS)

    def signal(self, hard: bool) -> None:
        with contextlib.suppress(OSError):  # Popen checks for an already-reaped process itself
            if hard:
                self.popen.kill()
            elif sys.platform == "win32":
                self.popen.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                self.popen.terminate()

    def reap(self) -> None:
        if self.reaped:
            return
        self._sampler.cancel()
        self.returncode = self.popen.wait()
        wall = self._wall_seconds()
        self.usage = ResourceUsage(self._user, self._system, self._peak_rss, wall)

    def reap_blocking(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(KILL_WAIT_SECONDS)
        if self.popen.returncode is not None:
            self.reap()

    def close(self) -> None:
        self._sampler.cancel()


def watch(popen: subprocess.Popen[bytes], started: float) -> Child:
    if support.pidfd_supported():
        return _PidfdChild(popen, started)
    return _SampledChild(popen, started)
