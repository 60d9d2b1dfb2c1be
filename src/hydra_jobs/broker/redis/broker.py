"""The Redis broker of distributed mode (redis-py asyncio), behind the same `Broker` protocol.

- Queues are streams with one consumer group: a claim is one XREADGROUP for at most the worker's
  free slots, so a delivery is always in exactly one consumer's pending list until it is acked
  (never a bare pop: a kill between dequeue and start leaves it there). The leader moves entries
  pending at consumers whose lease is gone back onto their queue, atomically (D1/D2; the IDs
  name properties in docs/reliability.md).
- Worker events go to one stream read by every scheduler replica through a shared group: each
  event is ingested once, and acked only after the store write.
- Leases are keys with a TTL; the leader lease is SET NX PX renewed by compare-and-renew (Lua).
- Live fan-out, control and nudges use pub/sub as a hint; cancels, aborts and drains also leave a
  marker key that workers poll (St2).
- Every message is signed (`signing.py`): a forged entry is acked, dropped and logged (A4).
- A boot id key tells a new or returning leader that Redis lost its data; the leader then
  rebuilds the queues from the store, and the reaper waits one lease period before trusting the
  (empty) lease view (St1).
- Every call that fails on the connection surfaces as `redis.exceptions.RedisError`; the loops
  that call the broker retry with capped, jittered backoff (St3).
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from hydra_jobs.broker.base import ANY_DOMAIN, Delivery, Received
from hydra_jobs.broker.redis import scripts as lua
from hydra_jobs.broker.redis.buffered_io import (
    Outbox,
    OutboxItem,
    PubSubFeed,
    cancel_safe,
    settle_detached,
)
from hydra_jobs.broker.redis.control import ControlPlane, dumps, text
from hydra_jobs.broker.redis.scripts import EVENTS_GROUP, QUEUE_GROUP, RECOVERY_CONSUMER, Keys
from hydra_jobs.broker.signing import KeyRing, check_ticket, frame, ticket
from hydra_jobs.errors import BackendUnavailable
from hydra_jobs.events import WorkerEvent, wire, worker_event_or_none

log = logging.getLogger(__name__)


class _Redis(Redis):
    """Every command through `cancel_safe` (see there): a cancelled caller stops at once."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        return await cancel_safe(super().execute_command(*args, **options))  # type: ignore[no-untyped-call]


MAX_CONNECTIONS = 16  # per process: bounded even when a fleet reconnects at once (St3)
POOL_WAIT_SECONDS = 10.0
SOCKET_TIMEOUT_SECONDS = 5.0  # longer than any BLOCK we issue
CONNECT_TIMEOUT_SECONDS = 2.0
EVENTS_RECLAIM_IDLE_MS = 30_000  # an event pending this long belongs to a stuck replica
EVENTS_RECLAIM_INTERVAL_SECONDS = 1.0  # how often a replica looks for events of dead ones
REPLICA_TTL_MS = 5_000  # a replica that has not read for this long is gone
STALE_CONSUMER_IDLE_MS = 10 * 60 * 1000
RECOVERY_BATCH = 1000
FORGET_BATCH = 1000


class RedisBroker(ControlPlane):
    def __init__(
        self,
        url: str,
        keys: KeyRing,
        *,
        prefix: str = "hydra",
        lease_grace_seconds: float = 10.0,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.url = url
        self.ring = keys
        self.keys = Keys(prefix)
        self.lease_grace_seconds = lease_grace_seconds
        self.instance = f"{socket.gethostname()}-{secrets.token_hex(4)}"
        self._pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=POOL_WAIT_SECONDS,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_keepalive=True,
            # One immediate retry replaces a pooled connection that died with a Redis restart;
            # anything longer is the calling loop's backoff, so lease timing stays predictable.
            retry=Retry(NoBackoff(), 1),
            client_name=f"hydra-{self.instance}",
        )
        self.client = _Redis(connection_pool=self._pool)
        self._outbox = Outbox(self.client)
        self._scripts = {
            name: self.client.register_script(getattr(lua, name))
            for name in (
                "ENQUEUE",
                "REDELIVER",
                "DROP",
                "PURGE",
                "RENEW_LEASE",
                "LIVE_WORKERS",
                "BOOT",
                "TRY_LEAD",
                "RESIGN",
            )
        }
        self._grouped: set[str] = set()  # streams whose consumer group we know exists
        self._overflow: deque[Delivery] = deque()  # claimed beyond the free slots asked for
        self._tickets: dict[str, str] = {}  # run id -> scheduler ticket, for this worker's events
        self._feeds: set[PubSubFeed[Any]] = set()
        self._boot_id: str | None = None
        self._boot_changed_at: float | None = None
        self._rebuild_wanted = False
        self._next_reclaim = 0.0
        self.forged = 0  # messages dropped because they did not verify

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return await self._scripts[name](keys=keys, args=args)

    # lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing is required of Redis yet: every call connects lazily and retries."""
        self._outbox.start()

    async def close(self) -> None:
        await self._outbox.flush(5.0)
        while self._overflow:
            delivery = self._overflow.popleft()
            try:
                await self.redeliver(delivery)
            except RedisError:
                break  # the leader recovers them once this consumer's lease is gone
        for feed in list(self._feeds):
            await feed.close()
        await self._outbox.close()
        await self.client.aclose()
        await self._pool.disconnect()
        await settle_detached(2.0)

    async def ping(self) -> None:
        await self.client.ping()

    # queues ----------------------------------------------------------------------------------

    async def enqueue(self, domain: str, queue: str, runs: list[dict[str, Any]]) -> None:
        if not runs:
            return
        sched = self.ring.scheduler_key
        if sched is None:
            raise BackendUnavailable("only a scheduler can sign deliveries")
        args: list[Any] = []
        for run in runs:
            run_id = str(run["id"])
            payload = dumps(run)
            tk = ticket(sched, domain, run_id)
            signature = self.ring.sign_down(frame("d", f"{domain}|{queue}|{tk}", payload))
            args += [run_id, payload, signature, tk]
        stream = self.keys.queue(domain, queue)
        await self._script("ENQUEUE", [stream, self.keys.inq, self.keys.streams], args)

    async def _ensure_group(self, stream: str, group: str) -> None:
        if stream in self._grouped:
            return
        try:
            # From 0: entries added before the group existed (a rebuild right after a Redis
            # restart) must still be read.
            await self.client.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._grouped.add(stream)

    async def _readgroup(
        self, group: str, consumer: str, streams: list[str], count: int, timeout: float
    ) -> list[Any]:
        for stream in streams:
            await self._ensure_group(stream, group)
        block = int(timeout * 1000) if timeout > 0 else None
        try:
            resp = await self.client.xreadgroup(
                group, consumer, dict.fromkeys(streams, ">"), count=count, block=block
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._grouped.difference_update(streams)  # Redis lost them: recreate on next call
            return []
        return list(resp or [])

    async def claim(
        self, domain: str, queues: list[str], consumer: str, count: int, timeout: float
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
        streams = await self._claim_streams(domain, queues)
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

    async def _claim_streams(self, domain: str, queues: list[str]) -> list[str]:
        if domain != ANY_DOMAIN:
            return [self.keys.queue(domain, q) for q in queues]
        known = [text(s) for s in await self.client.smembers(self.keys.streams)]
        found = [s for s in known if (where := self.keys.parse_queue(s)) and where[1] in queues]
        return sorted(found) or [self.keys.queue("default", q) for q in queues]

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

    # events ----------------------------------------------------------------------------------

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

    # leases ----------------------------------------------------------------------------------

    async def renew_worker_lease(self, worker_id: str, ttl: float) -> None:
        await self._script(
            "RENEW_LEASE",
            [self.keys.lease(worker_id), self.keys.workers],
            [int(ttl * 1000), worker_id],
        )

    async def drop_worker_lease(self, worker_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.lease(worker_id))
        pipe.srem(self.keys.workers, worker_id)
        await cancel_safe(pipe.execute())

    async def live_workers(self) -> set[str]:
        result = await self._script(
            "LIVE_WORKERS",
            [self.keys.workers, self.keys.boot],
            [self.keys.lease_prefix, secrets.token_hex(8)],
        )
        self._observe_boot(text(result[0]), bool(int(result[1])))
        if self._boot_changed_at is not None:
            warm = time.monotonic() - self._boot_changed_at
            if warm < self.lease_grace_seconds:
                raise BackendUnavailable(
                    f"Redis restarted {warm:.1f}s ago; worker leases are being re-established"
                )
        return {text(w) for w in result[2:]}

    async def try_lead(self, holder: str, ttl: float) -> bool:
        return bool(await self._script("TRY_LEAD", [self.keys.leader], [holder, int(ttl * 1000)]))

    async def resign(self, holder: str) -> None:
        await self._script("RESIGN", [self.keys.leader], [holder])

    async def check_boot(self) -> bool:
        result = await self._script("BOOT", [self.keys.boot], [secrets.token_hex(8)])
        self._observe_boot(text(result[0]), bool(int(result[1])))
        wanted, self._rebuild_wanted = self._rebuild_wanted, False
        return wanted

    def _observe_boot(self, boot: str, created: bool) -> None:
        if boot == self._boot_id:
            return
        first = self._boot_id is None
        self._boot_id = boot
        if created and first:
            # The usual first start (a new install); also Redis restarted empty before we came.
            log.info(
                "Redis holds no Hydra Jobs data yet (boot id %s): queues are filled from the store",
                boot,
                extra={"action": "broker_boot"},
            )
        elif not first:
            log.warning(
                "Redis lost its data while we ran (boot id %s); rebuilding from the store",
                boot,
                extra={"action": "broker_boot"},
            )
        if created or not first:
            self._boot_changed_at = time.monotonic()
            self._rebuild_wanted = True
