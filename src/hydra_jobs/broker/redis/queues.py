"""The Redis broker's queues: enqueue, claim, ack, redelivery and recovery (D1/D2).

Queues are streams with one consumer group: a claim is one XREADGROUP for at most the worker's
free slots, so a delivery is always in exactly one consumer's pending list until it is acked
(never a bare pop: a kill between dequeue and start leaves it there). The leader moves entries
pending at consumers whose lease is gone back onto their queue, atomically (the IDs name
properties in docs/reliability.md). A forged or malformed entry is acked, dropped and logged (A4).
Mixed into `RedisBroker`.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from redis.exceptions import ResponseError

from hydra_jobs.broker.base import ANY_DOMAIN, Delivery
from hydra_jobs.broker.redis.buffered_io import Outbox, cancel_safe
from hydra_jobs.broker.redis.control import dumps, text
from hydra_jobs.broker.redis.scripts import QUEUE_GROUP, RECOVERY_CONSUMER
from hydra_jobs.broker.redis.streams import StreamBase
from hydra_jobs.broker.signing import frame, ticket
from hydra_jobs.errors import BackendUnavailable
from hydra_jobs.routing import parse_route_key, route_text, run_route, satisfies

log = logging.getLogger(__name__)

RECOVERY_BATCH = 1000
STREAMS_REFRESH_SECONDS = 1.0  # a worker sees a new queue (a new tag requirement) this soon
FORGET_BATCH = 1000


class QueueMixin(StreamBase):
    """Queue streams: what a scheduler enqueues and a worker claims, acks or hands back."""

    _outbox: Outbox
    _known_streams: list[str]
    _streams_read_at: float
    _turn: int
    _overflow: deque[Delivery]
    _tickets: dict[str, str]

    async def enqueue(self, domain: str, queue: str, runs: list[dict[str, Any]]) -> None:
        if not runs:
            return
        sched = self.ring.scheduler_key
        if sched is None:
            raise BackendUnavailable("only a scheduler can sign deliveries")
        by_stream: dict[str, list[Any]] = {}
        for run in runs:
            run_id = str(run["id"])
            payload = dumps(run)
            tk = ticket(sched, domain, run_id)
            signature = self.ring.sign_down(frame("d", f"{domain}|{queue}|{tk}", payload))
            stream = self.keys.queue(domain, queue, route_text(run_route(run)))
            by_stream.setdefault(stream, []).extend([run_id, payload, signature, tk])
        for stream, args in by_stream.items():
            await self._script("ENQUEUE", [stream, self.keys.inq, self.keys.streams], args)

    async def claim(
        self,
        domain: str,
        queues: list[str],
        consumer: str,
        count: int,
        timeout: float,
        tags: Mapping[str, str] | None = None,
    ) -> list[Delivery]:
        if count <= 0:
            return []
        kept = [
            d
            for d in self._overflow
            if d.domain in (domain, ANY_DOMAIN) or domain == ANY_DOMAIN
            if d.queue in queues
        ]
        if kept:
            taken = kept[:count]
            for held in taken:
                self._overflow.remove(held)
            return taken
        streams = await self._claim_streams(domain, queues, tags or {})
        deliveries: list[Delivery] = []
        for stream_name, entries in await self._readgroup(
            QUEUE_GROUP, consumer, streams, count, timeout
        ):
            stream = text(stream_name)
            for entry_id, fields in entries:
                delivery = await self._open_delivery(stream, text(entry_id), fields)
                if delivery is not None:
                    deliveries.append(delivery)
        # XREADGROUP's COUNT is per stream: with several queues a read can return more.
        self._overflow.extend(deliveries[count:])
        return deliveries[:count]

    async def _claim_streams(
        self, domain: str, queues: list[str], tags: Mapping[str, str]
    ) -> list[str]:
        """The queue streams this worker reads: its domain's (every domain's for ANY_DOMAIN)
        queues, unrouted and routed whose requirements its tags satisfy. The order turns on
        every claim: XREADGROUP takes COUNT from each stream, and what is beyond the free
        slots waits in the overflow, so no stream is always first."""
        now = time.monotonic()
        if now >= self._streams_read_at + STREAMS_REFRESH_SECONDS:
            self._streams_read_at = now
            self._known_streams = [text(s) for s in await self.client.smembers(self.keys.streams)]
        found = {self.keys.queue(domain, q) for q in queues} if domain != ANY_DOMAIN else set()
        for stream in self._known_streams:
            where = self.keys.parse_stream(stream)
            if where is None or where[1] not in queues or domain not in (where[0], ANY_DOMAIN):
                continue
            route = parse_route_key(where[2])
            if route is not None and satisfies(tags, route):
                found.add(stream)
        if not found:
            return [self.keys.queue("default", q) for q in queues]
        ordered = sorted(found)
        self._turn = (self._turn + 1) % len(ordered)
        return ordered[self._turn :] + ordered[: self._turn]

    async def _open_delivery(
        self, stream: str, entry_id: str, fields: dict[bytes, bytes] | None, *, mine: bool = True
    ) -> Delivery | None:
        """Verify one queue entry; a forged or malformed one is dropped here and never returned."""
        fields = fields or {}
        run_id = text(fields.get(b"r", b""))
        reason = self._delivery_problem(stream, fields)
        if reason is None:
            where = self.keys.parse_queue(stream)
            assert where is not None
            run = json.loads(fields[b"p"])
            domain, queue = where
            if mine:
                self._tickets[run_id] = text(fields[b"t"])
            return Delivery(domain, queue, run, f"{stream}\n{entry_id}")
        self.forged += 1
        log.warning(
            "dropped queue entry %s on %s: %s",
            entry_id,
            stream,
            reason,
            extra={"action": "forged_delivery", "stream": stream, "entry": entry_id},
        )
        await self._script("DROP", [stream, self.keys.inq], [QUEUE_GROUP, entry_id, run_id])
        return None

    def _delivery_problem(self, stream: str, fields: dict[bytes, bytes]) -> str | None:
        where = self.keys.parse_queue(stream)
        if where is None:
            return "not a queue stream"
        domain, queue = where
        payload, signature = fields.get(b"p"), fields.get(b"s")
        tk = text(fields.get(b"t", b""))
        if payload is None or signature is None:
            return "unsigned"
        if not self.ring.verify_down(
            frame("d", f"{domain}|{queue}|{tk}", payload), text(signature)
        ):
            return "bad signature"
        try:
            run = json.loads(payload)
        except ValueError:
            return "payload is not JSON"
        if not isinstance(run, dict) or run.get("id") != text(fields.get(b"r", b"")):
            return "run id does not match"
        if run.get("domain") != domain or run.get("queue") != queue:
            return "run belongs to another domain or queue"
        routed = self.keys.parse_stream(stream)
        if routed is None or route_text(run_route(run)) != routed[2]:
            return "run's required tags are not its queue's"  # would reach the wrong workers
        return None

    async def ack(self, delivery: Delivery) -> None:
        stream, _, entry = delivery.receipt.partition("\n")
        self._tickets.pop(delivery.run_id, None)
        started = self.keys.started(delivery.run_id)
        await self._outbox.put([("ack", stream, QUEUE_GROUP, entry, started)])

    async def purge_run(self, domain: str, queue: str, run_id: str) -> None:
        await self._script("PURGE", [self.keys.inq], [run_id, QUEUE_GROUP])

    async def forget_runs(self, run_ids: list[str]) -> None:
        for start in range(0, len(run_ids), FORGET_BATCH):
            await self.client.hdel(self.keys.inq, *run_ids[start : start + FORGET_BATCH])

    async def absent_runs(self, run_ids: list[str]) -> set[str]:
        absent: set[str] = set()
        for start in range(0, len(run_ids), FORGET_BATCH):
            chunk = run_ids[start : start + FORGET_BATCH]
            held = await self.client.hmget(self.keys.inq, chunk)
            absent.update(r for r, where in zip(chunk, held, strict=True) if where is None)
        return absent

    async def redeliver(self, delivery: Delivery) -> None:
        stream, _, entry = delivery.receipt.partition("\n")
        self._tickets.pop(delivery.run_id, None)
        await self._script("REDELIVER", [stream, self.keys.inq], [QUEUE_GROUP, entry])

    async def orphaned_deliveries(self, live: set[str]) -> list[Delivery]:
        found: list[Delivery] = []
        for raw in await self.client.smembers(self.keys.streams):
            stream = text(raw)
            try:
                summary = await self.client.xpending(stream, QUEUE_GROUP)
            except ResponseError:
                continue  # no group yet (or Redis lost it): nothing is pending
            for consumer in summary.get("consumers") or []:
                name = text(consumer["name"])
                if name in live or await self.client.exists(self.keys.lease(name)):
                    continue  # live, or a worker that registered after `live` was read
                found += await self._take_over(stream, name)
        return found

    async def _take_over(self, stream: str, consumer: str) -> list[Delivery]:
        rows = await self.client.xpending_range(
            stream, QUEUE_GROUP, "-", "+", RECOVERY_BATCH, consumername=consumer
        )
        ids: list[Any] = [row["message_id"] for row in rows]
        claimed: Any = (
            await self.client.xclaim(stream, QUEUE_GROUP, RECOVERY_CONSUMER, 0, ids) if ids else []
        )
        out: list[Delivery] = []
        for entry_id, fields in claimed:
            delivery = await self._open_delivery(stream, text(entry_id), fields, mine=False)
            if delivery is not None:
                out.append(delivery)
        if out:
            pipe = self.client.pipeline(transaction=False)
            for delivery in out:
                pipe.exists(self.keys.started(delivery.run_id))
            flags = await cancel_safe(pipe.execute())
            out = [replace(d, started=bool(f)) for d, f in zip(out, flags, strict=True)]
        if consumer != RECOVERY_CONSUMER and len(ids) < RECOVERY_BATCH:
            await self.client.xgroup_delconsumer(stream, QUEUE_GROUP, consumer)
        if out:
            log.warning(
                "took over %d delivery(ies) of dead consumer %s",
                len(out),
                consumer,
                extra={"action": "recover_deliveries", "worker_id": consumer},
            )
        return out
