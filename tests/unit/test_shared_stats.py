"""Dashboard stats are read once per interval for all viewers of a domain (issue 19), and never
answer with numbers read before an event the replica had received when the request came."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from hydra_jobs.models import Stats
from hydra_jobs.scheduler.services.shared_stats import SharedStats

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Domain:
    """A stand-in for the store and the hub's event count: each reading records the count it
    saw in `workers_online`, so an answer tells what it was read after."""

    def __init__(self, read_seconds: float = 0.0) -> None:
        self.events = 0
        self.readings = 0
        self.read_seconds = read_seconds
        self.fail = False

    def version(self, domain: str) -> int:
        return self.events

    async def read(self, domain: str, hours: int) -> Stats:
        self.readings += 1
        seen = self.events
        await asyncio.sleep(self.read_seconds)
        if self.fail:
            raise RuntimeError("store down")
        return Stats(
            since=T0,
            counts={"succeeded": seen},
            hourly=[],
            success_rate=None,
            slowest_jobs=[],
            failing_jobs=[],
            recent_failures=[],
            workers_online=seen,
        )


async def test_many_viewers_at_once_share_one_reading() -> None:
    d = Domain(read_seconds=0.05)
    shared = SharedStats(d.read, d.version, interval=0.5)
    answers = await asyncio.gather(*(shared.get("default", 24) for _ in range(200)))
    assert d.readings == 1 and shared.computed == 1 and shared.requests == 200
    assert all(a is answers[0] for a in answers)


async def test_a_burst_with_viewers_costs_one_reading_per_interval_and_nothing_stale() -> None:
    d = Domain(read_seconds=0.01)
    interval = 0.1
    shared = SharedStats(d.read, d.version, interval=interval)
    stale: list[tuple[int, int]] = []

    async def viewer() -> None:
        for _ in range(20):
            asked_after = d.events
            answer = await shared.get("default", 24)
            if answer.workers_online < asked_after:
                stale.append((answer.workers_online, asked_after))
            await asyncio.sleep(0.01)

    async def burst() -> None:
        for _ in range(100):
            d.events += 1  # an event reached the hub
            await asyncio.sleep(0.005)

    start = time.monotonic()
    await asyncio.gather(burst(), *(viewer() for _ in range(30)))
    elapsed = time.monotonic() - start
    assert not stale, f"answers read before an event the request came after: {stale[:5]}"
    # 600 requests, one reading per interval (plus the first and one finishing).
    assert d.readings <= elapsed / interval + 2, (d.readings, elapsed)
    assert shared.requests == 600


async def test_an_event_makes_the_next_answer_a_new_reading() -> None:
    d = Domain()
    shared = SharedStats(d.read, d.version, interval=0.05)
    assert (await shared.get("default", 24)).workers_online == 0
    assert (await shared.get("default", 24)).workers_online == 0 and d.readings == 1
    d.events = 3
    assert (await shared.get("default", 24)).workers_online == 3 and d.readings == 2


async def test_windows_and_domains_are_read_apart() -> None:
    d = Domain()
    shared = SharedStats(d.read, d.version, interval=0.05)
    await asyncio.gather(shared.get("a", 24), shared.get("a", 1), shared.get("b", 24))
    assert d.readings == 3


async def test_with_no_events_an_answer_is_read_again_after_max_age() -> None:
    d = Domain()
    now = [100.0]
    shared = SharedStats(d.read, d.version, interval=0.0, max_age=5.0, clock=lambda: now[0])
    await shared.get("default", 24)
    now[0] += 4.9
    await shared.get("default", 24)
    assert d.readings == 1
    now[0] += 0.2
    await shared.get("default", 24)
    assert d.readings == 2


async def test_a_viewer_that_leaves_does_not_cancel_the_reading_of_the_others() -> None:
    d = Domain(read_seconds=0.1)
    shared = SharedStats(d.read, d.version, interval=0.05)
    leaving = asyncio.create_task(shared.get("default", 24))
    staying = asyncio.create_task(shared.get("default", 24))
    await asyncio.sleep(0.02)
    leaving.cancel()
    assert (await staying).workers_online == 0
    assert d.readings == 1


async def test_a_failed_reading_fails_its_waiters_and_the_next_request_reads_again() -> None:
    d = Domain(read_seconds=0.01)
    d.fail = True
    shared = SharedStats(d.read, d.version, interval=0.01)
    asks = (shared.get("default", 24) for _ in range(5))
    results = await asyncio.gather(*asks, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results) and d.readings == 1
    d.fail = False
    assert (await shared.get("default", 24)).counts == {"succeeded": 0}
    assert d.readings == 2


@pytest.mark.parametrize("viewers", [1, 50])
async def test_the_answer_waits_at_most_about_one_interval(viewers: int) -> None:
    d = Domain()
    shared = SharedStats(d.read, d.version, interval=0.2)
    await shared.get("default", 24)
    d.events += 1
    start = time.monotonic()
    await asyncio.gather(*(shared.get("default", 24) for _ in range(viewers)))
    assert time.monotonic() - start < 2.0  # 0.2 s, with room for a loaded machine
    assert d.readings == 2
