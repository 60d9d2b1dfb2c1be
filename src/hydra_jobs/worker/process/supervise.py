"""Run one job as a subprocess and supervise it until it and everything it started are gone.

A job may fork, daemonize, ignore SIGTERM, flood stdout or leave a grandchild holding the pipe.
Whatever it does, `run_process` ends (exit, timeout or cancel), kills and reaps the job's process
tree, forwards output in bounded memory and reports CPU and peak RSS measured by the kernel. The
parts: `spawn.py` starts the job, `child.py` watches its main process, `tree.py` finds and kills
the rest of its tree, `output.py` pumps its output.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import subprocess
import time
from asyncio import FIRST_COMPLETED
from typing import Any

import psutil

from hydra_jobs.worker import containment
from hydra_jobs.worker.cgroups import RunCgroup
from hydra_jobs.worker.containment import RUN_MARKER_VAR, RunRecord
from hydra_jobs.worker.process import spawn
from hydra_jobs.worker.process.child import KILL_WAIT_SECONDS, Child, watch
from hydra_jobs.worker.process.output import OutputPump
from hydra_jobs.worker.process.spec import (
    Outcome,
    OutputSink,
    ProcessResult,
    ProcessSpec,
    ResourceUsage,
    StartSink,
)
from hydra_jobs.worker.process.support import LINUX, WINDOWS
from hydra_jobs.worker.process.tree import (
    descendants,
    done_future,
    group_exists,
    group_members,
    is_alive,
    pipe_holders,
    processes,
    signal_procs,
    wait_exited,
    wait_gone_blocking,
)

log = logging.getLogger(__name__)

# After the main process exits, how long leftovers may keep stdout open before they are killed.
DRAIN_WINDOW_SECONDS = 0.5


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


async def _spawn_off_loop(spec: ProcessSpec) -> spawn.Spawned:
    """`spawn_job` in a spawner thread; a job started for a caller cancelled meanwhile is killed."""
    loop = asyncio.get_running_loop()
    spawning = loop.run_in_executor(spawn.SPAWNERS, spawn.spawn_contained, spec)
    try:
        return await asyncio.shield(spawning)
    except asyncio.CancelledError:
        spawning.add_done_callback(functools.partial(_kill_unwatched, spec))
        raise


def _kill_unwatched(spec: ProcessSpec, spawning: asyncio.Future[spawn.Spawned]) -> None:
    if spawning.cancelled() or spawning.exception() is not None:
        return
    popen, cgroup, spawned = spawning.result()
    _Run(spec, popen, _discard, spawned, cgroup).close()  # kills and reaps the tree


async def _discard(_text: str) -> None:
    return None


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
        self.child: Child | None = None
        self.pump: OutputPump | None = None
        self._completed = False  # the tree is gone and the main process reaped
        self.cgroup = cgroup
        self.record: RunRecord | None = None
        if LINUX:
            marker = spec.env.get(RUN_MARKER_VAR)
            age = time.monotonic() - started
            self.record = containment.register(popen.pid, marker, spec.keep_daemons, age)
        self.killed: set[int] = set()  # pids of the run's processes we signalled while alive
        self._unreaped: dict[int, psutil.Process] = {}  # of those, the ones to reap if ours
        self.outcome = Outcome.EXITED
        assert popen.stdout is not None
        try:
            self.child = watch(popen, started if spawned is None else spawned)
            self.pump = OutputPump(popen.stdout, spec, sink)
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
        by_pid = {p.pid: p for p in descendants(pid) + group_members(self.pgid)}
        by_pid.update((p.pid, p) for p in self._contained())
        by_pid.pop(pid, None)  # the main process is signalled and watched through `child`
        return list(by_pid.values())

    def _contained(self) -> list[psutil.Process]:
        """The run's processes outside its tree: its cgroup's members, adopted orphans."""
        pids = set(self.cgroup.members() if self.cgroup is not None else [])
        if self.record is not None and not self.spec.keep_daemons:
            pids.update(containment.strays(self.record))
        pids.discard(self.popen.pid)
        return processes(pids)

    def _parts(self) -> tuple[Child, OutputPump]:
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
        if await wait_exited(victims, child.exited, self.spec.kill_grace_seconds):
            return
        survivors = [p for p in victims if is_alive(p)]
        log.warning(
            "job process tree %s outlived its %ss grace period; sending SIGKILL",
            child.pid,
            self.spec.kill_grace_seconds,
            extra={"action": "process_kill", "pid": child.pid},
        )
        self._signal_all(survivors, hard=True)
        if not await wait_exited(survivors, child.exited, KILL_WAIT_SECONDS):
            log.error("job process tree %s survived SIGKILL", child.pid)

    def _signal_all(self, victims: list[psutil.Process], hard: bool) -> None:
        child, _ = self._parts()
        self._count(victims)
        if not child.exited.done():
            self.killed.add(child.pid)
        # Signalling the group is safe while its id cannot have been recycled: the unreaped main
        # process (even a zombie) or a surviving member of ours still holds it.
        if not WINDOWS and (child.holds_pid or any(is_alive(p) for p in victims)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGKILL if hard else signal.SIGTERM)
        child.signal(hard)
        signal_procs(victims, hard)

    async def _finish(self, pump_task: asyncio.Task[None]) -> None:
        """The main process is gone: deal with leftovers, reap, and collect the last output."""
        child, pump = self._parts()
        await child.exited
        if not await _done_within(pump_task, DRAIN_WINDOW_SECONDS):
            # Something still holds stdout. The main process is still a zombie, so the group id
            # is ours and enumerating it is safe.
            await self._terminate(self._leftovers())
        child.reap()
        if group_exists(self.pgid):  # leftovers with stdout closed; the group id is still ours
            await self._terminate(group_members(self.pgid))
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
        by_pid = {p.pid: p for p in group_members(self.pgid) + pipe_holders(pump.fileno())}
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
            signal_procs(victims, hard)
            wait = KILL_WAIT_SECONDS if hard else grace_ends - time.monotonic()
            await wait_exited(victims, done_future(), max(0.0, wait))
            self._reap_adopted()
        self._reap_adopted()  # also what `_terminate` killed before, now orphaned to us

    def _count(self, victims: list[psutil.Process]) -> None:
        for proc in victims:
            if is_alive(proc):
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
        if holds_pid and not WINDOWS:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGKILL)
        signal_procs(victims, hard=True)
        if self.child is None:
            self.popen.kill()
            self.popen.wait()
        elif not self.child.reaped:
            self.child.signal(hard=True)
            self.child.reap_blocking()
        if group_exists(self.pgid):  # reaped, but members still hold the group id
            leftovers = group_members(self.pgid)
            signal_procs(leftovers, hard=True)
            victims += leftovers
        wait_gone_blocking(victims, KILL_WAIT_SECONDS)
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
            signal_procs(victims, hard=True)
            wait_gone_blocking(victims, KILL_WAIT_SECONDS)
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
