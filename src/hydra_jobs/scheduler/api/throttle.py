"""Throttling failed authentication per client address: a growing delay, then 429.

Pure bookkeeping with the time passed in, so its rules are tested without a server or a clock.

Each address has a leaky bucket of failures: a wrong token adds one, and one leaks out every
`LEAK_SECONDS`, so a client that mistypes now and then never fills it. Past `FREE_FAILURES` each
further failure is answered late (a delay that doubles, up to `MAX_DELAY_SECONDS`); from
`LOCK_FAILURES` on, wrong tokens get 429 with Retry-After at once. Only failures are counted and
only failures are slowed: a request with a valid token is never delayed or refused, so a client
that shares an address with an attacker (NAT, one CI host) keeps working, and one address's
failures never touch another's. Guessing a token remains as hopeless as its entropy makes it
(256 bits for domain tokens, 32+ characters for the admin's); this bounds the rate and the noise.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass

FREE_FAILURES = 10  # answered at once: typos, a stale token in a script
LOCK_FAILURES = 20  # from here on: 429
LEAK_SECONDS = 6.0  # one failure forgotten every 6 s: 10 per minute never accumulate
MAX_LOCK_SECONDS = 300.0  # however long an address keeps failing, it may retry after this
FIRST_DELAY_SECONDS = 0.05
MAX_DELAY_SECONDS = 1.0
MAX_ADDRESSES = 10_000  # bounds the table: the least recently failing address is dropped


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with a request whose token was wrong."""

    delay_seconds: float = 0.0  # answer the 401 this late
    retry_after_seconds: int | None = None  # not None: answer 429 with this Retry-After


@dataclass(slots=True)
class _Bucket:
    level: float
    at: float


def client_key(host: str | None) -> str:
    """The throttled unit: an IPv4 address, or an IPv6 /64 (one host usually holds a whole /64,
    so counting its addresses one by one would let it rotate past the throttle)."""
    if not host:
        return "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class AuthThrottle:
    def __init__(self, max_addresses: int = MAX_ADDRESSES) -> None:
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._max = max_addresses

    def _level(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        return max(0.0, bucket.level - (now - bucket.at) / LEAK_SECONDS)

    def locked(self, key: str, now: float) -> int | None:
        """Seconds until the address may try again, or None when it is not locked."""
        level = self._level(key, now)
        if level < LOCK_FAILURES:
            return None
        return max(1, math.ceil((level - LOCK_FAILURES + 1) * LEAK_SECONDS))

    def failed(self, key: str, now: float) -> Verdict:
        """Count one failure of `key` and say how to answer it."""
        ceiling = LOCK_FAILURES + MAX_LOCK_SECONDS / LEAK_SECONDS
        level = min(self._level(key, now) + 1, ceiling)
        self._buckets[key] = _Bucket(level, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        retry_after = self.locked(key, now)
        if retry_after is not None:
            return Verdict(retry_after_seconds=retry_after)
        if level <= FREE_FAILURES:
            return Verdict()
        delay = FIRST_DELAY_SECONDS * 2 ** (level - FREE_FAILURES - 1)
        return Verdict(delay_seconds=min(delay, MAX_DELAY_SECONDS))

    def __len__(self) -> int:
        return len(self._buckets)
