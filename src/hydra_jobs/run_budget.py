"""How many runs a domain may create: `HYDRA_MAX_RUNS_PER_MINUTE`, as a token bucket per domain.

A domain starts with a minute's worth of runs and earns them back at the cap's rate, so a burst
up to the cap is fine and the long-run rate is the cap. Pure: the caller passes monotonic time.

Two ways to spend:
- `take`: all or nothing, for work a caller asks for (a trigger, a fan-out, a retry by hand, a
  scheduled slot); when the domain has too little left it says how long until it would have enough.
- `charge`: always succeeds, for retries the job's policy owes to runs already admitted (refusing
  one would lose it). The domain goes into debt, repaid before it may take anything again; the
  debt is bounded to one minute's worth, so a flood of retries delays new work by two minutes
  at most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # monotonic seconds of `tokens`


class RunBudget:
    def __init__(self, per_minute: int) -> None:
        """`per_minute` 0 means no cap."""
        self.per_minute = per_minute
        self._rate = per_minute / WINDOW_SECONDS  # runs earned back per second
        self._buckets: dict[str, _Bucket] = {}  # one per domain that created runs

    @property
    def capped(self) -> bool:
        return self.per_minute > 0

    def take(self, domain: str, count: int, now: float) -> float:
        """Spend `count` runs if the domain has them: 0.0; else spend nothing and return the
        seconds until it will have them (math.inf if `count` is more than a minute's worth)."""
        if not self.capped or count <= 0:
            return 0.0
        if count > self.per_minute:
            return math.inf
        bucket = self._refill(domain, now)
        if bucket.tokens >= count:
            bucket.tokens -= count
            return 0.0
        return (count - bucket.tokens) / self._rate

    def charge(self, domain: str, count: int, now: float) -> None:
        """Spend `count` runs whatever the domain has left (down to a minute's worth of debt)."""
        if self.capped and count > 0:
            bucket = self._refill(domain, now)
            bucket.tokens = max(bucket.tokens - count, -float(self.per_minute))

    def _refill(self, domain: str, now: float) -> _Bucket:
        bucket = self._buckets.get(domain)
        if bucket is None:
            bucket = self._buckets[domain] = _Bucket(float(self.per_minute), now)
        elapsed = max(0.0, now - bucket.at)
        bucket.tokens = min(float(self.per_minute), bucket.tokens + elapsed * self._rate)
        bucket.at = now
        return bucket
