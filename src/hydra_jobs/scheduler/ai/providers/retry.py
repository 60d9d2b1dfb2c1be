"""Retries of a provider call: backoff on 429 and 5xx (and unreachable), honouring Retry-After.

The SDKs' own retries are off, so both providers behave the same and a Retry-After is obeyed
(capped, so one answer cannot park a request for an hour).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from hydra_jobs.scheduler.ai.providers.base import ProviderHttpError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3  # in all, the first included
    base_delay: float = 1.0  # seconds, doubled per attempt
    max_delay: float = 20.0  # seconds; also the cap on a provider's Retry-After
    jitter: float = 0.1  # ± fraction of a computed delay

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        delay = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        return float(delay * (1 + random.uniform(-self.jitter, self.jitter)))


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    attempt = 1
    while True:
        try:
            return await call()
        except ProviderHttpError as exc:
            if not exc.retryable or attempt >= policy.attempts:
                raise
            delay = policy.delay(attempt, exc.retry_after)
            log.warning(
                "AI provider answered %s; retrying in %.1f s (attempt %d of %d)",
                exc.status,
                delay,
                attempt + 1,
                policy.attempts,
                extra={"action": "ai_retry"},
            )
            await sleep(delay)
            attempt += 1
