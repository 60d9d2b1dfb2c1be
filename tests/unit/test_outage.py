"""The one "warn once per outage, then back off" helper (hydra_jobs.outage, St3)."""

from __future__ import annotations

import logging
import random
import time

import pytest

from hydra_jobs.outage import Backoff, Outage

log = logging.getLogger("tests.outage")


def test_an_outage_is_told_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=log.name)
    outage = Outage(log, action="probe", recovered="probe is back")
    assert outage.ok() is False  # no outage yet: nothing to say
    assert outage.failed("probe failed (%s)", "first") is True
    assert outage.failed("probe failed (%s)", "second") is False
    assert outage.failed_with("probe failed", OSError("third")) is False
    assert outage.down
    assert outage.ok() is True
    assert outage.ok() is False
    assert outage.failed_with("probe 100% failed", ConnectionError("refused")) is True
    told = [(r.levelno, r.getMessage(), getattr(r, "action", None)) for r in caplog.records]
    assert told == [
        (logging.WARNING, "probe failed (first)", "probe"),
        (logging.INFO, "probe is back", "probe"),
        (logging.WARNING, "probe 100% failed: ConnectionError: refused", "probe"),
    ]


def test_the_level_is_the_callers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=log.name)
    Outage(log, level=logging.INFO).failed("waiting: %s", "not there yet")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "waiting: not there yet")
    ]


def test_the_backoff_grows_to_its_cap_with_full_jitter_and_starts_over_after_a_success() -> None:
    backoff = Backoff(base=0.1, cap=1.0, rng=random.Random(3))
    ceilings = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    for _ in range(200):
        for ceiling in ceilings:
            assert 0.01 <= backoff.next_delay() <= ceiling
        backoff.reset()
    # Full jitter: draws spread over the whole range, not bunched at the ceiling.
    draws = []
    for _ in range(500):
        backoff.reset()
        for _ in range(5):
            delay = backoff.next_delay()
        draws.append(delay)
    assert min(draws) < 0.2 and max(draws) > 0.8


def test_ok_resets_the_backoff() -> None:
    outage = Outage(log, base=0.1, cap=100.0, rng=random.Random(1))
    for _ in range(10):
        outage.failed("down")
        outage.next_delay()
    assert outage.backoff.failures == 10
    outage.ok()
    assert outage.backoff.failures == 0
    assert outage.next_delay() <= 0.1


async def test_sleep_waits_the_backoff() -> None:
    outage = Outage(log, base=0.05, cap=0.05, rng=random.Random(2))
    started = time.monotonic()
    for _ in range(4):
        await outage.sleep()
    assert outage.backoff.failures == 4
    assert 4 * 0.005 <= time.monotonic() - started < 5.0
