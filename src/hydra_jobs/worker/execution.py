"""How a worker runs one delivery: begin it, spawn its process, report its events, finish it.

`RunExecution` is the half of `Worker` (worker.py) that handles one run once it is claimed: `begin`
with the broker (or give it back, or drop a duplicate), check out its git source, build its command,
environment and isolation, run the process, emit `started`, `output` and `finished` (with the log's
length, St2 in docs/reliability.md), and free the slot. A run the worker stopped itself (its lease
went stale, or it shut down) ends `lost` (D4, P7). The worker's lifecycle, lease, claiming and
control stay in worker.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from hydra_jobs.broker.base import Broker, Delivery
from hydra_jobs.clock import Clock
from hydra_jobs.events import Finished, Output, Started
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.limits import STORED
from hydra_jobs.status import RunStatus
from hydra_jobs.worker.confine import Confiner
from hydra_jobs.worker.executors import (
    ExecutorUnavailable,
    build_command,
    build_env,
    explain_spawn_failure,
    script_file,
)
from hydra_jobs.worker.git.source import GitSourceError, open_checkout, source_failure
from hydra_jobs.worker.guard import Guard
from hydra_jobs.worker.process.spec import Outcome, ProcessResult, ProcessSpec
from hydra_jobs.worker.process.supervise import run_process
from hydra_jobs.worker.run_space import RunSpaces
from hydra_jobs.worker.settings import WorkerConfig

log = logging.getLogger(__name__)

RECENT_RUNS = 10_000  # finished run ids remembered to drop a duplicate delivery

OUTCOME_STATUS = {
    Outcome.TIMED_OUT: RunStatus.TIMED_OUT,
    Outcome.CANCELLED: RunStatus.CANCELLED,
    Outcome.SPAWN_FAILED: RunStatus.FAILED,
}
STOP_REASONS = {
    "fenced": "stopped by its worker, which could not renew its lease (self-fencing)",
    "shutdown": "stopped by its worker, which shut down before the run finished",
}


@dataclass
class Slot:
    """A run in progress on this worker."""

    run_id: str
    cancel: asyncio.Event
    task: asyncio.Task[None] | None = None
    reason: str | None = None  # why the worker stopped it itself (STOP_REASONS), if it did
    pgid: int | None = None
    source_commit: str | None = None  # the commit its git source was checked out at


class RunExecution(ABC):
    """The runs of a `Worker`: what it sets up in `__init__` and these methods share."""

    broker: Broker
    config: WorkerConfig
    clock: Clock
    id: str
    slots: dict[str, Slot]
    completed: int
    guard: Guard | None
    confiner: Confiner | None
    spaces: RunSpaces | None
    _slot_freed: asyncio.Event
    _stopping: asyncio.Event
    _recent: OrderedDict[str, None]

    @abstractmethod
    def lease_fresh(self) -> bool:
        """True while the worker may run jobs (its lease, worker.py)."""

    async def _start(self, delivery: Delivery) -> None:
        run_id = delivery.run_id
        if not self.lease_fresh() or self._stopping.is_set():
            # We may already be presumed dead: give it back rather than start it.
            await self.broker.redeliver(delivery)
            return
        if run_id in self.slots or run_id in self._recent:
            await self.broker.ack(delivery)  # a duplicate of a run we have (or had)
            return
        if not await self.broker.begin(delivery, self.id):
            await self.broker.ack(delivery)  # cancelled while it waited
            return
        slot = Slot(run_id, asyncio.Event())
        self.slots[run_id] = slot
        slot.task = asyncio.create_task(self._execute(delivery, slot), name=f"run-{run_id}")

    async def _execute(self, delivery: Delivery, slot: Slot) -> None:
        run = delivery.run
        base = {"domain": delivery.domain, "run_id": str(run["id"]), "worker_id": self.id}
        started = False

        async def on_start(pid: int, seconds_ago: float = 0.0) -> None:
            nonlocal started
            started = True
            if pid and self.guard is not None:
                slot.pgid = pid  # each job leads its own process group
                self.guard.add(pid)
            at = self.clock.now() - timedelta(seconds=max(0.0, seconds_ago))
            commit = {"source_commit": slot.source_commit} if slot.source_commit else {}
            await self.broker.emit([Started(**base, pid=pid, at=at, **commit)])

        offset = 0

        async def on_output(text: str) -> None:
            nonlocal offset
            await self.broker.emit([Output(**base, offset=offset, data=text)])
            offset += len(text)

        try:
            result = await self._run(run, slot, on_start, on_output)
            if not started:
                await on_start(0)
            # The end names the output's length: a replica that applies it before the output
            # (another replica read those events) keeps the log incomplete until all of it is in.
            await self.broker.emit([self._finished(base, result, slot, offset)])
        except ExecutorUnavailable as exc:
            await on_start(0)
            await self.broker.emit([self._failure(base, str(exc), offset)])
        except Exception as exc:
            log.exception(
                "run %s failed inside the worker",
                run["id"],
                extra={"action": "run_crashed", "run_id": run["id"]},
            )
            if not started:
                await on_start(0)
            await self.broker.emit([self._failure(base, f"worker error: {exc}", offset)])
        finally:
            if slot.pgid is not None and self.guard is not None:
                self.guard.remove(slot.pgid)
            await self.broker.ack(delivery)
            self.slots.pop(slot.run_id, None)
            self._remember(slot.run_id)
            self.completed += 1
            self._slot_freed.set()

    def _remember(self, run_id: str) -> None:
        self._recent[run_id] = None
        if len(self._recent) > RECENT_RUNS:
            self._recent.popitem(last=False)

    async def _run(
        self, run: dict[str, Any], slot: Slot, on_start: Any, on_output: Any
    ) -> ProcessResult:
        spec = JobSpec.model_validate(run["spec"], context=STORED)
        command = build_command(
            spec.executor.type.value,
            spec.executor.script,
            spec.executor.interpreter,
            shell=self.config.shell,
            python=self.config.python,
        )
        run_meta = {
            "run_id": run["id"],
            "job_id": run["job_id"],
            "job_name": run["job_name"],
            "attempt": str(run["attempt"]),
            "domain": run["domain"],
            "trigger": run["trigger"],
            "worker_id": self.id,
            "scheduled_for": run.get("scheduled_for") or "",
        }
        async with contextlib.AsyncExitStack() as stack:
            cwd: str | None = None
            space = None  # the run's private directory: its TMPDIR and script
            if self.spaces is not None:
                space = await stack.enter_async_context(self.spaces.open(run["id"]))
            granted = [] if space is None else [space]
            if spec.source is not None:
                # Checked out before the job starts, removed once it has ended.
                try:
                    checkout = await stack.enter_async_context(
                        open_checkout(spec.source, self.config.git, run["id"], slot.cancel)
                    )
                    slot.source_commit = checkout.commit
                    cwd = str(checkout.workdir(spec.source.path))
                except GitSourceError as exc:
                    return source_failure(exc, run["id"])
                run_meta |= {"source_commit": checkout.commit, "source_dir": str(checkout.root)}
                granted.append(checkout.root)
                if self.spaces is not None:  # can be a large tree: off the event loop
                    await asyncio.to_thread(self.spaces.hand_over, checkout.root)
            argv = command.argv
            if command.script_file is not None:
                # Exec'd as a file so that its #! line applies; removed once the job has ended.
                parent = None if space is None else str(space)
                argv = [stack.enter_context(script_file(command.script_file, run["id"], parent))]
                if self.spaces is not None and space is not None:
                    self.spaces.hand_over(space)
            env = build_env(
                job_env=spec.env,
                params=run.get("params") or {},
                run_meta=run_meta,
                path=self.config.path,
            )
            pspec = ProcessSpec(
                argv=argv,
                env=env,
                cwd=cwd,
                timeout_seconds=spec.timeout_seconds,
                kill_grace_seconds=self.config.kill_grace_seconds,
                output_cap_bytes=self.config.log_max_bytes,
                **self._isolation(env, space, granted),
                use_cgroup=self.config.cgroups,
                keep_daemons=spec.keep_daemons,
            )
            result = await run_process(pspec, on_output, slot.cancel, on_start)
        if result.outcome is Outcome.SPAWN_FAILED and command.script_file is not None:
            error = explain_spawn_failure(command.script_file, result.error or "spawn failed")
            result = dataclasses.replace(result, error=error)
        return result

    def _isolation(self, env: dict[str, str], space: Path | None, granted: list[Path]) -> Any:
        """What keeps the job from the worker's files and other runs' (issue 13): its own
        TMPDIR, its user's HOME when it runs as another user, and the ProcessSpec fields."""
        if space is not None:
            env["TMPDIR"] = str(space)  # the shared /tmp is no place to hide
        run_as = self.config.run_as
        if run_as is not None:
            env |= {"HOME": run_as.home, "USER": run_as.name, "LOGNAME": run_as.name}
        return {
            "sandbox": None if self.confiner is None else self.confiner.sandbox(granted),
            "run_as": None if run_as is None else (run_as.uid, run_as.gid),
        }

    def _failure(self, base: dict[str, str], error: str, log_size: int) -> Finished:
        at = self.clock.now()
        return Finished(**base, status=RunStatus.FAILED, error=error, at=at, log_size=log_size)

    def _finished(
        self, base: dict[str, str], result: ProcessResult, slot: Slot, log_size: int
    ) -> Finished:
        error = result.error
        status: RunStatus
        if result.outcome is Outcome.EXITED:
            status = RunStatus.SUCCEEDED if result.exit_code == 0 else RunStatus.FAILED
            if result.exit_code == -9 and not self.lease_fresh():
                # SIGKILLed while our lease was stale: the guard fenced it, not the job itself.
                status, error = RunStatus.LOST, STOP_REASONS["fenced"]
        elif result.outcome is Outcome.CANCELLED and slot.reason in STOP_REASONS:
            status, error = RunStatus.LOST, STOP_REASONS[slot.reason]
        else:
            status = OUTCOME_STATUS[result.outcome]
        if status is RunStatus.FAILED and error is None:
            error = f"exit code {result.exit_code}"
        commit = {"source_commit": slot.source_commit} if slot.source_commit else {}
        return Finished(
            **base,
            status=status,
            exit_code=result.exit_code,
            error=error,
            resource_usage={**result.usage.as_dict(), "processes_killed": result.processes_killed},
            at=self.clock.now(),
            log_truncated=result.truncated,
            **commit,
            log_size=log_size,
        )
