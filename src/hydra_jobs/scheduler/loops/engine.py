"""The engine of one scheduler process: ingest everywhere; ticker, dispatcher, reaper on the leader.

Leadership is a lease in the broker. A replica that cannot renew it stops its leader loops at once,
and every leader-only action first checks that the lease it last renewed cannot have lapsed
(`Runtime.leading`), so a leader frozen past its lease (SIGSTOP, a long GC pause) does nothing
when it wakes; slot idempotency in the store is the last line of defence if two ever overlap.

Replicas tell each other about job changes and dispatch wake-ups through the broker (coalesced,
a hint: the leader's ticker also resyncs periodically and its dispatcher rechecks on a timer).
When the leader finds the broker restarted empty, it rebuilds the queues from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from hydra_jobs.events import SchedulerNotice
from hydra_jobs.models import Stats
from hydra_jobs.notify.deliverer import Deliverer
from hydra_jobs.notify.watch import Watcher
from hydra_jobs.outage import Outage
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.hub import EventHub
from hydra_jobs.scheduler.loops.dispatcher import Dispatcher
from hydra_jobs.scheduler.loops.ingest import Ingest
from hydra_jobs.scheduler.loops.reaper import Reaper
from hydra_jobs.scheduler.loops.retention import Retention
from hydra_jobs.scheduler.loops.ticker import Ticker
from hydra_jobs.scheduler.services.credential_publisher import CredentialPublisher
from hydra_jobs.scheduler.services.shared_stats import SharedStats

log = logging.getLogger(__name__)

RESTART_DELAY_SECONDS = 1.0
MAX_JOBS_PER_NUDGE = 100  # beyond this, a nudge asks the leader for a full resync instead


def leader_timing(lease_seconds: float) -> tuple[float, float]:
    """(renew interval, safety margin) for a leader lease of `lease_seconds`."""
    return max(0.1, lease_seconds / 3), min(1.0, lease_seconds * 0.2)


class Engine:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.holder = f"scheduler-{secrets.token_hex(6)}"
        self.hub = EventHub(
            rt.broker, rt.settings.event_replay_bytes, rt.settings.event_replay_seconds
        )
        self.stats = SharedStats(self._read_stats, self.hub.version)
        self.ingest = Ingest(rt)
        self.dispatcher = Dispatcher(rt)
        self.ticker = Ticker(rt)
        self.reaper = Reaper(rt)
        self.retention = Retention(rt)
        self.credentials = CredentialPublisher(rt)
        self.deliverer = Deliverer(rt.store, rt.clock, rt.settings, rt.notify_wanted, rt.leading)
        self.watcher = Watcher(rt.store, rt.clock, rt.settings, rt.emitter)
        self.is_leader = False
        self._tasks: list[asyncio.Task[None]] = []
        self._leader_tasks: list[asyncio.Task[None]] = []
        self._nudge_jobs: set[str] = set()
        self._nudge_dispatch = False
        self._nudge_task: asyncio.Task[None] | None = None
        rt.leader_until = 0.0
        rt.dispatch_wanted.relay = self._relay_dispatch
        rt.relay_job = self._relay_job

    async def _read_stats(self, domain: str, hours: int) -> Stats:
        now = self.rt.clock.now()
        return await self.rt.store.stats(domain, now - timedelta(hours=hours), now)

    def start(self) -> None:
        self.hub.start()
        self._tasks = [
            self._spawn(self.ingest.run_forever, "ingest"),
            self._spawn(self._leadership, "leadership"),
            self._spawn(self._listen, "replica-nudges"),
            self._spawn(self.credentials.sync, "credentials"),
        ]

    async def stop(self) -> None:
        await self._stop_leading()
        if self._nudge_task is not None:
            await _cancel([self._nudge_task])
        await self.ingest.stop_reading()
        await _cancel(self._tasks)
        await self.ingest.flush()
        await self.rt.audit.close()
        await self.hub.stop()
        with contextlib.suppress(Exception):
            await self.rt.broker.resign(self.holder)

    @staticmethod
    def _spawn(loop: Callable[[], Awaitable[None]], name: str) -> asyncio.Task[None]:
        return asyncio.create_task(_supervise(loop, name), name=name)

    async def _leadership(self) -> None:
        lease = self.rt.settings.leader_lease_seconds
        renew, margin = leader_timing(lease)
        outage = Outage(log, action="leader")
        while True:
            asked = time.monotonic()
            fresh = False
            try:
                async with asyncio.timeout(renew):  # not wait_for: see Signal.wait
                    leading = await self.rt.broker.try_lead(self.holder, lease)
                    fresh = leading and await self.rt.broker.check_boot()
                outage.ok()
            except Exception as exc:
                outage.failed_with("leader lease check failed", exc)
                leading = False
            if leading:
                # The lease runs from when Redis applied it, later than `asked`.
                self.rt.leader_until = asked + lease - margin
                if not self.is_leader:
                    self._start_leading()  # the dispatcher requeues from the store as it starts
                elif fresh:
                    self._rebuild()
            elif self.is_leader:
                await self._stop_leading(lost=True)
            await asyncio.sleep(renew)

    def _rebuild(self) -> None:
        """The broker lost its data: put every queued run back on its queue."""
        log.warning(
            "broker restarted empty; requeueing from the store", extra={"action": "rebuild"}
        )
        self._leader_tasks.append(self._spawn(self.dispatcher.requeue_queued, "rebuild"))
        self._leader_tasks.append(self._spawn(self.credentials.sync, "credentials"))

    def _start_leading(self) -> None:
        log.info("became leader", extra={"action": "leader_start", "holder": self.holder})
        self.is_leader = True
        self._leader_tasks = [
            self._spawn(self.dispatcher.run_forever, "dispatcher"),
            self._spawn(self.ticker.run_forever, "ticker"),
            self._spawn(self.reaper.run_forever, "reaper"),
            self._spawn(self.retention.run_forever, "retention"),
            self._spawn(self.credentials.run_forever, "credentials"),
            self._spawn(self.deliverer.run_forever, "notify-deliverer"),
            self._spawn(self.watcher.run_forever, "notify-watcher"),
            self._spawn(self.watcher.heartbeat_forever, "heartbeat"),
        ]

    async def _stop_leading(self, *, lost: bool = False) -> None:
        if self.is_leader and lost:
            log.warning("lost the leader lease; stepping down", extra={"action": "leader_stop"})
        self.rt.leader_until = 0.0
        self.is_leader = False
        await _cancel(self._leader_tasks)
        self._leader_tasks = []

    # nudges between replicas -----------------------------------------------------------------

    def _relay_dispatch(self) -> None:
        self._nudge_dispatch = True
        self._schedule_nudge()

    def _relay_job(self, job_id: str) -> None:
        self._nudge_jobs.add(job_id)
        self._schedule_nudge()

    def _schedule_nudge(self) -> None:
        if self._nudge_task is None or self._nudge_task.done():
            self._nudge_task = asyncio.create_task(self._send_nudges(), name="nudge")

    async def _send_nudges(self) -> None:
        await asyncio.sleep(0)  # everything raised in this loop iteration goes in one message
        while self._nudge_dispatch or self._nudge_jobs:
            jobs = sorted(self._nudge_jobs)
            if len(jobs) > MAX_JOBS_PER_NUDGE:
                message = SchedulerNotice(
                    origin=self.holder, dispatch=self._nudge_dispatch, resync=True
                )
            else:
                message = SchedulerNotice(
                    origin=self.holder, dispatch=self._nudge_dispatch, jobs=jobs
                )
            self._nudge_dispatch = False
            self._nudge_jobs.clear()
            try:
                await self.rt.broker.notify_schedulers(message)
            except Exception as exc:  # a hint: the leader resyncs and rechecks on its own
                log.debug("nudge failed: %s: %s", type(exc).__name__, exc)

    async def _listen(self) -> None:
        sub = self.rt.broker.watch_schedulers()
        try:
            async for message in sub:
                if message.origin == self.holder:
                    continue
                if message.dispatch:
                    self.rt.dispatch_wanted.set_local()
                for job_id in message.jobs or []:
                    self.rt.job_changed_local(job_id)
                for token_id in message.revoked or []:
                    if self.rt.keys is not None:
                        self.rt.keys.forget_token(token_id)
                if message.resync:
                    self.ticker.resync_wanted = True
                    self.rt.jobs_changed.set_local()
        finally:
            await sub.close()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _supervise(loop: Callable[[], Awaitable[None]], name: str) -> None:
    """Keep an engine loop alive: a crash is logged and the loop restarts after a pause."""
    while True:
        try:
            await loop()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("engine loop %s crashed; restarting", name, extra={"action": "crash"})
            await asyncio.sleep(RESTART_DELAY_SECONDS)
