"""Live event hub of one scheduler replica: numbers broker fan-out events and replays recent ones.

SSE clients resume with `Last-Event-ID`: ids are `<epoch>-<seq>`, where the epoch changes each
time the replica starts, so an id from another life gets a `reset` instead of a wrong replay.

With several replicas, each publishes the changes it applied, so two changes of one run can
arrive in the other order (`succeeded` from one replica before `running` from another). A run
event that would move a run backwards is dropped here: clients only ever see a run go forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from hydra_jobs.broker.base import Broker

log = logging.getLogger(__name__)

REPLAY_BUFFER_EVENTS = 20_000
LISTENER_BUFFER_EVENTS = 5_000

Matcher = Callable[[dict[str, Any]], bool]
RUN_ORDER_MEMORY = 50_000  # runs whose last status the hub remembers to drop stale events
STATUS_RANK = {"pending": 0, "queued": 1, "running": 2}  # everything else is terminal: 3


def _rank(status: str) -> int:
    return STATUS_RANK.get(status, 3)


class RunOrder:
    """Remembers the last status seen per run; `stale` is True for an event that goes back."""

    def __init__(self, memory: int = RUN_ORDER_MEMORY) -> None:
        self._last: OrderedDict[str, str] = OrderedDict()
        self._memory = memory

    def stale(self, run: dict[str, Any]) -> bool:
        run_id, status = run.get("id"), run.get("status")
        if not isinstance(run_id, str) or not isinstance(status, str):
            return False
        prev = self._last.get(run_id)
        if prev is not None:
            if _rank(status) < _rank(prev):
                return True
            # Terminal is final; the one exception is a poison run's `lost` becoming `failed`.
            if _rank(prev) == 3 and status != prev and (prev, status) != ("lost", "failed"):
                return True
        self._last[run_id] = status
        self._last.move_to_end(run_id)
        if len(self._last) > self._memory:
            self._last.popitem(last=False)
        return False


class Listener:
    def __init__(self, hub: EventHub, matcher: Matcher) -> None:
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue(
            LISTENER_BUFFER_EVENTS
        )
        self.matcher = matcher
        self.overflowed = False
        self._hub = hub

    def offer(self, event_id: str, event: dict[str, Any]) -> None:
        if self.overflowed or not self.matcher(event):
            return
        try:
            self.queue.put_nowait((event_id, event))
        except asyncio.QueueFull:
            # The client is too slow: end its stream; it reconnects and resumes or resets.
            self.overflowed = True
            self._end()

    def _end(self) -> None:
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    async def get(self) -> tuple[str, dict[str, Any]] | None:
        return await self.queue.get()

    def close(self) -> None:
        self._hub.listeners.discard(self)


class EventHub:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.epoch = secrets.token_hex(4)
        self.seq = 0
        self.ring: deque[tuple[int, dict[str, Any]]] = deque(maxlen=REPLAY_BUFFER_EVENTS)
        self.listeners: set[Listener] = set()
        self.order = RunOrder()
        self.stale_dropped = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump(), name="event-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for listener in list(self.listeners):
            listener._end()

    async def _pump(self) -> None:
        while True:
            sub = self.broker.subscribe(None)
            try:
                async for event in sub:
                    self._dispatch(event)
            except asyncio.CancelledError:
                await sub.close()
                raise
            except Exception:
                log.exception("live event stream failed; resubscribing", extra={"action": "hub"})
                await asyncio.sleep(1.0)
            await sub.close()

    def _dispatch(self, event: dict[str, Any]) -> None:
        run = event.get("run")
        if event.get("type") == "run" and isinstance(run, dict) and self.order.stale(run):
            self.stale_dropped += 1
            return
        self.seq += 1
        self.ring.append((self.seq, event))
        event_id = f"{self.epoch}-{self.seq}"
        for listener in list(self.listeners):
            listener.offer(event_id, event)

    def listen(self, matcher: Matcher, last_event_id: str | None = None) -> tuple[Listener, bool]:
        """Register a listener; replay what it missed. Returns (listener, resumed_ok)."""
        listener = Listener(self, matcher)
        resumed = True
        if last_event_id:
            epoch, _, seq_text = last_event_id.partition("-")
            seq = int(seq_text) if re.fullmatch(r"[0-9]{1,15}", seq_text) else -1
            oldest = self.ring[0][0] if self.ring else self.seq + 1
            if epoch != self.epoch or seq < oldest - 1 or seq > self.seq:
                resumed = False
            else:
                for event_seq, event in self.ring:
                    if event_seq > seq:
                        listener.offer(f"{self.epoch}-{event_seq}", event)
        self.listeners.add(listener)
        return listener, resumed
