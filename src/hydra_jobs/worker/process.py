"""Run one job as a subprocess and supervise it until it and everything it started are gone.

A job may fork, daemonize, ignore SIGTERM, flood stdout or leave a grandchild holding the pipe.
Whatever it does, `run_process` ends (exit, timeout or cancel), kills and reaps the job's process
tree, forwards output in bounded memory and reports CPU and peak RSS measured by the kernel.

On Linux the main process is watched through a pidfd and reaped with `wait4`, and it is left a
zombie until the tree has been dealt with: a zombie keeps its pid, so the process group id we
signal can never be recycled under us. Elsewhere a waiter thread and psutil sampling stand in.

The spawn itself runs in a small thread pool: `Popen` blocks its thread until the child has
exec'd (vfork), from ~0.3 ms on an idle machine to well over 1 ms when the cores are busy and the
child waits for one. On the event loop that wait stalled every other run and request; in a thread
it does not (the GIL is released meanwhile). Measured with bench/throughput.py: the loop's thread
does ~0.1 ms less per run, the spawner threads ~0.2 ms more (Popen's own work and the hand-off),
for ~20% more runs per second, since the loop's thread is what limits them.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import errno
import functools
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any, TypeVar

import psutil

from hydra_jobs.worker import containment
from hydra_jobs.worker.cgroups import RunCgroup
from hydra_jobs.worker.containment import RUN_MARKER_VAR, RunRecord

if TYPE_CHECKING:
    from hydra_jobs.worker.confine import Sandbox

__all__ = [
    "DRAIN_WINDOW_SECONDS",
    "Outcome",
    "OutputSink",
    "ProcessResult",
    "ProcessSpec",
    "ResourceUsage",
    "run_process",
]

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 64 * 1024
# After the main process exits, how long leftovers may keep stdout open before they are killed.
DRAIN_WINDOW_SECONDS = 0.5
# After SIGKILL, how long to wait for the kernel to finish the kill before giving up on a process.
KILL_WAIT_SECONDS = 2.0
# Once we stop waiting on the pipe, how much already-written output we still read.
ABORT_DRAIN_LIMIT_BYTES = 1024 * 1024
# Only where pidfd is unavailable: how often psutil samples usage and checks descendants.
USAGE_SAMPLE_INTERVAL_SECONDS = 0.1
EXIT_POLL_INTERVAL_SECONDS = 0.02
TRUNCATION_MARKER = "\n[hydra: output truncated after {cap} bytes]\n"
SPAWN_THREADS = 4  # spawns in flight at once; each takes a thread for well under a millisecond
# A fork elsewhere holds a just-written script open until it execs: well under a millisecond,
# more when the cores are busy. Retries back off from the first delay, within the budget.
TEXT_BUSY_RETRY_SECONDS = 1.0
TEXT_BUSY_FIRST_DELAY_SECONDS = 0.001

_WINDOWS = sys.platform == "win32"
_LINUX = sys.platform.startswith("linux")
_T = TypeVar("_T")
_RU_MAXRSS_BYTES_PER_UNIT = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB
_spawners = ThreadPoolExecutor(SPAWN_THREADS, thread_name_prefix="hydra-spawn")


class Outcome(StrEnum):
    EXITED = "exited"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    SPAWN_FAILED = "spawn_failed"


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    argv: list[str]
    env: dict[str, str]
    cwd: str | None = None
    timeout_seconds: float | None = None
    kill_grace_seconds: float = 5.0  # TERM -> wait this long -> KILL
    output_cap_bytes: int = 10 * 1024 * 1024
    flush_interval_seconds: float = 0.1  # ship buffered output at least this often
    flush_bytes: int = 64 * 1024  # ... or when this much is buffered
    stdin_data: bytes | None = None  # None -> /dev/null
    sandbox: Sandbox | None = None  # confinement of the job (confine.py); None: none
    run_as: tuple[int, int] | None = None  # (uid, gid) the job runs as (run_as.py); None: ours
    use_cgroup: bool = True  # a cgroup v2 per run where the worker can create one (Linux)
    keep_daemons: bool = False  # the job's opt-out: what left its session outlives the run


@dataclass(frozen=True, slots=True)
class ResourceUsage:
    """What the job consumed, from the kernel when it was reaped (psutil samples where not).

    CPU covers the main process and the descendants it waited for, or with a run cgroup every
    process of the run (whose memory.peak, where measured, is `peak_memory_bytes`). Peak RSS is
    the largest single process; on Linux a spawned child inherits the worker's RSS high-water
    mark until it execs, so values at or below the worker's own footprint are an upper bound.
    """

    cpu_user_seconds: float
    cpu_system_seconds: float
    peak_rss_bytes: int
    wall_seconds: float
    peak_memory_bytes: int | None = None  # the run cgroup's memory.peak, where it is measured

    def as_dict(self) -> dict[str, float | int]:
        usage: dict[str, float | int] = {
            "cpu_user_seconds": self.cpu_user_seconds,
            "cpu_system_seconds": self.cpu_system_seconds,
            "peak_rss_bytes": self.peak_rss_bytes,
            "wall_seconds": self.wall_seconds,
        }
        if self.peak_memory_bytes is not None:
            usage["peak_memory_bytes"] = self.peak_memory_bytes
        return usage


@dataclass(frozen=True, slots=True)
class ProcessResult:
    outcome: Outcome
    exit_code: int | None  # negative signal number if killed by a signal
    error: str | None  # why the run did not end in a clean exit; None if it did
    usage: ResourceUsage
    output_bytes: int  # everything the job wrote, including what the cap dropped
    truncated: bool
    pid: int | None
    processes_killed: int = 0  # the run's processes still alive at its end, killed by us


OutputSink = Callable[[str], Awaitable[None]]
StartSink = Callable[[int, float], Awaitable[None]]  # (pid, seconds since its exec)


async def run_process(
    spec: ProcessSpec,
    on_output: OutputSink,
    cancel: asyncio.Event,
    on_start: StartSink | None = None,
) -> ProcessResult:
    """Run `spec` to completion and return how it ended; never leaves a process behind.

    `on_start(pid, seconds_ago)` is told the job's pid and how long ago it was really started
    (spawning, confinement and the move into its cgroup take milliseconds, and a quick job may
    have ended by then): a run's start time and its wall time count from the exec, not from
    before the spawn. Output goes to `on_output` in order. Setting `cancel` stops the job
    gracefully (TERM, grace, KILL). If the calling task is cancelled or a callback raises, the
    tree is SIGKILLed and reaped before the exception propagates.
    """
    started = time.monotonic()
    if cancel.is_set():
        return _not_started(Outcome.CANCELLED, "cancelled before start", started)
    try:
        popen, cgroup, spawned = await _spawn_off_loop(spec)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        return _not_started(Outcome.SPAWN_FAILED, f"spawn failed: {exc}", started)
    run = _Run(spec, popen, on_output, started, cgroup, spawned)
    try:
        return await run.supervise(cancel, on_start)
    finally:
        run.close()


def _not_started(outcome: Outcome, error: str, started: float) -> ProcessResult:
    usage = ResourceUsage(0.0, 0.0, 0, time.monotonic() - started)
    return ProcessResult(outcome, None, error, usage, 0, False, None)


# The job, its cgroup, and when (time.monotonic()) its exec was done.
_Spawned = tuple[subprocess.Popen[bytes], RunCgroup | None, float]


async def _spawn_off_loop(spec: ProcessSpec) -> _Spawned:
    """`_spawn` in a spawner thread; a job started for a caller cancelled meanwhile is killed."""
    spawning = asyncio.get_running_loop().run_in_executor(_spawners, _spawn_contained, spec)
    try:
        return await asyncio.shield(spawning)
    except asyncio.CancelledError:
        spawning.add_done_callback(functools.partial(_kill_unwatched, spec))
        raise


def _spawn_contained(spec: ProcessSpec) -> _Spawned:
    """Spawn the job and move it into its run's cgroup at once (containment.py)."""
    contain = _LINUX and not spec.keep_daemons
    if contain:
        containment.ensure_subreaper()
    cgroup = RunCgroup.create() if contain and spec.use_cgroup else None
    try:
        popen = _spawn(spec)
    except BaseException:
        if cgroup is not None:
            cgroup.remove()
        raise
    spawned = time.monotonic()  # Popen returns once the exec is done
    if cgroup is not None and not cgroup.adopt(popen.pid):
        cgroup.remove()
        cgroup = None
    return popen, cgroup, spawned


def _kill_unwatched(spec: ProcessSpec, spawning: asyncio.Future[_Spawned]) -> None:
    if spawning.cancelled() or spawning.exception() is not None:
        return
    popen, cgroup, spawned = spawning.result()
    _Run(spec, popen, _discard, spawned, cgroup).close()  # kills and reaps the tree


async def _discard(_text: str) -> None:
    return None


def _spawn(spec: ProcessSpec) -> subprocess.Popen[bytes]:
    if not spec.argv:
        raise ValueError("empty argv")
    stdin: int | IO[bytes] = subprocess.DEVNULL
    feed: IO[bytes] | None = None
    if spec.stdin_data is not None:
        # A file, not a pipe: the job reads at its own pace and we have no writer to babysit.
        feed = tempfile.TemporaryFile()
        feed.write(spec.stdin_data)
        feed.seek(0)
        stdin = feed
    common: dict[str, Any] = {
        "stdin": stdin,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.STDOUT,
        "cwd": spec.cwd,
        "env": spec.env,
        "close_fds": True,
    }
    if spec.run_as is not None:  # setgroups([]), setgid, setuid in the child, before exec
        common.update(user=spec.run_as[0], group=spec.run_as[1], extra_groups=[])
    try:
        if sys.platform == "win32":
            flags = subprocess.CREATE_NEW_PROCESS_GROUP
            return subprocess.Popen(spec.argv, creationflags=flags, **common)
        start = functools.partial(_popen_owned, spec.argv, start_new_session=True, **common)
        if spec.sandbox is not None:
            return spec.sandbox.spawn(start)
        return start()
    finally:
        if feed is not None:
            feed.close()


def _popen_owned(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start the job and mark it as ours in the forking thread (containment.spawned)."""
    popen = _popen_retrying_busy(argv, **kwargs)
    if _LINUX:
        containment.spawned(popen.pid)
    return popen


def _popen_retrying_busy(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """Popen, retried while exec fails with ETXTBSY ("Text file busy").

    A script file the worker has just written is briefly open for writing in any child that
    another thread forked meanwhile, until that child execs; exec of the file fails until then.
    """
    deadline = time.monotonic() + TEXT_BUSY_RETRY_SECONDS
    delay = TEXT_BUSY_FIRST_DELAY_SECONDS
    while True:
        try:
            return subprocess.Popen(argv, **kwargs)
        except OSError as exc:
            if exc.errno != errno.ETXTBSY or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)  # a spawner thread, never the event loop
        delay *= 2


@functools.cache
def _pidfd_supported() -> bool:
    if not (hasattr(os, "pidfd_open") and hasattr(os, "wait4")):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # kernel older than 5.3, or seccomp
        return False
    return True


def _set_result(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _in_thread(fn: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
    """Run a blocking call in its own daemon thread. Not the shared executor: a job's wait or
    read blocks for the job's whole life and would starve every other job of its few threads."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()

    def target() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:
            outcome: tuple[Callable[..., None], object] = (_set_exception, exc)
        else:
            outcome = (_set_result, result)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile; nobody is waiting
            loop.call_soon_threadsafe(outcome[0], fut, outcome[1])

    threading.Thread(target=target, name="hydra-job-io", daemon=True).start()
    return fut


# --- the main process -------------------------------------------------------------------------


class _Child:
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


class _PidfdChild(_Child):
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
        _set_result(self.exited)

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


class _SampledChild(_Child):
    """Fallback without pidfd: a thread waits for the exit, psutil samples usage meanwhile."""

    def __init__(self, popen: subprocess.Popen[bytes], started: float) -> None:
        super().__init__(popen, started)
        loop = asyncio.get_running_loop()
        self.exited = _in_thread(popen.wait)
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


def _watch(popen: subprocess.Popen[bytes], started: float) -> _Child:
    if _pidfd_supported():
        return _PidfdChild(popen, started)
    return _SampledChild(popen, started)


# --- the rest of the tree -----------------------------------------------------------------------


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _group_exists(pgid: int) -> bool:
    if _WINDOWS:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_members(pgid: int) -> list[psutil.Process]:
    """Live members of a process group; zombies are dead and only wait for their parent."""
    if _WINDOWS:
        return []
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
    return members


def _pipe_holders(fd: int) -> list[psutil.Process]:
    """Other processes holding the pipe `fd` belongs to; finds escapees that left the group."""
    if not sys.platform.startswith("linux"):
        return []
    target = f"pipe:[{os.fstat(fd).st_ino}]"
    holders = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError, psutil.Error):  # gone, or not ours to inspect
            fd_dir = f"/proc/{entry.name}/fd"
            if any(_readlink(f"{fd_dir}/{name}") == target for name in os.listdir(fd_dir)):
                holders.append(psutil.Process(int(entry.name)))
    return holders


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:  # the descriptor was closed while we looked
        return None


def _processes(pids: Iterable[int]) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    return procs


def _done_future() -> asyncio.Future[None]:
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    fut.set_result(None)
    return fut


def _is_alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone_blocking(procs: list[psutil.Process], timeout: float) -> None:
    """Error path only: SIGKILL is delivered asynchronously, so wait (briefly) until it landed."""
    deadline = time.monotonic() + timeout
    while procs := [p for p in procs if _is_alive(p)]:
        if time.monotonic() >= deadline:
            log.error("processes %s survived SIGKILL", [p.pid for p in procs])
            return
        time.sleep(0.001)


def _signal_procs(procs: Iterable[psutil.Process], hard: bool) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # psutil refuses pids that were reused
            if hard:
                proc.kill()
            elif not _WINDOWS:  # on Windows terminate() is already a hard kill
                proc.terminate()


async def _wait_exited(
    procs: list[psutil.Process], also: asyncio.Future[Any], timeout: float
) -> bool:
    """Wait until `also` is done and every process in `procs` has exited; False on timeout."""
    if _pidfd_supported():
        return await _wait_exited_pidfd(procs, also, timeout)
    deadline = time.monotonic() + timeout
    while not (also.done() and not any(_is_alive(p) for p in procs)):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(EXIT_POLL_INTERVAL_SECONDS)
    return True


async def _wait_exited_pidfd(
    procs: list[psutil.Process], also: asyncio.Future[Any], timeout: float
) -> bool:
    loop = asyncio.get_running_loop()
    waits: list[asyncio.Future[Any]] = [also]
    fds: list[int] = []
    try:
        for proc in procs:
            try:
                fd = os.pidfd_open(proc.pid)
            except ProcessLookupError:
                continue
            fds.append(fd)
            if proc.is_running():  # the pidfd is for our process, not a later one with its pid
                fut = loop.create_future()
                loop.add_reader(fd, _on_pidfd_readable, loop, fd, fut)
                waits.append(fut)
        _, pending = await asyncio.wait(waits, timeout=timeout)
        return not pending
    finally:
        for fd in fds:
            loop.remove_reader(fd)
            os.close(fd)


def _on_pidfd_readable(loop: asyncio.AbstractEventLoop, fd: int, fut: asyncio.Future[Any]) -> None:
    loop.remove_reader(fd)
    _set_result(fut)


# --- output -------------------------------------------------------------------------------------


class _OutputPump:
    """Reads the job's merged stdout/stderr and ships it to the sink in bounded batches."""

    def __init__(self, pipe: IO[bytes], spec: ProcessSpec, sink: OutputSink) -> None:
        self._pipe = pipe
        self._fd = pipe.fileno()
        self._spec = spec
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._flush_at: float | None = None  # loop time by which pending text must be shipped
        self._wake: asyncio.Future[bool] | None = None
        self._watching = False
        self._thread_read: asyncio.Future[bytes] | None = None
        self._aborted = False
        self._abort_budget_bytes = ABORT_DRAIN_LIMIT_BYTES
        self.total_bytes = 0
        self.forwarded_bytes = 0
        self.truncated = False
        if not _WINDOWS:
            os.set_blocking(self._fd, False)

    async def run(self) -> None:
        while (data := await self._next_chunk()) is not None:
            self._accept(data)
            due = self._flush_at is not None and self._loop.time() >= self._flush_at
            if due or self._pending_bytes >= self._spec.flush_bytes:
                await self._flush()
            else:
                await asyncio.sleep(0)  # a job writing flat out must not starve the event loop
        if not self.truncated:
            self._push(self._decoder.decode(b"", final=True), 0)
        await self._flush()

    def abort(self) -> None:
        """Stop waiting for EOF: read what is already in the pipe (bounded), then finish."""
        self._aborted = True
        if self._wake is not None:
            _set_result(self._wake, True)

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        self._unwatch()
        self._pipe.close()

    def _accept(self, data: bytes) -> None:
        self.total_bytes += len(data)
        if self.truncated or not data:
            return
        room = self._spec.output_cap_bytes - self.forwarded_bytes
        if len(data) <= room:
            self.forwarded_bytes += len(data)
            self._push(self._decoder.decode(data), len(data))
            return
        # A multibyte character cut by the cap stays in the decoder and is dropped with the rest.
        self._push(self._decoder.decode(data[:room]), room)
        self.forwarded_bytes += room
        self.truncated = True
        self._push(TRUNCATION_MARKER.format(cap=self._spec.output_cap_bytes), 0)

    def _push(self, text: str, nbytes: int) -> None:
        if not text:
            return
        self._pending.append(text)
        self._pending_bytes += nbytes
        if self._flush_at is None:
            self._flush_at = self._loop.time() + self._spec.flush_interval_seconds

    async def _flush(self) -> None:
        self._flush_at = None
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        await self._sink(text)

    async def _next_chunk(self) -> bytes | None:
        """The next chunk; b"" when it is time to flush; None at EOF or when we gave up."""
        if _WINDOWS:
            return await self._next_chunk_threaded()
        while True:
            try:
                data = os.read(self._fd, READ_CHUNK_BYTES)
            except BlockingIOError:
                if self._aborted:
                    return None
                if not await self._readable_before_flush():
                    return b""
                continue
            if not data:
                return None
            if self._aborted:
                self._abort_budget_bytes -= len(data)
                if self._abort_budget_bytes < 0:
                    return None
            return data

    async def _readable_before_flush(self) -> bool:
        """Wait until the pipe is readable (True) or pending output is due (False)."""
        wake: asyncio.Future[bool] = self._loop.create_future()
        self._wake = wake
        self._loop.add_reader(self._fd, _set_result, wake, True)
        self._watching = True
        timer = None
        if self._flush_at is not None:
            timer = self._loop.call_at(self._flush_at, _set_result, wake, False)
        try:
            return await wake
        finally:
            self._unwatch()
            self._wake = None
            if timer is not None:
                timer.cancel()

    def _unwatch(self) -> None:
        if self._watching:
            self._loop.remove_reader(self._fd)
            self._watching = False

    async def _next_chunk_threaded(self) -> bytes | None:
        # Windows pipes cannot be watched by the event loop, so one blocking read at a time runs
        # in a thread. A read left blocked by an escaped process ends when that process does.
        # (Untested here: this module's tests run on Linux.)
        if self._thread_read is None:
            self._thread_read = _in_thread(os.read, self._fd, READ_CHUNK_BYTES)
        self._wake = self._loop.create_future()
        timeout = None if self._flush_at is None else max(0.0, self._flush_at - self._loop.time())
        waits: list[asyncio.Future[Any]] = [self._thread_read, self._wake]
        await asyncio.wait(waits, timeout=timeout)
        self._wake = None
        if not self._thread_read.done():
            return None if self._aborted else b""
        data = self._thread_read.result()
        self._thread_read = None
        return data or None


# --- supervision --------------------------------------------------------------------------------


class _Run:
    """One supervised run: waits for the end, cleans up the tree, builds the result."""

    def __init__(
        self,
        spec: ProcessSpec,
        popen: subprocess.Popen[bytes],
        sink: OutputSink,
        started: float,
        cgroup: RunCgroup | None = None,
        spawned: float | None = None,
    ) -> None:
        """`started`: when the spawn began (the window in which its orphans may appear);
        `spawned`: when the job's exec was done (its wall time and timeout count from then)."""
        self.spec = spec
        self.popen = popen
        self.pgid = popen.pid  # start_new_session makes the job its own group (and session) leader
        self._tasks: list[asyncio.Task[Any]] = []
        self.child: _Child | None = None
        self.pump: _OutputPump | None = None
        self._completed = False  # the tree is gone and the main process reaped
        self.cgroup = cgroup
        self.record: RunRecord | None = None
        if _LINUX:
            marker = spec.env.get(RUN_MARKER_VAR)
            age = time.monotonic() - started
            self.record = containment.register(popen.pid, marker, spec.keep_daemons, age)
        self.killed: set[int] = set()  # pids of the run's processes we signalled while alive
        self._unreaped: dict[int, psutil.Process] = {}  # of those, the ones to reap if ours
        self.outcome = Outcome.EXITED
        assert popen.stdout is not None
        try:
            self.child = _watch(popen, started if spawned is None else spawned)
            self.pump = _OutputPump(popen.stdout, spec, sink)
        except BaseException:
            self.close()
            raise

    async def supervise(self, cancel: asyncio.Event, on_start: StartSink | None) -> ProcessResult:
        child, pump = self._parts()
        pump_task = asyncio.create_task(pump.run())
        self._tasks.append(pump_task)
        if on_start is not None:
            await on_start(child.pid, time.monotonic() - child.started)
        outcome = await self._wait_for_end(cancel, pump_task)
        self.outcome = outcome
        if outcome is not Outcome.EXITED:
            log.debug(
                "stopping job process tree %s: %s",
                child.pid,
                outcome,
                extra={"action": "process_stop", "pid": child.pid},
            )
            await self._terminate(self._tree(child.pid))
        await self._finish(pump_task)
        self._completed = True
        return self._result(outcome)

    def _tree(self, pid: int) -> list[psutil.Process]:
        """Snapshot the tree before signalling: descendants that called setsid left the group,
        and once their parent dies they can no longer be found."""
        by_pid = {p.pid: p for p in _descendants(pid) + _group_members(self.pgid)}
        by_pid.update((p.pid, p) for p in self._contained())
        by_pid.pop(pid, None)  # the main process is signalled and watched through `child`
        return list(by_pid.values())

    def _contained(self) -> list[psutil.Process]:
        """The run's processes outside its tree: its cgroup's members, adopted orphans."""
        pids = set(self.cgroup.members() if self.cgroup is not None else [])
        if self.record is not None and not self.spec.keep_daemons:
            pids.update(containment.strays(self.record))
        pids.discard(self.popen.pid)
        return _processes(pids)

    def _parts(self) -> tuple[_Child, _OutputPump]:
        assert self.child is not None and self.pump is not None
        return self.child, self.pump

    async def _wait_for_end(self, cancel: asyncio.Event, pump_task: asyncio.Task[None]) -> Outcome:
        child, _ = self._parts()
        cancel_task = asyncio.create_task(cancel.wait())
        self._tasks.append(cancel_task)
        waits: set[asyncio.Future[Any]] = {child.exited, cancel_task, pump_task}
        deadline = None
        if self.spec.timeout_seconds is not None:
            deadline = child.started + self.spec.timeout_seconds
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait(waits, timeout=timeout, return_when=FIRST_COMPLETED)
            if child.exited in done:
                return Outcome.EXITED
            if pump_task in done:
                pump_task.result()  # raise the sink's error; a clean EOF just means stdout closed
                waits.discard(pump_task)
                continue
            return Outcome.CANCELLED if cancel_task in done else Outcome.TIMED_OUT

    async def _terminate(self, victims: list[psutil.Process]) -> None:
        """TERM the group, the main process and `victims`; KILL what outlives the grace period."""
        child, _ = self._parts()
        self._signal_all(victims, hard=False)
        if await _wait_exited(victims, child.exited, self.spec.kill_grace_seconds):
            return
        survivors = [p for p in victims if _is_alive(p)]
        log.warning(
            "job process tree %s outlived its %ss grace period; sending SIGKILL",
            child.pid,
            self.spec.kill_grace_seconds,
            extra={"action": "process_kill", "pid": child.pid},
        )
        self._signal_all(survivors, hard=True)
        if not await _wait_exited(survivors, child.exited, KILL_WAIT_SECONDS):
            log.error("job process tree %s survived SIGKILL", child.pid)

    def _signal_all(self, victims: list[psutil.Process], hard: bool) -> None:
        child, _ = self._parts()
        self._count(victims)
        if not child.exited.done():
            self.killed.add(child.pid)
        # Signalling the group is safe while its id cannot have been recycled: the unreaped main
        # process (even a zombie) or a surviving member of ours still holds it.
        if not _WINDOWS and (child.holds_pid or any(_is_alive(p) for p in victims)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGKILL if hard else signal.SIGTERM)
        child.signal(hard)
        _signal_procs(victims, hard)

    async def _finish(self, pump_task: asyncio.Task[None]) -> None:
        """The main process is gone: deal with leftovers, reap, and collect the last output."""
        child, pump = self._parts()
        await child.exited
        if not await _done_within(pump_task, DRAIN_WINDOW_SECONDS):
            # Something still holds stdout. The main process is still a zombie, so the group id
            # is ours and enumerating it is safe.
            await self._terminate(self._leftovers())
        child.reap()
        if _group_exists(self.pgid):  # leftovers with stdout closed; the group id is still ours
            await self._terminate(_group_members(self.pgid))
        await self._sweep()
        if not await _done_within(pump_task, DRAIN_WINDOW_SECONDS):
            # Someone we could not find or kill still holds the pipe; stop waiting for it.
            log.warning(
                "a process outside job %s's group holds its stdout; closing it",
                child.pid,
                extra={"action": "output_abandoned", "pid": child.pid},
            )
            pump.abort()
        await pump_task

    def _leftovers(self) -> list[psutil.Process]:
        """What remains of a job whose main process exited: its group, and whoever holds its
        stdout (a descendant that called setsid and was orphaned is in no group of ours)."""
        _, pump = self._parts()
        by_pid = {p.pid: p for p in _group_members(self.pgid) + _pipe_holders(pump.fileno())}
        by_pid.pop(self.popen.pid, None)
        return list(by_pid.values())

    async def _sweep(self) -> None:
        """The main process is reaped: end what is left of the run anywhere (containment.py).

        A run is over only once this finds nothing. Leftovers of a job that exited get TERM and
        the grace period first; a job stopped for timeout or cancel had its grace already.
        """
        if self.spec.keep_daemons or (self.cgroup is None and self.record is None):
            return
        hard = self.outcome is not Outcome.EXITED
        grace_ends = time.monotonic() + self.spec.kill_grace_seconds
        deadline = grace_ends + KILL_WAIT_SECONDS
        while victims := self._contained():
            if time.monotonic() >= deadline:
                log.error("processes %s of job %s survived SIGKILL", victims, self.popen.pid)
                return
            hard = hard or time.monotonic() >= grace_ends
            self._count(victims)
            if self.cgroup is not None and hard:
                self.cgroup.kill()  # also ends what its members fork meanwhile
            _signal_procs(victims, hard)
            wait = KILL_WAIT_SECONDS if hard else grace_ends - time.monotonic()
            await _wait_exited(victims, _done_future(), max(0.0, wait))
            self._reap_adopted()
        self._reap_adopted()  # also what `_terminate` killed before, now orphaned to us

    def _count(self, victims: list[psutil.Process]) -> None:
        for proc in victims:
            if _is_alive(proc):
                self.killed.add(proc.pid)
                self._unreaped.setdefault(proc.pid, proc)

    def _reap_adopted(self) -> None:
        """Orphans we killed were re-parented to us (the subreaper): collect their zombies.

        psutil's identity check (pid and start time) keeps us from reaping a later process that
        got a reaped victim's pid, such as another run's main process.
        """
        for pid, proc in list(self._unreaped.items()):
            try:
                if not proc.is_running() or proc.ppid() != os.getpid():
                    del self._unreaped[pid]  # gone, or someone else's to reap
                elif os.waitpid(pid, os.WNOHANG)[0] == pid:
                    del self._unreaped[pid]
            except (OSError, psutil.Error):
                del self._unreaped[pid]

    def _usage(self, usage: ResourceUsage) -> ResourceUsage:
        """The cgroup counts every member's CPU, also of those nobody waited for."""
        if self.cgroup is None:
            return usage
        user, system, peak = self.cgroup.usage()
        return ResourceUsage(
            max(usage.cpu_user_seconds, user),
            max(usage.cpu_system_seconds, system),
            usage.peak_rss_bytes,
            usage.wall_seconds,
            peak,
        )

    def _result(self, outcome: Outcome) -> ProcessResult:
        child, pump = self._parts()
        assert child.usage is not None
        return ProcessResult(
            outcome=outcome,
            exit_code=child.returncode,
            error=_describe(outcome, child.returncode, self.spec),
            usage=self._usage(child.usage),
            output_bytes=pump.total_bytes,
            truncated=pump.truncated,
            pid=child.pid,
            processes_killed=len(self.killed),
        )

    def _kill_now(self) -> None:
        """SIGKILL everything and wait for it without awaiting: we are unwinding from an error."""
        holds_pid = self.popen.returncode is None if self.child is None else self.child.holds_pid
        victims = self._tree(self.popen.pid) if holds_pid else []
        if holds_pid and not _WINDOWS:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGKILL)
        _signal_procs(victims, hard=True)
        if self.child is None:
            self.popen.kill()
            self.popen.wait()
        elif not self.child.reaped:
            self.child.signal(hard=True)
            self.child.reap_blocking()
        if _group_exists(self.pgid):  # reaped, but members still hold the group id
            leftovers = _group_members(self.pgid)
            _signal_procs(leftovers, hard=True)
            victims += leftovers
        _wait_gone_blocking(victims, KILL_WAIT_SECONDS)
        self._sweep_blocking()

    def _sweep_blocking(self) -> None:
        """`_sweep` without awaiting, all SIGKILL: we are unwinding from an error."""
        if self.spec.keep_daemons:
            return
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while (victims := self._contained()) and time.monotonic() < deadline:
            if self.cgroup is not None:
                self.cgroup.kill()
            self._count(victims)
            _signal_procs(victims, hard=True)
            _wait_gone_blocking(victims, KILL_WAIT_SECONDS)
            self._reap_adopted()

    def close(self) -> None:
        """Release everything; if supervision did not complete, kill the tree first."""
        if not self._completed:
            self._kill_now()
        for task in self._tasks:
            if task.done():
                if not task.cancelled():
                    task.exception()  # mark retrieved: it was raised already or is moot
            else:
                task.cancel()
        if self.pump is not None:
            self.pump.close()
        elif self.popen.stdout is not None:
            self.popen.stdout.close()
        if self.child is not None:
            self.child.close()
        if self.record is not None:
            containment.forget(self.record)
            self.record = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None


async def _done_within(task: asyncio.Task[None], timeout: float) -> bool:
    if not task.done():
        await asyncio.wait([task], timeout=timeout)
    return task.done()


def _describe(outcome: Outcome, code: int | None, spec: ProcessSpec) -> str | None:
    if outcome is Outcome.TIMED_OUT:
        return f"timed out after {spec.timeout_seconds:g}s"
    if outcome is Outcome.CANCELLED:
        return "cancelled"
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"killed by signal {name}"
    return None if code == 0 else f"exited with code {code}"
