"""The injectable clock: wall time for schedules and records, monotonic time for intervals.

Everything that reads time takes a `Clock`, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC wall-clock time."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told; sleepers wake when time passes their deadline."""

    def __init__(self, start: datetime, monotonic_start: float = 1000.0) -> None:
        self._wall = start.astimezone(UTC)
        self._mono = monotonic_start
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move wall and monotonic time forward together."""
        self._wall += timedelta(seconds=seconds)
        self._mono += seconds
        self._notify()

    def set_wall(self, when: datetime) -> None:
        """Step the wall clock only (an NTP correction or an operator's mistake)."""
        self._wall = when.astimezone(UTC)
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        deadline = self._mono + max(0.0, seconds)
        while self._mono < deadline:
            await self._changed.wait()


def utcnow() -> datetime:
    return datetime.now(UTC)
