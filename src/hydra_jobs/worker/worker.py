"""The worker: N slots, claims deliveries for its domain's queues, runs them, reports events.

It needs only the broker (never the database). It renews a lease while alive; if it cannot renew
for long enough that the lease might expire, it kills its own jobs first (self-fencing), so a run
the reaper declares lost is not still running somewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

from hydra_jobs import __version__
from hydra_jobs.broker.base import Broker, Delivery
from hydra_jobs.clock import Clock, SystemClock
from hydra_jobs.models import JobSpec, WorkerStatus
from hydra_jobs.worker.executors import ExecutorUnavailable, build_command, build_env
from hydra_jobs.worker.process import Outcome, ProcessResult, ProcessSpec, run_process

log = logging.getLogger(__name__)

CLAIM_WAIT_SECONDS = 1.0  # how long one claim call blocks when the queues are empty
FENCE_MARGIN_SECONDS = 1.0  # kill own jobs this long before the lease could expire

OUTCOME_STATUS = {
    Outcome.TIMED_OUT: "timed_out",
    Outcome.CANCELLED: "cancelled",
    Outcome.SPAWN_FAILED: "failed",
}


@dataclass
class WorkerConfig:
    domain: str = "default"
    queues: list[str] = field(default_factory=lambda: ["default"])
    concurrency: int = 8
    name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    heartbeat_interval_seconds: float = 2.0
    lease_seconds: float = 10.0
    log_max_bytes: int = 10 * 1024 * 1024
    kill_grace_seconds: float = 5.0
    drain_grace_seconds: float = 30.0


@dataclass
class _Slot:
    run_id: str
    cancel: asyncio.Event
    task: asyncio.Task[None] | None = None


def platform_name() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)


class Worker:
    def __init__(self, broker: Broker, config: WorkerConfig, clock: Clock | None = None) -> None:
        self.broker = broker
        self.config = config
        self.clock = clock or SystemClock()
        self.name = config.name or socket.gethostname()
        self.id = f"{self.name}-{secrets.token_hex(4)}"
        self.started_at = self.clock.now()
        self.slots: dict[str, _Slot] = {}
        self.status = WorkerStatus.ONLINE
        self.completed = 0
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_renewal = self.clock.monotonic()

    # lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Work until `stop()`; then drain (finish, or cancel after the grace period)."""
        await self.broker.renew_worker_lease(self.id, self.config.lease_seconds)
        await self._report_self()
        tasks = [
            asyncio.create_task(self._heartbeat_loop(), name="worker-heartbeat"),
            asyncio.create_task(self._control_loop(), name="worker-control"),
        ]
        claimer = asyncio.create_task(self._claim_loop(), name="worker-claim")
        try:
            await self._stopping.wait()
            claimer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await claimer
            await self._drain_running()
        finally:
            claimer.cancel()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._cancel_all("worker stopped")
            self.status = WorkerStatus.OFFLINE
            with contextlib.suppress(Exception):
                await self._report_self()
                await self.broker.drop_worker_lease(self.id)

    def stop(self) -> None:
        self._stopping.set()
        self._slot_freed.set()

    def drain(self) -> None:
        """Stop taking work; runs in progress finish."""
        self.status = WorkerStatus.DRAINING

    def info(self) -> dict[str, Any]:
        executors = ["shell", "python"] + (["batch"] if sys.platform == "win32" else [])
        return {
            "id": self.id,
            "domain": self.config.domain,
            "name": self.name,
            "hostname": socket.gethostname(),
            "platform": platform_name(),
            "version": __version__,
            "executors": executors,
            "tags": self.config.tags,
            "queues": self.config.queues,
            "concurrency": self.config.concurrency,
            "running": sorted(self.slots),
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "last_heartbeat_at": self.clock.now().isoformat(),
        }

    async def _report_self(self) -> None:
        await self.broker.emit(
            [{"type": "worker", "domain": self.config.domain, "worker": self.info()}]
        )

    # claiming --------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while True:
            free = self.config.concurrency - len(self.slots)
            if free <= 0 or self.status is WorkerStatus.DRAINING:
                self._slot_freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._slot_freed.wait(), CLAIM_WAIT_SECONDS)
                continue
            try:
                deliveries = await self.broker.claim(
                    self.config.domain, self.config.queues, self.id, free, CLAIM_WAIT_SECONDS
                )
            except Exception:
                log.exception("claim failed; retrying", extra={"action": "claim"})
                await asyncio.sleep(CLAIM_WAIT_SECONDS)
                continue
            for delivery in deliveries:
                await self._start(delivery)

    async def _start(self, delivery: Delivery) -> None:
        run_id = delivery.run_id
        if run_id in self.slots or await self.broker.is_cancel_requested(run_id):
            await self.broker.ack(delivery)
            return
        slot = _Slot(run_id, asyncio.Event())
        self.slots[run_id] = slot
        slot.task = asyncio.create_task(self._execute(delivery, slot), name=f"run-{run_id}")

    async def _drain_running(self) -> None:
        pending = [s.task for s in self.slots.values() if s.task is not None]
        if pending:
            await asyncio.wait(pending, timeout=self.config.drain_grace_seconds)

    async def _cancel_all(self, reason: str) -> None:
        for slot in self.slots.values():
            slot.cancel.set()
        pending = [s.task for s in self.slots.values() if s.task is not None]
        if pending:
            await asyncio.wait(pending, timeout=self.config.kill_grace_seconds + 5.0)

    # executing -------------------------------------------------------------------------------

    async def _execute(self, delivery: Delivery, slot: _Slot) -> None:
        run = delivery.run
        base = {"domain": delivery.domain, "run_id": run["id"], "worker_id": self.id}
        started = False

        async def on_start(pid: int) -> None:
            nonlocal started
            started = True
            await self.broker.emit(
                [{**base, "type": "started", "pid": pid, "at": self.clock.now().isoformat()}]
            )

        offset = 0

        async def on_output(text: str) -> None:
            nonlocal offset
            await self.broker.emit([{**base, "type": "output", "offset": offset, "data": text}])
            offset += len(text)

        try:
            result = await self._run(run, slot, on_start, on_output)
            if not started:
                await on_start(0)
            await self.broker.emit([{**base, **self._finished(result)}])
        except ExecutorUnavailable as exc:
            await on_start(0)
            await self.broker.emit(
                [
                    {
                        **base,
                        "type": "finished",
                        "status": "failed",
                        "error": str(exc),
                        "at": self.clock.now().isoformat(),
                    }
                ]
            )
        except Exception as exc:
            log.exception(
                "run %s failed inside the worker",
                run["id"],
                extra={"action": "run_crashed", "run_id": run["id"]},
            )
            if not started:
                await on_start(0)
            await self.broker.emit(
                [
                    {
                        **base,
                        "type": "finished",
                        "status": "failed",
                        "error": f"worker error: {exc}",
                        "at": self.clock.now().isoformat(),
                    }
                ]
            )
        finally:
            await self.broker.ack(delivery)
            self.slots.pop(slot.run_id, None)
            self.completed += 1
            self._slot_freed.set()

    async def _run(
        self, run: dict[str, Any], slot: _Slot, on_start: Any, on_output: Any
    ) -> ProcessResult:
        spec = JobSpec.model_validate(run["spec"])
        argv = build_command(
            spec.executor.type.value, spec.executor.script, spec.executor.interpreter
        )
        env = build_env(
            job_env=spec.env,
            params=run.get("params") or {},
            run_meta={
                "run_id": run["id"],
                "job_id": run["job_id"],
                "job_name": run["job_name"],
                "attempt": str(run["attempt"]),
                "domain": run["domain"],
                "trigger": run["trigger"],
                "worker_id": self.id,
                "scheduled_for": run.get("scheduled_for") or "",
            },
        )
        pspec = ProcessSpec(
            argv=argv,
            env=env,
            cwd=None,
            timeout_seconds=spec.timeout_seconds,
            kill_grace_seconds=self.config.kill_grace_seconds,
            output_cap_bytes=self.config.log_max_bytes,
        )
        return await run_process(pspec, on_output, slot.cancel, on_start)

    def _finished(self, result: ProcessResult) -> dict[str, Any]:
        if result.outcome is Outcome.EXITED:
            status = "succeeded" if result.exit_code == 0 else "failed"
        else:
            status = OUTCOME_STATUS[result.outcome]
        error = result.error
        if status == "failed" and error is None:
            error = f"exit code {result.exit_code}"
        return {
            "type": "finished",
            "status": status,
            "exit_code": result.exit_code,
            "error": error,
            "resource_usage": result.usage.as_dict(),
            "at": self.clock.now().isoformat(),
            "log_truncated": result.truncated,
        }

    # background loops ------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        interval = self.config.heartbeat_interval_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.broker.renew_worker_lease(self.id, self.config.lease_seconds)
                self._last_renewal = self.clock.monotonic()
                await self._report_self()
            except Exception:
                log.warning("lease renewal failed", extra={"action": "heartbeat"})
                silent = self.clock.monotonic() - self._last_renewal
                if silent >= self.config.lease_seconds - FENCE_MARGIN_SECONDS - interval:
                    await self._self_fence()

    async def _self_fence(self) -> None:
        if not self.slots:
            return
        log.error(
            "cannot renew lease; killing %d run(s) before it expires",
            len(self.slots),
            extra={"action": "self_fence"},
        )
        for slot in self.slots.values():
            slot.cancel.set()

    async def _control_loop(self) -> None:
        while True:
            sub = self.broker.watch_control(self.config.domain, self.id)
            try:
                async for message in sub:
                    self._on_control(message)
            except asyncio.CancelledError:
                await sub.close()
                raise
            except Exception:
                log.warning("control channel failed; resubscribing", extra={"action": "control"})
                await asyncio.sleep(1.0)
            await sub.close()

    def _on_control(self, message: dict[str, Any]) -> None:
        target = message.get("worker_id")
        if target is not None and target != self.id:
            return
        kind = message.get("type")
        if kind in ("cancel", "abort"):
            slot = self.slots.get(str(message.get("run_id")))
            if slot is not None:
                slot.cancel.set()
        elif kind == "drain":
            self.drain()
