"""How a retrying loop lives through an outage: it warns once when the outage starts, says so once
when it ends, and backs off between tries (St3 in docs/reliability.md).

The backoff is capped and exponential with full jitter (a uniform draw between 0 and the capped
exponential), so a fleet that lost Redis at the same instant does not come back all at once; the
cap bounds how long a process stays away after the server is back.
"""

from __future__ import annotations

import asyncio
import logging
import random

BASE_SECONDS = 0.1
CAP_SECONDS = 3.0


class Backoff:
    """Delays between tries: `next_delay()` after each failure, `reset()` after a success."""

    def __init__(
        self,
        base: float = BASE_SECONDS,
        cap: float = CAP_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """The delay after one more failure."""
        ceiling = min(self.cap, self.base * 2 ** min(self.failures, 30))
        self.failures += 1
        # Never less than a tenth of the base: a zero draw must not turn the loop into a spin.
        return max(self.base / 10, self._rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.failures = 0


class Outage:
    """One loop's view of what it depends on: up, or down since a failure.

    `failed(...)` logs its message only for the first failure of an outage; `ok()` ends the
    outage (logging `recovered`, if given, when there was one); `await sleep()` waits the backoff.
    """

    def __init__(
        self,
        log: logging.Logger,
        *,
        action: str | None = None,
        level: int = logging.WARNING,
        recovered: str | None = None,
        base: float = BASE_SECONDS,
        cap: float = CAP_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self._log = log
        self._extra = {"action": action} if action else None
        self._level = level
        self._recovered = recovered
        self.backoff = Backoff(base, cap, rng)
        self.down = False

    def failed(self, message: str, *args: object) -> bool:
        """A try failed; returns True (and logs) if it is the first of an outage."""
        first = not self.down
        if first:
            self._log.log(self._level, message, *args, extra=self._extra)
        self.down = True
        return first

    def failed_with(self, what: str, exc: BaseException) -> bool:
        """`failed` with the usual message: '<what>: <exception type>: <exception>'."""
        return self.failed(what.replace("%", "%%") + ": %s: %s", type(exc).__name__, exc)

    def ok(self) -> bool:
        """A try succeeded; returns True (and logs `recovered`) if it ends an outage."""
        ended = self.down
        if ended and self._recovered:
            self._log.info(self._recovered, extra=self._extra)
        self.down = False
        self.backoff.reset()
        return ended

    def next_delay(self) -> float:
        return self.backoff.next_delay()

    async def sleep(self) -> None:
        await asyncio.sleep(self.backoff.next_delay())
