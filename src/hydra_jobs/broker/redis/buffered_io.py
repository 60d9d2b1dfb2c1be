"""The Redis broker's two long-lived helpers: an ordered outbox and a self-healing subscription.

- `Outbox`: what a worker sends (events, acks) goes out in order, batched into pipelines, and is
  kept and resent with backoff while Redis is unreachable. A delivery's ack is queued after the
  run's `finished` event, so a crash can lose the ack (the run is redelivered, or the reaper
  reconciles it) but never ack a run whose result was not sent. Past a high-water mark `put`
  waits, so a job flooding output while Redis is down blocks on its pipe instead of growing the
  worker's memory (P3 in docs/reliability.md).
- `PubSubFeed`: one channel, re-subscribed with backoff whenever the connection drops. Pub/sub is
  only a hint here: every message it carries also has a durable path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from itertools import islice
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hydra_jobs.outage import Outage

log = logging.getLogger(__name__)

OUTBOX_BATCH = 500  # commands per pipeline
OUTBOX_HIGH_WATER = 20_000  # queued items before `put` waits
OUTBOX_LOW_WATER = 10_000
# ... or queued bytes of field values: output events are up to 64 KiB, and 20,000 of them
# were 1.3 GB held by a worker while Redis was away.
OUTBOX_HIGH_WATER_BYTES = 32 * 1024 * 1024
OUTBOX_LOW_WATER_BYTES = 16 * 1024 * 1024
FEED_BUFFER = 10_000  # messages held for a slow subscriber; newer ones are dropped (hints)
FEED_BUFFER_BYTES = 32 * 1024 * 1024  # ... or this much log text
FEED_POLL_SECONDS = 1.0

# ("xadd", stream, fields) or ("ack", stream, group, entry id, started key)
OutboxItem = tuple[Any, ...]
T = TypeVar("T")
_detached: set[asyncio.Task[Any]] = set()


def _settle(task: asyncio.Task[Any]) -> None:
    _detached.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: its caller is gone, nobody else will look


async def cancel_safe(call: Awaitable[T]) -> T:
    """Await a Redis command so that cancelling the caller takes effect at once.

    redis-py (8.1) can lose a cancellation that lands while a command waits for its reply: the
    task keeps waiting (a blocking XREADGROUP, a pub/sub read) and shutdown hangs. The command
    runs in its own task instead; a cancelled caller leaves it to finish or fail on its own.
    """
    task = asyncio.ensure_future(call)
    _detached.add(task)
    task.add_done_callback(_settle)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()
        raise


async def settle_detached(timeout: float) -> None:
    """At close, after the connections are gone: let detached commands finish failing."""
    pending = [t for t in _detached if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=timeout)


def _item_bytes(item: OutboxItem) -> int:
    if item[0] != "xadd" or not isinstance(item[2], dict):
        return 0
    return sum(len(v) for v in item[2].values() if isinstance(v, (bytes, str)))


class Outbox:
    def __init__(self, client: Redis) -> None:
        self._client = client
        self._items: deque[OutboxItem] = deque()
        self._bytes = 0
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._empty = asyncio.Event()
        self._empty.set()
        self._task: asyncio.Task[None] | None = None
        self.outage = Outage(log, action="outbox_retry")
        self.failures = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="redis-outbox")

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, items: list[OutboxItem]) -> None:
        self._items.extend(items)
        self._bytes += sum(_item_bytes(i) for i in items)
        self._empty.clear()
        self._wake.set()
        if len(self._items) >= OUTBOX_HIGH_WATER or self._bytes >= OUTBOX_HIGH_WATER_BYTES:
            self._room.clear()
            await self._room.wait()

    async def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far was sent; False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                await self._empty.wait()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._items:
                batch = list(islice(self._items, OUTBOX_BATCH))
                try:
                    await cancel_safe(self._send(batch))
                except RedisError as exc:
                    self.failures += 1
                    self.outage.failed(
                        "cannot send to Redis (%s); keeping %d item(s) and retrying",
                        exc,
                        len(self._items),
                    )
                    await self.outage.sleep()
                    continue
                self.outage.ok()
                for _ in batch:
                    self._bytes -= _item_bytes(self._items.popleft())
                if len(self._items) < OUTBOX_LOW_WATER and self._bytes < OUTBOX_LOW_WATER_BYTES:
                    self._room.set()
            self._empty.set()

    async def _send(self, batch: list[OutboxItem]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for item in batch:
            if item[0] == "xadd":
                pipe.xadd(item[1], item[2])
            else:
                _, stream, group, entry, started = item
                pipe.xack(stream, group, entry)
                pipe.xdel(stream, entry)
                pipe.delete(started)
        # Per-command errors (an ack whose group vanished with a Redis restart) are moot; a
        # connection error raises and the whole batch is resent (events are idempotent).
        await pipe.execute(raise_on_error=False)


class PubSubFeed(Generic[T]):
    """Messages of one channel, decoded by `decode` (which drops what does not verify); `size`
    is the text a message holds, counted against `FEED_BUFFER_BYTES`."""

    def __init__(
        self,
        client: Redis,
        channel: str,
        decode: Callable[[bytes], list[T]],
        size: Callable[[T], int],
    ) -> None:
        self._client = client
        self._channel = channel
        self._decode = decode
        self._size = size
        self._queue: asyncio.Queue[T | None] = asyncio.Queue(FEED_BUFFER)
        self._bytes = 0
        self.subscribed = asyncio.Event()
        self.dropped = 0
        self._closed = False
        self._task = asyncio.create_task(self._pump(), name=f"pubsub-{channel}")

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
        if self._closed:
            return
        self._closed = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    async def _pump(self) -> None:
        outage = Outage(log, action="pubsub", recovered=f"re-subscribed to {self._channel}")
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await cancel_safe(pubsub.subscribe(self._channel))
                self.subscribed.set()
                outage.ok()
                while True:
                    message = await cancel_safe(pubsub.get_message(timeout=FEED_POLL_SECONDS))
                    if message is not None and message.get("type") == "message":
                        for item in self._decode(message["data"]):
                            self._offer(item)
            except (RedisError, OSError) as exc:
                outage.failed("subscription to %s lost (%s); re-subscribing", self._channel, exc)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
            await outage.sleep()

    def _offer(self, item: T) -> None:
        size = self._size(item)
        try:
            if self._bytes + size > FEED_BUFFER_BYTES:
                raise asyncio.QueueFull
            self._queue.put_nowait(item)
            self._bytes += size
        except asyncio.QueueFull:
            self.dropped += 1
