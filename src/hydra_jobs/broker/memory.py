"""The in-process broker of embedded mode (`hydra-jobs up`): asyncio structures, same contract.

It is a real product mode, not a test double: the scheduler and the local worker talk through it
exactly as they would through Redis, so one code path serves both.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Generic, TypeVar

from hydra_jobs.broker.base import ANY_DOMAIN, Delivery, Received
from hydra_jobs.events import (
    Abort,
    Cancel,
    ControlMessage,
    Drain,
    LiveEvent,
    Output,
    SchedulerNotice,
    WorkerEvent,
    live_event_bytes,
)

T = TypeVar("T")

SUBSCRIBER_BUFFER = 10_000  # events held for one slow live subscriber before it is cut off
SUBSCRIBER_BUFFER_BYTES = 32 * 1024 * 1024  # ... or this much log text
# Worker events not yet read by ingest: past this much log text `emit` waits (a job flooding
# output while the store is slow blocks on its pipe instead of growing the process).
CANCEL_MARKER_TTL_SECONDS = 24 * 3600.0
EVENTS_HIGH_WATER_BYTES = 16 * 1024 * 1024
EVENTS_LOW_WATER_BYTES = 8 * 1024 * 1024


def _output_bytes(event: WorkerEvent) -> int:
    return len(event.data) if isinstance(event, Output) else 0


def _no_bytes(item: object) -> int:
    return 0


class _Subscription(Generic[T]):
    def __init__(
        self, registry: set[_Subscription[T]], key: str | None, size: Callable[[T], int]
    ) -> None:
        self.key = key
        self._queue: asyncio.Queue[T | None] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self._bytes = 0
        self._size = size
        self._registry = registry
        registry.add(self)

    def offer(self, event: T) -> None:
        try:
            size = self._size(event)
            if self._bytes + size > SUBSCRIBER_BUFFER_BYTES:
                raise asyncio.QueueFull
            self._queue.put_nowait(event)
            self._bytes += size
        except asyncio.QueueFull:
            # A subscriber that cannot keep up loses its stream; it reconnects and resumes.
            self._registry.discard(self)
            self._queue = asyncio.Queue(1)
            self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            self._bytes -= self._size(item)
            yield item

    async def close(self) -> None:
        self._registry.discard(self)
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            pass


class MemoryBroker:
    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._held: set[str] = set()  # runs enqueued and not yet ended: enqueue is idempotent
        self._queue_changed = asyncio.Condition()
        self._unacked: dict[str, tuple[Delivery, str]] = {}  # receipt -> (delivery, consumer)
        self._receipts = itertools.count(1)
        self._events: deque[WorkerEvent] = deque()
        self._events_ready = asyncio.Event()
        self._events_bytes = 0
        self._events_room = asyncio.Event()
        self._events_room.set()
        self._live: set[_Subscription[LiveEvent]] = set()
        self._control: set[_Subscription[ControlMessage]] = set()
        self._cancels: dict[str, float] = {}
        # Aborts and drains name a worker of a domain: (domain, run id, worker id), (domain, worker
        # id); a worker id of another domain is another worker.
        self._aborts: dict[tuple[str, str, str], float] = {}
        self._drains: set[tuple[str, str]] = set()
        self._schedulers: set[_Subscription[SchedulerNotice]] = set()
        self._booted = False
        self._leases: dict[str, float] = {}
        self._leader: tuple[str, float] | None = None

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for live in list(self._live):
            await live.close()
        for sub in list(self._control) + list(self._schedulers):
            await sub.close()

    async def ping(self) -> None:
        return None

    # queues ----------------------------------------------------------------------------------

    async def enqueue(self, domain: str, queue: str, runs: list[dict[str, Any]]) -> None:
        fresh = [r for r in runs if r["id"] not in self._held]
        self._held.update(r["id"] for r in fresh)
        self._queues.setdefault((domain, queue), deque()).extend(fresh)
        async with self._queue_changed:
            self._queue_changed.notify_all()

    def _sources(self, domain: str, queues: list[str]) -> list[tuple[str, str]]:
        if domain != ANY_DOMAIN:
            return [(domain, q) for q in queues]
        return [key for key in self._queues if key[1] in queues]

    def _take(self, domain: str, queues: list[str], count: int, consumer: str) -> list[Delivery]:
        taken: list[Delivery] = []
        for source in self._sources(domain, queues):
            pending = self._queues.get(source)
            while pending and len(taken) < count:
                run = pending.popleft()
                delivery = Delivery(*source, run, str(next(self._receipts)))
                self._unacked[delivery.receipt] = (delivery, consumer)
                taken.append(delivery)
        return taken

    async def claim(
        self, domain: str, queues: list[str], consumer: str, count: int, timeout: float
    ) -> list[Delivery]:
        taken = self._take(domain, queues, count, consumer)
        if taken or timeout <= 0:
            return taken
        async with self._queue_changed:
            try:
                async with asyncio.timeout(timeout):  # not wait_for: it can swallow a cancel
                    await self._queue_changed.wait_for(
                        lambda: any(self._queues.get(s) for s in self._sources(domain, queues))
                    )
            except TimeoutError:
                return []
        return self._take(domain, queues, count, consumer)

    async def ack(self, delivery: Delivery) -> None:
        self._unacked.pop(delivery.receipt, None)

    async def purge_run(self, domain: str, queue: str, run_id: str) -> None:
        self._held.discard(run_id)
        pending = self._queues.get((domain, queue))
        if pending:
            kept = [r for r in pending if r.get("id") != run_id]
            pending.clear()
            pending.extend(kept)
        # Claimed and not yet acked: gone too, so a dead consumer's orphans never bring it back.
        for receipt, (delivery, _) in list(self._unacked.items()):
            if delivery.run_id == run_id:
                del self._unacked[receipt]

    async def forget_runs(self, run_ids: list[str]) -> None:
        self._held.difference_update(run_ids)

    async def absent_runs(self, run_ids: list[str]) -> set[str]:
        return set(run_ids) - self._held

    async def redeliver(self, delivery: Delivery) -> None:
        if self._unacked.pop(delivery.receipt, None) is None:
            return
        self._queues.setdefault((delivery.domain, delivery.queue), deque()).append(delivery.run)
        async with self._queue_changed:
            self._queue_changed.notify_all()

    async def orphaned_deliveries(self, live: set[str]) -> list[Delivery]:
        return [d for d, consumer in list(self._unacked.values()) if consumer not in live]

    # events ----------------------------------------------------------------------------------

    async def emit(self, events: Sequence[WorkerEvent]) -> None:
        size = sum(_output_bytes(e) for e in events)
        self._events.extend(events)
        self._events_bytes += size
        self._events_ready.set()
        if size and self._events_bytes >= EVENTS_HIGH_WATER_BYTES:
            # Only output waits: a heartbeat or a run's end never queues behind a flood.
            self._events_room.clear()
            await self._events_room.wait()

    async def read_events(self, count: int, timeout: float) -> list[Received]:
        if not self._events and timeout > 0:
            self._events_ready.clear()
            try:
                async with asyncio.timeout(timeout):  # not wait_for: it can swallow a cancel
                    await self._events_ready.wait()
            except TimeoutError:
                return []
        batch: list[Received] = []
        while self._events and len(batch) < count:
            event = self._events.popleft()
            self._events_bytes -= _output_bytes(event)
            batch.append(Received(event))
        if self._events_bytes < EVENTS_LOW_WATER_BYTES:
            self._events_room.set()
        return batch

    async def ack_events(self, events: Sequence[Received]) -> None:
        return None  # in one process, an event read is an event handled

    # live ------------------------------------------------------------------------------------

    async def publish(self, domain: str, events: Sequence[LiveEvent]) -> None:
        if not self._live:
            return
        stamped = [event.model_copy(update={"domain": domain}) for event in events]
        for sub in list(self._live):
            if sub.key is None or sub.key == domain:
                for event in stamped:
                    sub.offer(event)

    def subscribe(self, domain: str | None) -> _Subscription[LiveEvent]:
        return _Subscription(self._live, domain, live_event_bytes)

    # control ---------------------------------------------------------------------------------

    async def request_cancel(self, domain: str, run_id: str) -> None:
        now = time.monotonic()
        self._cancels = {k: v for k, v in self._cancels.items() if v > now}
        self._cancels[run_id] = now + CANCEL_MARKER_TTL_SECONDS
        await self.send_control(domain, Cancel(run_id=run_id))

    async def begin(self, delivery: Delivery, worker_id: str) -> bool:
        # One process: if the worker dies, so does everything; no record is needed.
        return not await self.is_cancel_requested(delivery.run_id)

    async def is_cancel_requested(self, run_id: str) -> bool:
        return self._cancels.get(run_id, 0.0) > time.monotonic()

    def watch_control(self, domain: str, worker_id: str) -> _Subscription[ControlMessage]:
        return _Subscription(self._control, domain, _no_bytes)

    async def send_control(self, domain: str, message: ControlMessage) -> None:
        if isinstance(message, Abort):
            now = time.monotonic()
            self._aborts = {k: v for k, v in self._aborts.items() if v > now}
            key = (domain, message.run_id, message.worker_id)
            self._aborts[key] = now + CANCEL_MARKER_TTL_SECONDS
        elif isinstance(message, Drain):
            self._drains.add((domain, message.worker_id))
        for sub in list(self._control):
            if sub.key == domain:
                sub.offer(message)

    async def poll_control(
        self, domain: str, worker_id: str, run_ids: list[str]
    ) -> list[ControlMessage]:
        now = time.monotonic()
        found: list[ControlMessage] = [
            Cancel(run_id=r) for r in run_ids if self._cancels.get(r, 0.0) > now
        ]
        found += [
            Abort(run_id=r, worker_id=worker_id)
            for r in run_ids
            if self._aborts.get((domain, r, worker_id), 0.0) > now
        ]
        if (domain, worker_id) in self._drains:
            found.append(Drain(worker_id=worker_id))
        return found

    # scheduler replicas ----------------------------------------------------------------------

    async def notify_schedulers(self, message: SchedulerNotice) -> None:
        for sub in list(self._schedulers):
            sub.offer(message)

    def watch_schedulers(self) -> _Subscription[SchedulerNotice]:
        return _Subscription(self._schedulers, None, _no_bytes)

    # leases ----------------------------------------------------------------------------------

    async def renew_worker_lease(self, worker_id: str, ttl: float) -> None:
        self._leases[worker_id] = time.monotonic() + ttl

    async def drop_worker_lease(self, worker_id: str) -> None:
        self._leases.pop(worker_id, None)

    async def live_workers(self) -> set[str]:
        now = time.monotonic()
        return {w for w, until in self._leases.items() if until > now}

    async def try_lead(self, holder: str, ttl: float) -> bool:
        now = time.monotonic()
        if self._leader is None or self._leader[0] == holder or self._leader[1] <= now:
            self._leader = (holder, now + ttl)
            return True
        return False

    async def resign(self, holder: str) -> None:
        if self._leader and self._leader[0] == holder:
            self._leader = None

    async def check_boot(self) -> bool:
        fresh, self._booted = not self._booted, True
        return fresh

    # One process: workers hold no credentials, nothing to publish.
    async def put_credentials(self, blobs: dict[str, bytes], *, complete: bool) -> None:
        return None

    async def drop_credentials(self, token_ids: list[str]) -> None:
        return None

    async def read_credential(self, token_id: str) -> tuple[bytes | None, bool]:
        return None, False
