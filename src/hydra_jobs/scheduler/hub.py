"""Live event hub of one scheduler replica: numbers broker fan-out events and replays recent ones.

SSE clients resume with `Last-Event-ID`: ids are `<epoch>-<seq>`, where the epoch changes each
time the replica starts, so an id from another life gets a `reset` instead of a wrong replay.
The epoch also changes when the hub's own broker subscription ends (a broker cuts off a
subscriber that falls behind; a connection drops): what was published meanwhile is lost to this
replica, so every stream is ended and its resume gets a `reset` (refetch), never a silent gap.

An event is encoded for the wire once (`Outgoing.wire`), however many streams send it. Streams
that want the same events (a domain's run, job and worker changes: every open dashboard of the
domain) share a `Feed`: an event is matched and queued once for all of them, and each linger
period the feed joins what came into one chunk that every stream of the feed sends. The cost of
an event no longer grows with the number of viewers; only the chunk hand-off does, ten times a
second (issue 19: 200 streams added 26 % to a burst).

With several replicas, each publishes the changes it applied, so two changes of one run can
arrive in the other order (`succeeded` from one replica before `running` from another). A run
event that would move a run backwards is dropped here: clients only ever see a run go forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Any

from hydra_jobs import heap
from hydra_jobs.broker.base import Broker
from hydra_jobs.events import LiveEvent, LogEvent, RunEvent, live_event_bytes, wire
from hydra_jobs.models import RunSummary
from hydra_jobs.status import ENDED_RANK, rank

log = logging.getLogger(__name__)

# The replay buffer and each listener's queue are bounded in events and in bytes: log events are
# up to 64 KiB each, so 20,000 of them were 1.3 GB held by one replica (issue 13 §4).
REPLAY_BUFFER_EVENTS = 20_000
REPLAY_BUFFER_BYTES = 32 * 1024 * 1024  # default of HYDRA_EVENT_REPLAY_BYTES
LISTENER_BUFFER_EVENTS = 5_000
LISTENER_BUFFER_BYTES = 8 * 1024 * 1024  # a client this far behind is cut off; it resumes
# All listeners together: past this, any listener that is behind at all is cut off (one that
# keeps up holds nothing), so many slow streams cannot add up to 8 MiB each.
LISTENERS_BUFFER_BYTES = 128 * 1024 * 1024
EVENT_OVERHEAD_BYTES = 256  # a small event's model and strings, roughly
REPLAY_SECONDS = 300.0  # default of HYDRA_EVENT_REPLAY_SECONDS: older events are dropped
EXPIRE_EVERY_SECONDS = 5.0
RELEASE_AFTER_BYTES = 4 * 1024 * 1024  # freed this much of the buffer: give memory back

# A feed sends what came within this time of an event in one chunk (a live view may lag a tenth
# of a second; the server does not wake 200 streams per event), and at most this many at once.
FEED_LINGER_SECONDS = 0.1
FEED_BATCH_EVENTS = 500

Matcher = Callable[[LiveEvent], bool]
RUN_ORDER_MEMORY = 50_000  # runs whose last status the hub remembers to drop stale events


class RunOrder:
    """Remembers the last status seen per run; `stale` is True for an event that goes back."""

    def __init__(self, memory: int = RUN_ORDER_MEMORY) -> None:
        self._last: OrderedDict[str, str] = OrderedDict()
        self._memory = memory

    def stale(self, run: RunSummary) -> bool:
        run_id, status = run.id, run.status.value
        prev = self._last.get(run_id)
        if prev is not None:
            if rank(status) < rank(prev):
                return True
            if rank(prev) == ENDED_RANK and status != prev:
                return True  # terminal is final
        self._last[run_id] = status
        self._last.move_to_end(run_id)
        if len(self._last) > self._memory:
            self._last.popitem(last=False)
        return False


class Outgoing:
    """One event as streams send it; its SSE encoding is made on first use and shared."""

    __slots__ = ("_wire", "event", "event_id", "seq")

    def __init__(self, event_id: str, event: LiveEvent, seq: int = 0) -> None:
        self.event_id = event_id
        self.event = event
        self.seq = seq
        self._wire: bytes | None = None

    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = sse_bytes(self.event.type, wire(self.event), self.event_id)
        return self._wire


def sse_bytes(name: str, data: dict[str, Any], event_id: str | None = None) -> bytes:
    """One SSE event, as FastAPI writes a `ServerSentEvent` with this `data` (the other streams):
    `json.dumps` escapes newlines, so the data is one line, as SSE needs."""
    text = f"event: {name}\ndata: {json.dumps(data)}\n"
    if event_id is not None:
        text += f"id: {event_id}\n"
    return (text + "\n").encode()


def event_bytes(event: LiveEvent) -> int:
    """About what an event holds in memory: its log text (the bulk of big events) plus a flat
    overhead; not exact, but proportional where it matters."""
    return EVENT_OVERHEAD_BYTES + live_event_bytes(event)


class Chunk:
    """Events of a feed's linger period, joined once: what each of its streams writes next."""

    __slots__ = ("_wire", "event_id", "outs")

    def __init__(self, outs: list[Outgoing]) -> None:
        self.outs = outs
        self.event_id = outs[-1].event_id  # the last: where a stream that sent it resumes
        self._wire: bytes | None = None

    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = b"".join(out.wire() for out in self.outs)
        return self._wire

    def after(self, seq: int) -> Chunk | None:
        """The part of the chunk a stream that joined at `seq` has not had (replay gave it the
        rest, or it predates the stream)."""
        outs = [out for out in self.outs if out.seq > seq]
        return Chunk(outs) if outs else None


class Feed:
    """The streams that want the same events (`key`), fed together; see the module docstring."""

    def __init__(self, hub: EventHub, key: Hashable, matcher: Matcher) -> None:
        self.hub = hub
        self.key = key
        self.matcher = matcher
        self.listeners: set[Listener] = set()
        self.pending: list[Outgoing] = []
        self.pending_bytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, out: Outgoing, size: int) -> None:
        self.pending.append(out)
        self.pending_bytes += size
        if len(self.pending) >= FEED_BATCH_EVENTS:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.hub.linger, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.pending:
            return
        chunk, size = Chunk(self.pending), self.pending_bytes
        self.pending, self.pending_bytes = [], 0
        first = chunk.outs[0].seq
        for listener in list(self.listeners):
            if listener.overflowed:
                continue  # its stream ends; it resumes from the ring
            if listener.joined_seq < first:
                listener.push(chunk, size)
            elif (part := chunk.after(listener.joined_seq)) is not None:
                listener.push(part, size)

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        if not self.listeners:
            if self._timer is not None:
                self._timer.cancel()
            self.hub.feeds.pop(self.key, None)


class Listener:
    def __init__(self, hub: EventHub, matcher: Matcher) -> None:
        # Bounded by `push` (LISTENER_BUFFER_EVENTS), not by the queue: the end marker must
        # always fit behind what is queued. Dropping the oldest event to make room for it lost
        # that event without a trace (the client resumed after a later one).
        self.queue: asyncio.Queue[tuple[Outgoing | Chunk, int] | None] = asyncio.Queue()
        self.queued_bytes = 0
        self.matcher = matcher
        self.overflowed = False
        self.feed: Feed | None = None
        self.joined_seq = 0  # the hub's last event when it joined its feed
        self._hub = hub

    def offer(self, event_id: str, event: LiveEvent, size: int | None = None) -> None:
        if self.wants(event):
            self.push(Outgoing(event_id, event), event_bytes(event) if size is None else size)

    def wants(self, event: LiveEvent) -> bool:
        return not self.overflowed and self.matcher(event)

    def push(self, out: Outgoing | Chunk, size: int) -> None:
        if (
            self.queue.qsize() >= LISTENER_BUFFER_EVENTS
            or self.queued_bytes + size > LISTENER_BUFFER_BYTES
            or (self.queued_bytes and self._hub.listener_bytes + size > self._hub.listeners_bytes)
        ):
            # The client is too slow: end its stream after what it holds; it reconnects and
            # resumes from the ring after the last event it got, or is told to refetch.
            self.overflowed = True
            self._end()
            return
        self.queue.put_nowait((out, size))
        self._count(size)

    def _end(self) -> None:
        self.queue.put_nowait(None)

    def _count(self, size: int) -> None:
        self.queued_bytes += size
        self._hub.listener_bytes += size

    async def get(self) -> tuple[str, LiveEvent] | None:
        item = await self.queue.get()
        if item is None:
            return None
        out, size = item
        self._count(-size)
        assert isinstance(out, Outgoing), "a fed listener is read with take()"
        return out.event_id, out.event

    async def take(self, most: int) -> list[Outgoing | Chunk] | None:
        """Waits for one item, then takes what is queued (up to `most`) for one write; a fed
        listener's items are its feed's chunks, which have lingered already. None: the stream is
        over (too slow, or the hub is stopping)."""
        item = await self.queue.get()
        taken: list[Outgoing | Chunk] = []
        while item is not None:
            out, size = item
            self._count(-size)
            taken.append(out)
            if len(taken) >= most or self.queue.empty():
                return taken
            item = self.queue.get_nowait()
        # The end comes after what was queued before it: send those first, end on the next call.
        if taken:
            self._end()
            return taken
        return None

    def close(self) -> None:
        self._hub.listeners.discard(self)
        self._hub.solo.discard(self)
        if self.feed is not None:
            self.feed.leave(self)
        self._count(-self.queued_bytes)  # what it still held is dropped with it


class EventHub:
    def __init__(
        self,
        broker: Broker,
        replay_bytes: int = REPLAY_BUFFER_BYTES,
        replay_seconds: float = REPLAY_SECONDS,
        listeners_bytes: int = LISTENERS_BUFFER_BYTES,
        linger: float = FEED_LINGER_SECONDS,
    ) -> None:
        self.broker = broker
        self.linger = linger
        self.listeners_bytes = listeners_bytes
        self.listener_bytes = 0  # queued for all listeners
        self.epoch = secrets.token_hex(4)
        self.seq = 0
        # (seq, event, size, monotonic time), oldest first; bounded by REPLAY_BUFFER_EVENTS,
        # `replay_bytes` and, so that an idle replica does not keep a burst's logs, by age.
        self.ring: deque[tuple[int, LiveEvent, int, float]] = deque()
        self.ring_bytes = 0
        self.replay_bytes = replay_bytes
        self.replay_seconds = replay_seconds
        self._freed = 0  # bytes dropped from the ring since memory was last given back
        self._inflow = 0  # bytes added to the ring since the last expiry
        self._expiry: asyncio.Task[None] | None = None
        self.listeners: set[Listener] = set()  # all of them
        self.solo: set[Listener] = set()  # those in no feed: matched event by event
        self.feeds: dict[Hashable, Feed] = {}
        self.closing = False  # stopping: streams end at once
        self.order = RunOrder()
        self.stale_dropped = 0
        self.gaps = 0  # times the broker subscription ended and events may have been missed
        # Per domain, bumped by each run, job or worker event: numbers read from the store
        # before the bump may be out of date (see scheduler/services/shared_stats.py).
        self.versions: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump(), name="event-hub")
        self._expiry = asyncio.create_task(self._expire_forever(), name="event-hub-expiry")

    async def stop(self) -> None:
        for task in (self._task, self._expiry):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.end_streams()

    def end_streams(self) -> None:
        """End every open stream now and any opened from here on (the server is stopping)."""
        self.closing = True
        self.flush_feeds()
        for listener in list(self.listeners):
            listener._end()

    def flush_feeds(self) -> None:
        for feed in list(self.feeds.values()):
            feed.flush()

    async def _pump(self) -> None:
        first = True
        while True:
            sub = self.broker.subscribe(None)
            if not first:
                self.gap()
            first = False
            try:
                async for event in sub:
                    self._dispatch(event)
            except asyncio.CancelledError:
                await sub.close()
                raise
            except Exception:
                log.exception("live event stream failed; resubscribing", extra={"action": "hub"})
                await asyncio.sleep(1.0)
            else:
                log.warning(
                    "live event stream ended (fell behind?); resubscribing",
                    extra={"action": "hub"},
                )
            await sub.close()

    def gap(self) -> None:
        """Events may have been lost on the way to this hub: start a new epoch (no resume can
        cross the gap, so resuming clients get `reset`) and end every stream so they resume."""
        self.gaps += 1
        self.flush_feeds()  # what came before the gap is sound: sent before the streams end
        self.epoch = secrets.token_hex(4)
        while self.ring:
            self._drop_oldest()
        for domain in self.versions:
            self.versions[domain] += 1
        for listener in list(self.listeners):
            listener._end()

    def _dispatch(self, event: LiveEvent) -> None:
        if isinstance(event, RunEvent) and self.order.stale(event.run):
            self.stale_dropped += 1
            return
        if not isinstance(event, LogEvent):
            self.versions[event.domain] = self.versions.get(event.domain, 0) + 1
        self.seq += 1
        size = event_bytes(event)
        self.ring.append((self.seq, event, size, time.monotonic()))
        self.ring_bytes += size
        self._inflow += size
        while len(self.ring) > REPLAY_BUFFER_EVENTS or (
            self.ring_bytes > self.replay_bytes and len(self.ring) > 1
        ):
            self._drop_oldest()
        out: Outgoing | None = None
        for feed in list(self.feeds.values()):
            if feed.matcher(event):
                out = out or Outgoing(f"{self.epoch}-{self.seq}", event, self.seq)
                feed.add(out, size)
        for listener in list(self.solo):
            if listener.wants(event):
                out = out or Outgoing(f"{self.epoch}-{self.seq}", event, self.seq)
                listener.push(out, size)

    def version(self, domain: str) -> int:
        return self.versions.get(domain, 0)

    def _drop_oldest(self) -> None:
        size = self.ring.popleft()[2]
        self.ring_bytes -= size
        self._freed += size

    def expire(self, now: float) -> None:
        """Drop events older than `replay_seconds`; give memory back after a large drop."""
        while self.ring and now - self.ring[0][3] > self.replay_seconds:
            self._drop_oldest()
        # Not while a burst goes on (what is freed is taken again at once): once it is over.
        if self._freed >= RELEASE_AFTER_BYTES and self._inflow < RELEASE_AFTER_BYTES:
            self._freed = 0
            heap.release()
        self._inflow = 0

    async def _expire_forever(self) -> None:
        while True:
            await asyncio.sleep(EXPIRE_EVERY_SECONDS)
            self.expire(time.monotonic())

    def listen(
        self, matcher: Matcher, last_event_id: str | None = None, feed: Hashable | None = None
    ) -> tuple[Listener, bool]:
        """Register a listener; replay what it missed. Returns (listener, resumed_ok).

        Listeners given the same `feed` key must have matchers that accept the same events:
        they share one (read them with `take`)."""
        listener = Listener(self, matcher)
        resumed = True
        if last_event_id:
            epoch, _, seq_text = last_event_id.partition("-")
            seq = int(seq_text) if re.fullmatch(r"[0-9]{1,15}", seq_text) else -1
            oldest = self.ring[0][0] if self.ring else self.seq + 1
            if epoch != self.epoch or seq < oldest - 1 or seq > self.seq:
                resumed = False
            else:
                for event_seq, event, size, _ in self.ring:
                    if event_seq > seq:
                        listener.offer(f"{self.epoch}-{event_seq}", event, size)
        self.listeners.add(listener)
        if feed is None:
            self.solo.add(listener)
        else:
            shared = self.feeds.get(feed)
            if shared is None:
                shared = self.feeds[feed] = Feed(self, feed, matcher)
            shared.listeners.add(listener)
            listener.feed = shared
            listener.joined_seq = self.seq
        if self.closing:
            listener._end()
        return listener, resumed
