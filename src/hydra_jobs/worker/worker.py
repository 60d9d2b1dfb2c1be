"""The worker: N slots, claims deliveries for its domain's queues, runs them, reports events.

It needs only the broker (never the database). It renews a lease while alive. Two fences keep a
run that the reaper may declare lost from still running somewhere (D4, P7 in docs/reliability.md):
- the worker's own: once its last successful renewal is old enough that the lease could lapse
  before a graceful stop (TERM, grace, KILL) completes, it stops its jobs and reports them `lost`
  (they are retried per policy), and it neither claims nor starts anything until it renews again;
- the guard process (`guard.py`): SIGKILLs the jobs if the worker dies, or if it stays silent
  until just before the lease lapses (frozen, wedged).

Control comes twice: pub/sub messages (fast) and a poll of the durable markers for the runs in
progress every `control_poll_seconds` (so a cancel lands even when pub/sub is down, St2).

This module is the worker's lifecycle (start, guard, lease, claiming, drain, shutdown, control);
how it runs one claimed delivery is `RunExecution` in execution.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import sys
import time
from collections import OrderedDict, deque

from hydra_jobs import __version__
from hydra_jobs.broker.base import ANY_DOMAIN, Broker, Delivery
from hydra_jobs.clock import Clock, SystemClock
from hydra_jobs.config import default_data_dir
from hydra_jobs.events import Abort, Cancel, ControlMessage, Drain, Heartbeat, Revoked
from hydra_jobs.models import Worker as WorkerState
from hydra_jobs.models import WorkerStatus
from hydra_jobs.outage import Outage
from hydra_jobs.private_files import passable_dir
from hydra_jobs.worker import cgroups, containment
from hydra_jobs.worker.confine import Confiner
from hydra_jobs.worker.credentials import WorkerCredentials
from hydra_jobs.worker.execution import RunExecution, Slot
from hydra_jobs.worker.guard import Guard, guard_supported
from hydra_jobs.worker.run_space import RunSpaces
from hydra_jobs.worker.settings import WorkerConfig, worker_config

log = logging.getLogger(__name__)

__all__ = ["Worker", "WorkerConfig", "worker_config"]

CLAIM_WAIT_SECONDS = 1.0  # how long one claim call blocks when the queues are empty
FENCE_MARGIN_SECONDS = 1.0  # jobs are dead at least this long before the lease could expire
WATCHDOG_SECONDS = 0.25  # how often the worker checks its own lease age
LINGER = 5.0  # at most this long a stopped worker's lease outlives it (see _shutdown)

EXIT_REVOKED = 3  # the process exit code of a worker whose token was revoked


def platform_name() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)


class Worker(RunExecution):
    """One worker process: its slots, lease, claiming and control; its runs (execution.py)."""

    def __init__(
        self,
        broker: Broker,
        config: WorkerConfig,
        clock: Clock | None = None,
        credentials: WorkerCredentials | None = None,
    ) -> None:
        self.broker = broker
        self.credentials = credentials
        self.exit_code = 0
        self.config = config
        self.clock = clock or SystemClock()
        self.name = config.name or socket.gethostname()
        self.id = f"{self.name}-{secrets.token_hex(4)}"
        self.started_at = self.clock.now()
        self.slots: dict[str, Slot] = {}
        self.status = WorkerStatus.ONLINE
        self.completed = 0
        self.fenced = 0
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        # Monotonic send time of the last good renewal. Real time, not `clock`: the lease lives
        # in the broker, whose TTLs do not follow an injected clock.
        self._renewed_at: float | None = None
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._held: deque[Delivery] = deque()  # claimed, not started: the broker call failed
        self.guard: Guard | None = None
        runs_dir = config.runs_dir or default_data_dir() / "runs"
        self.confiner = Confiner.for_worker(config.confine, config.hidden_paths, runs_dir)
        self.spaces: RunSpaces | None = None  # where runs get their TMPDIR, when they need one
        if self.confiner is not None or config.run_as is not None:
            self.spaces = RunSpaces(runs_dir, config.run_as)
        if config.run_as is not None and config.git.checkouts_dir is not None:
            # The jobs' user passes through to its checkout; it never lists the others.
            passable_dir(config.git.checkouts_dir)
        lease = config.lease_seconds
        margin = min(FENCE_MARGIN_SECONDS, lease * 0.25)
        # The guard kills hard just before the lease could lapse; the worker stops its jobs
        # gracefully early enough for TERM + grace + KILL to end before that.
        self.hard_budget = lease - margin
        self.soft_budget = max(lease / 2, lease - margin - config.kill_grace_seconds)

    # lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Work until `stop()`; then drain (finish, or stop after the grace period)."""
        if self.config.guard and guard_supported():
            # A subreaper first: the guard is then our child, reaped when it quits, not left a
            # zombie of whichever ancestor adopts it (containment.py).
            containment.ensure_subreaper()
            self._start_guard()
        tasks: list[asyncio.Task[None]] = []
        try:
            if not await self._first_renewal():
                return
            await self._report_self()
            tasks = [
                asyncio.create_task(self._heartbeat_loop(), name="worker-heartbeat"),
                asyncio.create_task(self._watchdog_loop(), name="worker-watchdog"),
                asyncio.create_task(self._control_loop(), name="worker-control"),
                asyncio.create_task(self._poll_loop(), name="worker-poll"),
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
        finally:
            await self._shutdown(tasks)

    def _start_guard(self) -> None:
        guard = Guard(self.id)
        try:
            guard.start()
        except OSError as exc:
            # Jobs still run, and still end with their runs; only a kill -9 of this worker
            # would now leave them running. Said loudly, never a worker that quietly stops.
            log.error(
                "the worker guard could not start (%s): if this worker is killed, its jobs "
                "outlive it until the run is reaped",
                exc,
                extra={"action": "guard_failed", "worker_id": self.id},
            )
            return
        self.guard = guard
        if self.config.cgroups and cgroups.cgroups_available():
            # The runs' cgroups are under one parent: killing it ends every run's processes.
            guard.add_cgroup(str(cgroups.parent_cgroup()))

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._stop_all("shutdown")
        while self._held:  # claimed, never started: back on the queue for another worker
            with contextlib.suppress(Exception):
                await self.broker.redeliver(self._held.popleft())
        self.status = WorkerStatus.OFFLINE
        with contextlib.suppress(Exception):
            await self._report_self()
            # The lease lingers briefly instead of going at once: the runs stopped above were
            # reported ("shut down") just before, and a reaper that saw no lease before those
            # reports were applied would call the same runs lost for a silent worker instead.
            await self.broker.renew_worker_lease(self.id, min(self.config.lease_seconds, LINGER))
        if self.guard is not None:
            self.guard.close()
        cgroups.release()

    async def _first_renewal(self) -> bool:
        outage = Outage(log)
        while not self._stopping.is_set():
            sent = time.monotonic()
            try:
                await self.broker.renew_worker_lease(self.id, self.config.lease_seconds)
            except Exception as exc:
                outage.failed_with("cannot register with the broker yet", exc)
                await outage.sleep()
                continue
            self._renewed(sent)
            return True
        return False

    def stop(self) -> None:
        """Drain and exit: stop taking work, let runs finish up to the grace period."""
        self.status = WorkerStatus.DRAINING
        self._stopping.set()
        self._slot_freed.set()

    def revoke(self) -> None:
        """Our token was revoked: take no more work and exit; what runs is stopped, since the
        schedulers now refuse its reports (the reaper retries it elsewhere)."""
        if self.exit_code == EXIT_REVOKED:
            return
        log.error(
            "API_TOKEN was revoked: this worker takes no more work and stops",
            extra={"action": "revoked"},
        )
        self.exit_code = EXIT_REVOKED
        self.stop()

    def drain(self) -> None:
        """Stop taking work; runs in progress finish."""
        if self.config.exit_on_drain:
            if not self._stopping.is_set():
                log.info("drain requested; exiting once runs finish", extra={"action": "drain"})
                self.stop()
            return
        self.status = WorkerStatus.DRAINING

    def info(self) -> WorkerState:
        executors = ["shell", "python"] + (["batch"] if sys.platform == "win32" else [])
        return WorkerState(
            id=self.id,
            domain=self.config.domain,
            name=self.name,
            hostname=socket.gethostname(),
            platform=platform_name(),
            version=__version__,
            executors=executors,
            tags=self.config.tags,
            queues=self.config.queues,
            concurrency=self.config.concurrency,
            running=sorted(self.slots),
            status=self.status,
            started_at=self.started_at,
            last_heartbeat_at=self.clock.now(),
        )

    async def _report_self(self) -> None:
        await self.broker.emit([Heartbeat(domain=self.config.domain, worker=self.info())])

    # lease -----------------------------------------------------------------------------------

    def _renewed(self, sent: float) -> None:
        self._renewed_at = sent
        if self.guard is not None:
            self.guard.arm(self.hard_budget - (time.monotonic() - sent))

    def lease_fresh(self) -> bool:
        """True while the worker may run jobs: its lease cannot lapse before a graceful stop."""
        if self._renewed_at is None:
            return False
        return time.monotonic() - self._renewed_at < self.soft_budget

    async def _heartbeat_loop(self) -> None:
        interval = self.config.heartbeat_interval_seconds
        outage = Outage(log, action="heartbeat", recovered="lease renewed again", cap=interval)
        while True:
            await asyncio.sleep(outage.next_delay() if outage.down else interval)
            sent = time.monotonic()
            try:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancel.
                async with asyncio.timeout(max(interval, 1.0)):
                    await self.broker.renew_worker_lease(self.id, self.config.lease_seconds)
            except Exception as exc:
                outage.failed_with("lease renewal failed", exc)
                continue
            outage.ok()
            self._renewed(sent)
            await self._report_self()

    async def _watchdog_loop(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_SECONDS)
            if not self.lease_fresh():
                self._fence()

    def _fence(self) -> None:
        victims = [s for s in self.slots.values() if s.reason is None and not s.cancel.is_set()]
        if not victims:
            return
        log.error(
            "cannot renew the lease; stopping %d run(s) before it can expire",
            len(victims),
            extra={"action": "self_fence"},
        )
        self.fenced += len(victims)
        for slot in victims:
            slot.reason = "fenced"
            slot.cancel.set()

    # claiming --------------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        outage = Outage(log, action="claim")
        while True:
            if self._held and not await self._start_held():
                await outage.sleep()
                continue
            free = self.config.concurrency - len(self.slots)
            if free <= 0 or self.status is WorkerStatus.DRAINING or not self.lease_fresh():
                self._slot_freed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CLAIM_WAIT_SECONDS):
                        await self._slot_freed.wait()
                continue
            try:
                deliveries = await self.broker.claim(
                    ANY_DOMAIN if self.config.all_domains else self.config.domain,
                    self.config.queues,
                    self.id,
                    free,
                    CLAIM_WAIT_SECONDS,
                    self.config.tags,
                )
            except Exception as exc:
                outage.failed("claim failed (%s: %s); retrying", type(exc).__name__, exc)
                await outage.sleep()
                continue
            outage.ok()
            self._held.extend(deliveries)

    async def _start_held(self) -> bool:
        """Start (or give back) what was claimed; False if the broker failed (kept for later)."""
        while self._held:
            delivery = self._held[0]
            try:
                await self._start(delivery)
            except Exception as exc:
                log.warning(
                    "could not start run %s yet (%s: %s)",
                    delivery.run_id,
                    type(exc).__name__,
                    exc,
                    extra={"action": "start", "run_id": delivery.run_id},
                )
                return False
            self._held.popleft()
        return True

    async def _drain_running(self) -> None:
        if self.exit_code == EXIT_REVOKED:
            return
        pending = [s.task for s in self.slots.values() if s.task is not None]
        if pending:
            await asyncio.wait(pending, timeout=self.config.drain_grace_seconds)

    async def _stop_all(self, reason: str) -> None:
        for slot in self.slots.values():
            slot.reason = slot.reason or reason
            slot.cancel.set()
        pending = [s.task for s in self.slots.values() if s.task is not None]
        if pending:
            await asyncio.wait(pending, timeout=self.config.kill_grace_seconds + 5.0)

    # control ---------------------------------------------------------------------------------

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

    async def _poll_loop(self) -> None:
        """The durable path: markers for our runs (and a drain for us) are read periodically."""
        outage = Outage(log, action="control")
        while True:
            await asyncio.sleep(self.config.control_poll_seconds)
            try:
                messages = await self.broker.poll_control(
                    self.config.domain, self.id, sorted(self.slots)
                )
                outage.ok()
            except Exception as exc:
                outage.failed_with("control poll failed", exc)
                continue
            for message in messages:
                self._on_control(message)
            await self._check_credentials()

    async def _check_credentials(self) -> None:
        if self.credentials is None:
            return
        try:
            valid = await self.credentials.still_valid()
        except Exception:
            return  # the broker is down: the lease logic handles that
        if not valid:
            self.revoke()

    def _on_control(self, message: ControlMessage) -> None:
        if isinstance(message, Abort | Drain) and message.worker_id != self.id:
            return
        if isinstance(message, Cancel | Abort):
            slot = self.slots.get(message.run_id)
            if slot is not None and not slot.cancel.is_set():
                slot.cancel.set()
        elif isinstance(message, Drain):
            self.drain()
        elif isinstance(message, Revoked) and self.credentials is not None:
            if message.token_id == self.credentials.token_id:
                self.revoke()
