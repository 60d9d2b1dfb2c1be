"""Dashboard numbers shared by every viewer of a domain: computed at most once per interval.

A burst of runs makes every open dashboard ask for `GET /stats` again; each answer reads every
run of the window, so N viewers used to cost N reads per refresh (issue 19). Here one reading
per (domain, window) serves all of them, and a new one starts at most every `interval` seconds.

What an answer promises: it was read from the store after every run, job or worker event this
replica had received for the domain when the request arrived (the hub counts them per domain,
`EventHub.version`), and it is at most `max_age` seconds old (windows roll on with time). So a
client that refetches after an event never gets numbers from before that event; it may wait up
to `interval` for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from hydra_jobs.models import Stats

STATS_INTERVAL = 1.0  # seconds: at most one reading per domain and window this often
STATS_MAX_AGE = 5.0  # seconds: an answer with no event since is still read again after this
STATS_KEYS = 256  # (domain, window) pairs remembered

Key = tuple[str, int]
Compute = Callable[[str, int], Awaitable[Stats]]


@dataclass
class _Entry:
    value: Stats | None = None
    version: int = -1  # the domain's event count when `value` was read
    read_at: float = float("-inf")  # monotonic start of the reading of `value`
    started: float = float("-inf")  # monotonic start of the newest reading
    running: asyncio.Task[Stats] | None = None
    running_version: int = -1
    pending: asyncio.Task[Stats] | None = None  # the next reading, waiting for its turn


class SharedStats:
    def __init__(
        self,
        compute: Compute,
        version: Callable[[str], int],
        interval: float = STATS_INTERVAL,
        max_age: float = STATS_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute = compute
        self._version = version
        self.interval = interval
        self.max_age = max_age
        self._clock = clock
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self.requests = 0  # answered (for /metrics)
        self.computed = 0  # store readings started

    async def get(self, domain: str, hours: int) -> Stats:
        self.requests += 1
        key = (domain, hours)
        entry = self._entry(key)
        version, now = self._version(domain), self._clock()
        fresh = entry.version >= version and now - entry.read_at < self.max_age
        if entry.value is not None and fresh:
            return entry.value
        if entry.running is not None and entry.running_version >= version:
            return await asyncio.shield(entry.running)
        if entry.pending is None:
            entry.pending = asyncio.create_task(self._next(key, entry), name="stats")
            entry.pending.add_done_callback(_retrieve)
        # Shielded: a viewer that goes away does not cancel the reading the others wait for.
        return await asyncio.shield(entry.pending)

    def _entry(self, key: Key) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
            while len(self._entries) > STATS_KEYS:
                self._entries.popitem(last=False)
        self._entries.move_to_end(key)
        return entry

    async def _next(self, key: Key, entry: _Entry) -> Stats:
        """The next reading: after the one running, no sooner than `interval` after its start."""
        if entry.running is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(entry.running)
        await asyncio.sleep(max(0.0, entry.started + self.interval - self._clock()))
        entry.pending = None
        entry.running = cast("asyncio.Task[Stats]", asyncio.current_task())
        entry.running_version = self._version(key[0])
        entry.started = self._clock()
        self.computed += 1
        version, started = entry.running_version, entry.started
        try:
            value = await self._compute(*key)
        finally:
            entry.running = None
        if version >= entry.version:
            entry.value, entry.version, entry.read_at = value, version, started
        return value


def _retrieve(task: asyncio.Task[Stats]) -> None:
    """Every waiter may have gone: mark a failure as seen (each waiter still gets it raised)."""
    if not task.cancelled():
        task.exception()
