"""The Redis broker's worker event stream: workers emit, scheduler replicas read and ack.

Worker events go to one stream read by every scheduler replica through a shared group: each event
is ingested once, and acked only after the store write. Events left pending by a replica that died
(or froze) are claimed by another. Every event is signed, and one about a run carries the ticket
the scheduler gave that run's delivery; one that does not verify is acked, dropped and logged (A4).
Mixed into `RedisBroker`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ResponseError

from hydra_jobs.broker.base import Received
from hydra_jobs.broker.redis.buffered_io import Outbox, OutboxItem, cancel_safe
from hydra_jobs.broker.redis.control import dumps, text
from hydra_jobs.broker.redis.scripts import EVENTS_GROUP
from hydra_jobs.broker.redis.streams import StreamBase
from hydra_jobs.broker.signing import check_ticket, frame
from hydra_jobs.events import WorkerEvent, wire, worker_event_or_none

log = logging.getLogger(__name__)

EVENTS_RECLAIM_IDLE_MS = 30_000  # an event pending this long belongs to a stuck replica
EVENTS_RECLAIM_INTERVAL_SECONDS = 1.0  # how often a replica looks for events of dead ones
REPLICA_TTL_MS = 5_000  # a replica that has not read for this long is gone
STALE_CONSUMER_IDLE_MS = 10 * 60 * 1000


class EventStream(StreamBase):
    """The one events stream and its shared consumer group of scheduler replicas."""

    instance: str
    _outbox: Outbox
    _tickets: dict[str, str]
    _next_reclaim: float

    async def emit(self, events: Sequence[WorkerEvent]) -> None:
        items: list[OutboxItem] = []
        for event in events:
            domain = event.domain
            body = wire(event)
            run_id = getattr(event, "run_id", None)
            if run_id is not None and (tk := self._tickets.get(run_id)) is not None:
                body["tk"] = tk
            payload = dumps(body)
            signed = self.ring.sign_up(frame("e", domain, payload))
            if signed is None:
                log.error("this process holds no key to sign events")
                continue
            fields = {"d": domain, "p": payload, "k": signed[0], "s": signed[1]}
            items.append(("xadd", self.keys.events, fields))
        await self._outbox.put(items)

    async def read_events(self, count: int, timeout: float) -> list[Received]:
        entries: list[tuple[Any, Any]] = []
        now = time.monotonic()
        if now >= self._next_reclaim:
            self._next_reclaim = now + EVENTS_RECLAIM_INTERVAL_SECONDS
            entries += await self._reclaim_events(count)
        if not entries:
            for _, stream_entries in await self._readgroup(
                EVENTS_GROUP, self.instance, [self.keys.events], count, timeout
            ):
                entries += stream_entries
        events: list[Received] = []
        bad: list[str] = []
        await self.ring.prepare_up(text(f.get(b"k", b"")) for _, f in entries if f)
        for entry_id, fields in entries:
            raw = self._open_event(fields or {})
            if raw is None:
                bad.append(text(entry_id))
                continue
            event = worker_event_or_none(raw)
            if event is None:
                # Signed, but not shaped like an event: dropped (acked), never raised, or it
                # would hold up the batch and every other domain's events read with it.
                log.warning(
                    "dropped a malformed %s event of domain %s",
                    str(raw.get("type"))[:32],
                    str(raw.get("domain"))[:64],
                    extra={"action": "malformed_event", "run_id": str(raw.get("run_id"))[:64]},
                )
                await self._ack_event_ids([text(entry_id)])
                continue
            events.append(Received(event, text(entry_id)))
        if bad:
            self.forged += len(bad)
            log.warning(
                "dropped %d worker event(s) that failed verification",
                len(bad),
                extra={"action": "forged_event", "entries": bad[:10]},
            )
            await self._ack_event_ids(bad)
        return events

    async def _reclaim_events(self, count: int) -> list[tuple[Any, Any]]:
        """Events left pending by replicas that died (or froze); replicas long gone are removed.

        Each replica keeps a short-lived key alive while it reads; the events pending at a
        consumer without one are claimed at once. Events pending far too long at a replica that
        is alive (stuck) are claimed too.
        """
        events = self.keys.events
        await self._ensure_group(events, EVENTS_GROUP)
        await self.client.set(self.keys.replica(self.instance), "1", px=REPLICA_TTL_MS)
        try:
            consumers = await self.client.xinfo_consumers(events, EVENTS_GROUP)
            resp = await self.client.xautoclaim(
                events, EVENTS_GROUP, self.instance, EVENTS_RECLAIM_IDLE_MS, "0-0", count
            )
        except ResponseError:
            self._grouped.discard(events)
            return []
        found: list[tuple[Any, Any]] = [(i, f) for i, f in resp[1] if f]
        for consumer in consumers:
            name = text(consumer["name"])
            if name == self.instance or await self.client.exists(self.keys.replica(name)):
                continue
            if int(consumer.get("pending", 0)) > 0:
                rows = await self.client.xpending_range(
                    events, EVENTS_GROUP, "-", "+", count, consumername=name
                )
                ids: list[Any] = [row["message_id"] for row in rows]
                claimed: Any = await self.client.xclaim(events, EVENTS_GROUP, self.instance, 0, ids)
                found += [(i, f) for i, f in claimed if f]
                log.warning(
                    "took over %d event(s) of scheduler replica %s, which is gone",
                    len(ids),
                    name,
                    extra={"action": "reclaim_events"},
                )
            elif int(consumer.get("idle", 0)) > STALE_CONSUMER_IDLE_MS:
                await self.client.xgroup_delconsumer(events, EVENTS_GROUP, name)
        return found

    def _open_event(self, fields: dict[bytes, bytes]) -> dict[str, Any] | None:
        domain = text(fields.get(b"d", b""))
        payload, signature = fields.get(b"p"), fields.get(b"s")
        if payload is None or signature is None:
            return None
        key_id = text(fields.get(b"k", b""))
        if not self.ring.verify_up(domain, key_id, frame("e", domain, payload), text(signature)):
            return None
        try:
            event = json.loads(payload)
        except ValueError:
            return None
        if not isinstance(event, dict) or event.get("domain") != domain:
            return None
        kind = event.get("type")
        if kind == "worker":
            worker = event.get("worker")
            return event if isinstance(worker, dict) and worker.get("domain") == domain else None
        sched = self.ring.scheduler_key
        if sched is None or not check_ticket(
            sched, domain, str(event.get("run_id")), event.get("tk")
        ):
            return None  # a worker may only report on runs handed to its domain
        return event

    async def ack_events(self, events: Sequence[Received]) -> None:
        await self._ack_event_ids([e.receipt for e in events if e.receipt])

    async def _ack_event_ids(self, ids: list[str]) -> None:
        if not ids:
            return
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.keys.events, EVENTS_GROUP, *ids)
        pipe.xdel(self.keys.events, *ids)
        await cancel_safe(pipe.execute())
