"""The rules of the failed-authentication throttle, with the time passed in."""

from __future__ import annotations

from hydra_jobs.scheduler.api.throttle import (
    FREE_FAILURES,
    LEAK_SECONDS,
    LOCK_FAILURES,
    MAX_DELAY_SECONDS,
    MAX_LOCK_SECONDS,
    AuthThrottle,
    client_key,
)


def test_free_failures_then_a_growing_delay_then_429() -> None:
    throttle = AuthThrottle()
    verdicts = [throttle.failed("10.0.0.1", 0.0) for _ in range(LOCK_FAILURES)]
    free = verdicts[:FREE_FAILURES]
    assert all(v.delay_seconds == 0 and v.retry_after_seconds is None for v in free)
    delays = [v.delay_seconds for v in verdicts[FREE_FAILURES : LOCK_FAILURES - 1]]
    assert delays == sorted(delays) and delays[0] > 0 and delays[-1] == MAX_DELAY_SECONDS
    assert verdicts[-1].retry_after_seconds is not None and verdicts[-1].retry_after_seconds > 0
    assert throttle.locked("10.0.0.1", 0.0) is not None


def test_one_address_never_touches_another() -> None:
    throttle = AuthThrottle()
    for _ in range(LOCK_FAILURES * 3):
        throttle.failed("10.0.0.1", 0.0)
    assert throttle.locked("10.0.0.2", 0.0) is None
    first = throttle.failed("10.0.0.2", 0.0)
    assert first.delay_seconds == 0 and first.retry_after_seconds is None


def test_failures_leak_away_and_a_lock_is_bounded() -> None:
    throttle = AuthThrottle()
    for _ in range(10_000):  # a persistent attacker
        verdict = throttle.failed("a", 0.0)
    assert verdict.retry_after_seconds is not None
    assert verdict.retry_after_seconds <= MAX_LOCK_SECONDS + LEAK_SECONDS
    # After the Retry-After it said, the address may try again.
    assert throttle.locked("a", float(verdict.retry_after_seconds)) is None
    # Occasional mistakes (one per LEAK_SECONDS) never accumulate.
    quiet = AuthThrottle()
    verdicts = {quiet.failed("b", i * LEAK_SECONDS) for i in range(1000)}
    assert verdicts == {quiet.failed("c", 0.0)}  # all answered at once, as the first


def test_the_table_is_bounded_and_ipv6_counts_by_64() -> None:
    throttle = AuthThrottle(max_addresses=100)
    for i in range(1000):
        throttle.failed(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(throttle) == 100
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert client_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert client_key("127.0.0.1") == "127.0.0.1"
    assert client_key(None) == "?"
