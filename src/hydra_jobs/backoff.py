"""Capped, jittered exponential backoff for every reconnect loop (St3 in docs/reliability.md).

Full jitter (a uniform draw between 0 and the capped exponential) spreads a fleet that lost Redis
at the same instant, so its return is not met by every worker at once; the cap bounds how long a
process stays away after the server is back.
"""

from __future__ import annotations

import asyncio
import random

BASE_SECONDS = 0.1
CAP_SECONDS = 3.0


class Backoff:
    """One retrying loop's state: `await sleep()` after a failure, `reset()` after a success."""

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

    def delay(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self.failures, 30))
        # Never less than a tenth of the base: a zero draw must not turn the loop into a spin.
        return max(self.base / 10, self._rng.uniform(0, ceiling))

    async def sleep(self) -> None:
        delay = self.delay()
        self.failures += 1
        await asyncio.sleep(delay)

    def reset(self) -> None:
        self.failures = 0
