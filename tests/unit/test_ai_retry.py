"""Provider retries (backoff, Retry-After) and the per-domain rate limit, with no network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from email.utils import format_datetime

import pytest

from hydra_jobs.clock import utcnow
from hydra_jobs.errors import RateLimited
from hydra_jobs.scheduler.ai.providers import RateLimit
from hydra_jobs.scheduler.ai.providers.base import (
    ProviderHttpError,
    provider_message,
    retry_after_seconds,
)
from hydra_jobs.scheduler.ai.providers.retry import RetryPolicy, with_retries


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    later = format_datetime(utcnow() + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after_seconds({"retry-after": later}) or 0) <= 30
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None and retry_after_seconds(None) is None


def _failing(
    statuses: list[int | None], retry_after: float | None = None
) -> tuple[list[int], Callable[[], Awaitable[str]]]:
    calls: list[int] = []

    async def call() -> str:
        calls.append(1)
        if len(calls) <= len(statuses):
            status = statuses[len(calls) - 1]
            raise ProviderHttpError("no", status=status, retry_after=retry_after)
        return "answer"

    return calls, call


async def test_5xx_and_429_are_retried_with_backoff_and_retry_after_wins() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=20.0, jitter=0.0)
    calls, call = _failing([503, None])
    assert await with_retries(call, policy, sleep=sleep) == "answer"
    assert len(calls) == 3 and slept == [1.0, 2.0]

    slept.clear()
    calls, call = _failing([429], retry_after=60.0)
    assert await with_retries(call, policy, sleep=sleep) == "answer"
    assert slept == [20.0]  # the provider's wish, capped


async def test_refusals_are_not_retried_and_attempts_end() -> None:
    async def sleep(seconds: float) -> None:
        raise AssertionError("no retry expected")

    calls, call = _failing([401])
    with pytest.raises(ProviderHttpError):
        await with_retries(call, RetryPolicy(attempts=3), sleep=sleep)
    assert len(calls) == 1

    async def nap(seconds: float) -> None:
        pass

    calls, call = _failing([500, 500, 500])
    with pytest.raises(ProviderHttpError):
        await with_retries(call, RetryPolicy(attempts=3), sleep=nap)
    assert len(calls) == 3


def test_provider_messages_never_hold_the_key() -> None:
    key = "sk-" + "a1" * 20
    said = provider_message("OpenAI", 401, f"Incorrect API key provided: {key}", key)
    assert said.startswith("OpenAI refused the request (401): Incorrect API key provided")
    assert key not in said and "a1a1a1" not in said


def test_rate_limit_is_a_sliding_minute_per_domain() -> None:
    now = [1000.0]
    limit = RateLimit(2, clock=lambda: now[0])
    limit.take("a")
    limit.take("a")
    limit.take("b")
    with pytest.raises(RateLimited) as refused:
        limit.take("a")
    assert refused.value.retry_after == pytest.approx(60.0)
    now[0] += 30
    with pytest.raises(RateLimited) as still:
        limit.take("a")
    assert still.value.retry_after == pytest.approx(30.0)
    now[0] += 30.1
    limit.take("a")
