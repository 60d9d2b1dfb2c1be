"""Ingest: turns worker events into store writes, in batches, then fans the changes out live.

Every replica runs it. A batch is whatever is waiting (up to `INGEST_BATCH` events) applied in one
transaction, so a burst of short runs costs a few transactions, not one per event; a run whose
start and end are in one batch is written as one change (`ingest_merge`). Events are acked to the
broker only after the store write.

Replicas share one event stream, so the events of one run can reach two replicas and be applied
out of order: a `finished` (or `output`) refused because the run's `started` has not been written
yet is kept and retried with backoff. After `DEFER_CHECK_SECONDS` the run is looked up: while it is
still `queued` (its `started` is on its way, perhaps with a replica that died and whose events
another replica is about to take over) the event waits on, up to `DEFER_LIMIT_SECONDS`; otherwise
it is stale (a duplicate, or from a copy that lost the race) and is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from hydra_jobs.broker.base import Received
from hydra_jobs.events import (
    Abort,
    Finished,
    LogEvent,
    Output,
    Started,
    WorkerEvent,
    WorkerStateEvent,
)
from hydra_jobs.models import Run, Worker
from hydra_jobs.outage import Outage
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.loops.ingest_merge import Merged, Pair, merge_quick_runs, running_view
from hydra_jobs.scheduler.services import shared_worker
from hydra_jobs.scheduler.services.retry_policy import after_terminal
from hydra_jobs.status import FINISH, START, TERMINAL, RunStatus, transition
from hydra_jobs.store.base import AppendLog, Op, UpsertWorker

log = logging.getLogger(__name__)

INGEST_BATCH = 1000
COALESCE_SECONDS = 0.002
READ_TIMEOUT_SECONDS = 1.0
FLUSH_SECONDS = 2.0  # at shutdown, how long to keep applying what is waiting
DEFER_FIRST_SECONDS = 0.02
DEFER_BACKOFF_CAP_SECONDS = 1.0
DEFER_CHECK_SECONDS = 5.0
DEFER_LIMIT_SECONDS = 600.0
# `Finished.status` may be `lost`: from a worker that had to stop a run it was not asked to stop
# (it could not renew its lease, or its drain grace ran out); it is retried like one the reaper
# declared lost.
MAX_LOG_SIZE = 2**31 - 1  # characters; the column is a 32-bit integer on PostgreSQL


@dataclass
class _Deferred:
    received: Received
    check_at: float  # when to look the run up
    limit_at: float  # when to give up regardless
    next_at: float
    delay: float


def event_to_op(event: WorkerEvent) -> Op | None:
    """The store write of one (checked) worker event."""
    if isinstance(event, Started):
        # pid 0: the worker never started a process (its spawn failed, its git source could
        # not be checked out): the run moves on to its end without a start time.
        fields: dict[str, Any] = {
            "worker_id": event.worker_id,
            "started_at": event.at if event.pid != 0 else None,
        }
        if event.source_commit:
            fields["source_commit"] = event.source_commit[:64]  # shown while it runs
        return transition(START, event.run_id, fields=fields)
    if isinstance(event, Output):
        return AppendLog(
            event.run_id,
            event.offset,
            event.data,
            worker_id=event.worker_id,
            truncated=event.truncated,
        )
    if isinstance(event, Finished):
        fields = {
            "finished_at": event.at,
            "exit_code": event.exit_code,
            "error": event.error,
            "resource_usage": event.resource_usage,
        }
        if event.log_truncated:
            fields["log_truncated"] = True
        if event.log_size is not None:
            # The worker's final offset: no chunk of the run ends past it, so the log reads as
            # complete only once every chunk is stored, whichever replica applies which event.
            fields["log_size"] = min(max(0, event.log_size), MAX_LOG_SIZE)
        if event.source_commit:
            fields["source_commit"] = event.source_commit
        return transition(FINISH, event.run_id, event.status, fields, worker_id=event.worker_id)
    # A heartbeat: fields a newer worker adds were ignored when it was read (a rolling upgrade
    # must not stop ingest).
    return UpsertWorker(event.worker)


class Ingest:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.applied = 0
        self.ended: Counter[str] = Counter()  # runs whose end a worker reported, by status
        self.dropped = 0
        self.deferred = 0
        self._waiting: list[_Deferred] = []
        self._held: dict[int, _Deferred] = {}  # by id() of each event kept for another try
        self._stopping = False
        # Set while the loop holds no event it has read and not yet written: the in-process
        # broker forgets an event once it is read, so only then may the loop be cancelled.
        self._empty_handed = asyncio.Event()
        self._empty_handed.set()
        self._shared_told: set[str] = set()  # domains told of runs on `up`'s worker

    async def run_forever(self) -> None:
        outage = Outage(log, action="ingest")
        while True:
            self._empty_handed.set()
            if self._stopping:
                await asyncio.Future()  # parked until cancelled; `flush` writes what is left
            try:
                events = await self.rt.broker.read_events(INGEST_BATCH, self._read_timeout())
                self._empty_handed.clear()
                if events and len(events) < INGEST_BATCH // 4:
                    # A trickle: wait a moment so a burst is written in one transaction.
                    await asyncio.sleep(COALESCE_SECONDS)
                    events += await self.rt.broker.read_events(INGEST_BATCH - len(events), 0.0)
                outage.ok()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outage.failed_with("cannot read worker events", exc)
                await outage.sleep()
                continue
            batch = self._due() + events  # retried (older) events first
            if batch:
                try:
                    await self.handle(batch)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # Not acked: the events come back to a replica once they have been pending
                    # for a while, and are applied then (every write is compare-and-set).
                    log.exception("ingest batch failed", extra={"action": "ingest"})

    def _read_timeout(self) -> float:
        if not self._waiting:
            return READ_TIMEOUT_SECONDS
        soonest = min(d.next_at for d in self._waiting)
        return max(0.0, min(READ_TIMEOUT_SECONDS, soonest - time.monotonic()))

    def _due(self) -> list[Received]:
        now = time.monotonic()
        due = [d.received for d in self._waiting if d.next_at <= now]
        if due:
            self._waiting = [d for d in self._waiting if d.next_at > now]
        return due

    async def stop_reading(self) -> None:
        """Let `run_forever` write the events in hand, then park it where cancelling it loses
        nothing (at shutdown: a run's `finished` read just before must not vanish with it)."""
        self._stopping = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_SECONDS):  # a loop that died is not waited for
                await self._empty_handed.wait()

    async def flush(self) -> None:
        """Apply whatever events are already waiting (at shutdown, after the worker stopped)."""
        deadline = time.monotonic() + FLUSH_SECONDS
        while time.monotonic() < deadline and (
            events := await self.rt.broker.read_events(INGEST_BATCH, 0.0)
        ):
            await self.handle(events)

    async def handle(self, events: list[Received]) -> None:
        pairs = [(e, op) for e in events if (op := event_to_op(e.event)) is not None]
        later: set[int] = set()  # ids of events kept for another try: not acked yet
        await self._apply(*merge_quick_runs(pairs), later)
        for received in events:
            if id(received) not in later:
                self._held.pop(id(received), None)
        await self.rt.broker.ack_events([e for e in events if id(e) not in later])

    async def _apply(self, pairs: list[Pair], merged: dict[int, Merged], later: set[int]) -> None:
        if not pairs:
            return
        results = await self.rt.store.apply([op for _, op in pairs])
        changed: list[Run] = []
        ended: list[Run] = []
        logs: dict[str, list[LogEvent]] = defaultdict(list)
        workers: list[Worker] = []
        unmerged: list[Pair] = []  # merged starts and ends that were refused: one by one
        for (received, op), result in zip(pairs, results, strict=True):
            both = merged.get(id(op))
            if both is not None:
                if result is False:
                    unmerged += [both.started, both.finished]
                    continue
                assert isinstance(result, Run)
                changed.append(running_view(result, both))
                self.applied += 1
            if result is False:
                if await self._defer(received):
                    later.add(id(received))
                    continue
                self.dropped += 1
                await self._refused(received.event)
                continue
            self.applied += 1
            if isinstance(result, Run):
                changed.append(result)
                if result.status in TERMINAL:
                    ended.append(result)
                    self.ended[result.status.value] += 1
            elif isinstance(op, AppendLog) and op.data:
                logs[received.event.domain].append(
                    LogEvent(run_id=op.run_id, offset=op.offset, data=op.data)
                )
            elif isinstance(op, UpsertWorker):
                workers.append(op.worker)
        await self._publish(changed, logs, workers)
        if ended:
            await after_terminal(self.rt, ended)
        await self._apply(unmerged, {}, later)

    async def _publish(
        self,
        changed: list[Run],
        logs: dict[str, list[LogEvent]],
        workers: list[Worker],
    ) -> None:
        for domain, items in logs.items():
            await self.rt.broker.publish(domain, items)
        await self.rt.publish_runs(changed)
        for worker in workers:
            for domain, seen in (await self._views(worker)).items():
                await self.rt.broker.publish(domain, [WorkerStateEvent(worker=seen)])

    async def _views(self, worker: Worker) -> dict[str, Worker]:
        """Who is told of a worker's change: its domain; for `up`'s shared worker, its home
        domain and every domain that has (or just had) a run on it, each with its own runs."""
        if not shared_worker.is_shared(self.rt, worker.id):
            return {worker.domain: worker}
        domains = await shared_worker.run_domains(self.rt, worker)
        told = {worker.domain, *domains.values(), *self._shared_told}
        self._shared_told = set(domains.values())
        return {d: shared_worker.view(worker, domains, d) for d in told}

    async def _defer(self, received: Received) -> bool:
        """Keep a refused event for another try if it may just have overtaken its `started`."""
        event = received.event
        if not isinstance(event, Finished | Output):
            return False
        now = time.monotonic()
        held = self._held.get(id(received))
        if held is None:
            held = self._held[id(received)] = _Deferred(
                received,
                now + DEFER_CHECK_SECONDS,
                now + DEFER_LIMIT_SECONDS,
                now,
                DEFER_FIRST_SECONDS,
            )
            self.deferred += 1
        if now >= held.check_at:
            run = await self.rt.store.find_run(event.run_id)
            if now >= held.limit_at or run is None or run.status is not RunStatus.QUEUED:
                return False
            held.check_at = now + DEFER_CHECK_SECONDS
        held.next_at = now + held.delay
        held.delay = min(held.delay * 2, DEFER_BACKOFF_CAP_SECONDS)
        self._waiting.append(held)
        return True

    async def _refused(self, event: WorkerEvent) -> None:
        """A stale or illegal event: never applied. A refused start means a copy must stop."""
        if not isinstance(event, Started):
            return
        run = await self.rt.store.find_run(event.run_id)
        if run is None or run.status in TERMINAL or run.worker_id != event.worker_id:
            await self.rt.broker.send_control(
                event.domain or (run.domain if run else ""),
                Abort(run_id=event.run_id, worker_id=event.worker_id),
            )
