"""The Redis broker's signed messages outside the queues: live fan-out, nudges, control.

Pub/sub carries them fast and is only a hint. Cancels, aborts and drains also leave a marker key
(signed, with a TTL) that workers read at start and poll while they run (St2 in
docs/reliability.md); live fan-out and nudges between replicas have the store and periodic
rechecks behind them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hydra_jobs.broker.base import Delivery
from hydra_jobs.broker.redis.buffered_io import PubSubFeed, cancel_safe
from hydra_jobs.broker.redis.scripts import Keys
from hydra_jobs.broker.signing import KeyRing, frame, sign_hmac, verify_hmac
from hydra_jobs.errors import BackendUnavailable
from hydra_jobs.events import (
    Abort,
    Cancel,
    ControlMessage,
    Drain,
    LiveEvent,
    SchedulerNotice,
    control_or_none,
    live_event_bytes,
    notice_or_none,
    parse_live_event,
    wire,
)

log = logging.getLogger(__name__)

CANCEL_MARKER_TTL_MS = 24 * 3600 * 1000
ABORT_MARKER_TTL_MS = 3600 * 1000
DRAIN_MARKER_TTL_MS = 24 * 3600 * 1000
STARTED_MARKER_TTL_MS = 24 * 3600 * 1000

T = TypeVar("T")


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class ControlPlane:
    """Mixed into `RedisBroker`: everything here signs with `ring` and talks through `client`."""

    client: Redis
    ring: KeyRing
    keys: Keys
    forged: int
    _feeds: set[PubSubFeed[Any]]

    # live fan-out and scheduler nudges -----------------------------------------------------------

    async def _publish_signed(self, channel: str, purpose: str, domain: str, body: Any) -> None:
        sched = self.ring.scheduler_key
        if sched is None:
            return
        payload = dumps(body)
        signature = sign_hmac(sched, frame(purpose, domain, payload))
        message = dumps({"d": domain, "p": payload.decode(), "s": signature})
        try:
            await self.client.publish(channel, message)
        except RedisError as exc:  # a hint: the durable paths cover it
            log.debug("publish to %s failed: %s", channel, exc)

    def _decode_signed(
        self, purpose: str, data: bytes, from_scheduler_to_worker: bool
    ) -> tuple[str, Any] | None:
        try:
            message = json.loads(data)
            domain, payload = str(message["d"]), str(message["p"]).encode()
            signed, signature = frame(purpose, domain, payload), str(message["s"])
            if from_scheduler_to_worker:
                valid = self.ring.verify_down(signed, signature)
            else:
                valid = verify_hmac(self.ring.scheduler_key, signed, signature)
            if not valid:
                raise ValueError("bad signature")
            return domain, json.loads(payload)
        except (ValueError, KeyError, TypeError):
            self.forged += 1
            log.warning(
                "dropped an unverifiable %s message", purpose, extra={"action": "forged_message"}
            )
            return None

    async def publish(self, domain: str, events: Sequence[LiveEvent]) -> None:
        await self._publish_signed(self.keys.live, "l", domain, [wire(e) for e in events])

    def _feed(
        self,
        channel: str,
        decode: Callable[[bytes], list[T]],
        size: Callable[[T], int] = lambda _: 0,
    ) -> PubSubFeed[T]:
        feed = PubSubFeed(self.client, channel, decode, size)
        self._feeds.add(feed)
        return feed

    def subscribe(self, domain: str | None) -> PubSubFeed[LiveEvent]:
        def decode(data: bytes) -> list[LiveEvent]:
            opened = self._decode_signed("l", data, from_scheduler_to_worker=False)
            if opened is None or (domain is not None and opened[0] != domain):
                return []
            return self._live_events(opened[0], opened[1])

        return self._feed(self.keys.live, decode, live_event_bytes)

    def _live_events(self, domain: str, body: Any) -> list[LiveEvent]:
        """The signed events of one message; one that is not shaped like an event (a newer
        scheduler's kind, say) is skipped and logged, the others are kept."""
        events: list[LiveEvent] = []
        for raw in body if isinstance(body, list) else []:
            try:
                events.append(parse_live_event({**raw, "domain": domain}))
            except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
                kind = str(raw.get("type"))[:32] if isinstance(raw, dict) else "?"
                log.warning(
                    "skipped a live %s event that is not shaped like one",
                    kind,
                    extra={"action": "malformed_event"},
                )
        return events

    async def notify_schedulers(self, message: SchedulerNotice) -> None:
        await self._publish_signed(self.keys.sched, "n", "", wire(message))

    def watch_schedulers(self) -> PubSubFeed[SchedulerNotice]:
        def decode(data: bytes) -> list[SchedulerNotice]:
            opened = self._decode_signed("n", data, from_scheduler_to_worker=False)
            notice = None if opened is None else notice_or_none(opened[1])
            return [] if notice is None else [notice]

        return self._feed(self.keys.sched, decode)

    # control ---------------------------------------------------------------------------------

    def _marker(self, domain: str, purpose: str, subject: str) -> str:
        signature = self.ring.sign_down(frame(purpose, domain, subject.encode()))
        if signature is None:
            raise BackendUnavailable("only a scheduler can sign control messages")
        return f"{domain}\n{signature}"

    def _marker_valid(
        self, value: Any, purpose: str, subject: str, domain: str | None = None
    ) -> bool:
        """A marker signed by a scheduler (for `domain`, when given: a drain or abort signed for
        another domain's worker of the same id is not ours)."""
        if value is None:
            return False
        signed_for, _, signature = text(value).partition("\n")
        if domain is not None and signed_for != domain:
            return False
        return self.ring.verify_down(frame(purpose, signed_for, subject.encode()), signature)

    async def _send_control_message(self, domain: str, message: ControlMessage) -> None:
        payload = dumps(wire(message))
        signature = self.ring.sign_down(frame("c", domain, payload))
        if signature is None:
            return
        signed = dumps({"d": domain, "p": payload.decode(), "s": signature})
        try:
            await self.client.publish(self.keys.control(domain), signed)
        except RedisError as exc:
            log.debug("control nudge failed: %s", exc)

    async def request_cancel(self, domain: str, run_id: str) -> None:
        marker = self._marker(domain, "x", run_id)
        await self.client.set(self.keys.cancel(run_id), marker, px=CANCEL_MARKER_TTL_MS)
        await self._send_control_message(domain, Cancel(run_id=run_id))

    async def begin(self, delivery: Delivery, worker_id: str) -> bool:
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self.keys.cancel(delivery.run_id))
        pipe.set(self.keys.started(delivery.run_id), worker_id, px=STARTED_MARKER_TTL_MS)
        marker, _ = await cancel_safe(pipe.execute())
        return not self._marker_valid(marker, "x", delivery.run_id)

    async def is_cancel_requested(self, run_id: str) -> bool:
        return self._marker_valid(await self.client.get(self.keys.cancel(run_id)), "x", run_id)

    def watch_control(self, domain: str, worker_id: str) -> PubSubFeed[ControlMessage]:
        def decode(data: bytes) -> list[ControlMessage]:
            opened = self._decode_signed("c", data, from_scheduler_to_worker=True)
            if opened is None or opened[0] != domain:
                return []
            message = control_or_none(opened[1])  # a newer scheduler's kind: not ours to obey
            return [] if message is None else [message]

        return self._feed(self.keys.control(domain), decode)

    async def send_control(self, domain: str, message: ControlMessage) -> None:
        if isinstance(message, Abort):
            subject = f"{message.run_id}|{message.worker_id}"
            await self.client.set(
                self.keys.abort(message.run_id, message.worker_id),
                self._marker(domain, "a", subject),
                px=ABORT_MARKER_TTL_MS,
            )
        elif isinstance(message, Drain):
            await self.client.set(
                self.keys.drain(message.worker_id),
                self._marker(domain, "n", message.worker_id),
                px=DRAIN_MARKER_TTL_MS,
            )
        await self._send_control_message(domain, message)

    async def poll_control(
        self, domain: str, worker_id: str, run_ids: list[str]
    ) -> list[ControlMessage]:
        pipe = self.client.pipeline(transaction=False)
        for run_id in run_ids:
            pipe.get(self.keys.cancel(run_id))
            pipe.get(self.keys.abort(run_id, worker_id))
        pipe.get(self.keys.drain(worker_id))
        values = await cancel_safe(pipe.execute())
        found: list[ControlMessage] = []
        for i, run_id in enumerate(run_ids):
            if self._marker_valid(values[2 * i], "x", run_id):
                found.append(Cancel(run_id=run_id))
            if self._marker_valid(values[2 * i + 1], "a", f"{run_id}|{worker_id}", domain):
                found.append(Abort(run_id=run_id, worker_id=worker_id))
        if self._marker_valid(values[-1], "n", worker_id, domain):
            found.append(Drain(worker_id=worker_id))
        return found

    # worker credentials ----------------------------------------------------------------------

    async def put_credentials(self, blobs: dict[str, bytes], *, complete: bool) -> None:
        pipe = self.client.pipeline(transaction=True)
        if complete:
            pipe.delete(self.keys.creds)
        if blobs:
            pipe.hset(self.keys.creds, mapping=blobs)  # type: ignore[arg-type]
        if complete:
            pipe.set(self.keys.creds_complete, "1")
        await cancel_safe(pipe.execute())

    async def drop_credentials(self, token_ids: list[str]) -> None:
        if token_ids:
            await self.client.hdel(self.keys.creds, *token_ids)

    async def read_credential(self, token_id: str) -> tuple[bytes | None, bool]:
        pipe = self.client.pipeline(transaction=False)
        pipe.hget(self.keys.creds, token_id)
        pipe.exists(self.keys.creds_complete)
        blob, complete = await cancel_safe(pipe.execute())
        return blob, bool(complete)
