"""The ticker with an injected clock, a real SQLite store and the in-process broker.

Time moves only when the test moves it, so catch-up (S3), DST (S5) and monotonic intervals (S6)
are checked exactly, without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.broker.memory import MemoryBroker
from hydra_jobs.clock import ManualClock
from hydra_jobs.config import Settings
from hydra_jobs.ids import new_id
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.limits import STORED
from hydra_jobs.models import Job, Run
from hydra_jobs.run_budget import RunBudget
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.loops.ticker import Ticker
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import RunFilter
from hydra_jobs.store.sql.store import SqlStore

pytestmark = pytest.mark.asyncio
UTC_START = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
FIRED = {RunStatus.PENDING, RunStatus.QUEUED}  # created to run (queued at once when uncapped)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


class Harness:
    def __init__(self, rt: Runtime, clock: ManualClock) -> None:
        self.rt = rt
        self.clock = clock
        self.task: asyncio.Task[None] | None = None
        self.ticker = Ticker(rt)

    async def add_job(self, created_at: datetime | None = None, **spec: Any) -> Job:
        body = {"name": f"job-{new_id()[-6:]}", "executor": {"type": "shell", "script": "true"}}
        body.update(spec)
        js = JobSpec.model_validate(body)
        when = created_at or self.clock.now()
        job = Job(
            **js.model_dump(), id=new_id(), domain="default", created_at=when, updated_at=when
        )
        await self.rt.store.create_job(job)
        self.rt.job_changed(job.id)
        return job

    def start(self) -> None:
        self.ticker = Ticker(self.rt)
        self.task = asyncio.create_task(self.ticker.run_forever())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def runs(self, job: Job) -> list[Run]:
        page = await self.rt.store.list_runs(
            "default", RunFilter(job_id=job.id), limit=500, cursor=None
        )
        return sorted(page.items, key=lambda r: (r.scheduled_for or r.created_at, r.id))

    async def settle(self) -> None:
        """Let the ticker finish reacting to the last clock move."""
        for _ in range(10):
            await asyncio.sleep(0)
        if self.task is not None and not self.task.done():
            await asyncio.wait_for(self.ticker.idle.wait(), 5.0)

    async def run_for(self, seconds: float) -> None:
        """Jump from one due time to the next, the way a real sleep would wake."""
        remaining = seconds
        while remaining > 0:
            delay = min(max(self.ticker._next_delay(), 0.001), remaining)
            self.clock.advance(delay)
            remaining -= delay
            await self.settle()

    async def advance(self, seconds: float, step: float = 1.0) -> None:
        moved = 0.0
        while moved < seconds:
            delta = min(step, seconds - moved)
            self.clock.advance(delta)
            moved += delta
            await self.settle()


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await store.open()
    clock = ManualClock(UTC_START)
    rt = Runtime(
        store=store,
        broker=MemoryBroker(),
        clock=clock,
        settings=Settings(ADMIN_TOKEN="x" * 32, HYDRA_DATA_DIR=tmp_path),
    )
    h = Harness(rt, clock)
    yield h
    await h.stop()
    await store.close()


async def test_cron_fires_each_slot_once(harness: Harness) -> None:
    job = await harness.add_job(schedule={"cron": "*/5 * * * * *"})  # every 5 seconds
    harness.start()
    await harness.settle()
    await harness.advance(60)
    runs = await harness.runs(job)
    slots = [r.scheduled_for for r in runs]
    assert slots == [UTC_START + timedelta(seconds=5 * i) for i in range(1, 13)]
    assert all(r.trigger == "schedule" and r.status in FIRED for r in runs)


async def test_restart_does_not_double_fire(harness: Harness) -> None:
    job = await harness.add_job(schedule={"cron": "* * * * * *"})
    harness.start()
    await harness.settle()
    await harness.advance(5)
    await harness.stop()
    harness.start()  # a new ticker sees the same slots: the unique slot key collides
    await harness.settle()
    await harness.advance(3)
    slots = [r.scheduled_for for r in await harness.runs(job)]
    assert len(slots) == len(set(slots)) == 8


@pytest.mark.parametrize(
    ("policy", "fired", "skipped_records"),
    [("none", 0, 1), ("latest", 1, 1), ("all", 6, 0)],
)
async def test_catchup_after_downtime_follows_policy(
    harness: Harness, policy: str, fired: int, skipped_records: int
) -> None:
    """S3: 6 missed minutely slots: none -> 0 runs, latest -> 1, all -> 6; the rest recorded."""
    job = await harness.add_job(schedule={"cron": "* * * * *"}, catchup=policy)
    harness.start()
    await harness.settle()
    await harness.advance(60)  # fires 12:01 normally
    await harness.stop()
    harness.clock.advance(6 * 60 + 30)  # down from 12:01:00 to 12:07:30: 12:02..12:07 missed
    harness.start()
    await harness.settle()
    runs = await harness.runs(job)
    after = [
        r for r in runs if r.scheduled_for and r.scheduled_for > UTC_START + timedelta(minutes=1)
    ]
    pending = [r for r in after if r.status in FIRED]
    skipped = [r for r in after if r.status == RunStatus.SKIPPED]
    assert len(pending) == fired
    assert len(skipped) == skipped_records
    if skipped:
        assert "missed" in (skipped[0].error or "")
    if policy == "latest":
        assert pending[0].scheduled_for == UTC_START + timedelta(minutes=7)


async def test_catchup_all_is_bounded_by_max_runs(harness: Harness) -> None:
    harness.rt.settings = harness.rt.settings.model_copy(update={"catchup_max_runs": 3})
    job = await harness.add_job(schedule={"cron": "* * * * *"}, catchup="all")
    harness.start()
    await harness.settle()
    await harness.advance(60)
    await harness.stop()
    harness.clock.advance(10 * 60 + 30)
    harness.start()
    await harness.settle()
    runs = [
        r
        for r in await harness.runs(job)
        if r.scheduled_for and r.scheduled_for > UTC_START + timedelta(minutes=1)
    ]
    assert len([r for r in runs if r.status in FIRED]) == 3
    assert len([r for r in runs if r.status == RunStatus.SKIPPED]) == 1


async def test_interval_is_monotonic_across_wall_clock_steps(harness: Harness) -> None:
    """S6: stepping the wall clock ±1 h neither re-fires nor bursts."""
    job = await harness.add_job(schedule={"interval_seconds": 10})
    harness.start()
    await harness.settle()
    await harness.advance(25)
    assert len(await harness.runs(job)) == 2
    harness.clock.set_wall(harness.clock.now() + timedelta(hours=1))
    await harness.settle()
    assert len(await harness.runs(job)) == 2, "a forward wall step must not burst"
    await harness.advance(10)
    assert len(await harness.runs(job)) == 3
    harness.clock.set_wall(harness.clock.now() - timedelta(hours=1))
    await harness.settle()
    await harness.advance(10)
    assert len(await harness.runs(job)) == 4, "a backward wall step must not stall or re-fire"


async def test_at_fires_once(harness: Harness) -> None:
    at = UTC_START + timedelta(seconds=30)
    job = await harness.add_job(schedule={"at": at.isoformat()})
    harness.start()
    await harness.settle()
    await harness.advance(20)
    assert await harness.runs(job) == []
    await harness.advance(20)
    runs = await harness.runs(job)
    assert [r.scheduled_for for r in runs] == [at]
    await harness.stop()
    harness.start()
    await harness.settle()
    await harness.advance(5)
    assert len(await harness.runs(job)) == 1


async def test_overlap_skip_records_skipped_slot(harness: Harness) -> None:
    job = await harness.add_job(schedule={"cron": "* * * * * *"}, concurrency={"overlap": "skip"})
    harness.start()
    await harness.settle()
    await harness.advance(3)
    runs = await harness.runs(job)
    # The first slot's run is still pending (no dispatcher here), so later slots are skipped.
    assert [r.status for r in runs] == [RunStatus.PENDING, RunStatus.SKIPPED, RunStatus.SKIPPED]
    assert "overlap=skip" in (runs[1].error or "")


async def test_paused_job_does_not_fire_and_resume_does_not_catch_up(harness: Harness) -> None:
    job = await harness.add_job(schedule={"cron": "* * * * * *"})
    harness.start()
    await harness.settle()
    await harness.rt.store.set_job_fields(
        "default", job.id, paused=True, updated_at=harness.clock.now()
    )
    harness.rt.job_changed(job.id)
    await harness.settle()
    await harness.advance(5)
    assert await harness.runs(job) == []
    await harness.rt.store.set_job_fields(
        "default", job.id, paused=False, updated_at=harness.clock.now()
    )
    harness.rt.job_changed(job.id)
    await harness.settle()
    await harness.advance(2)
    assert len(await harness.runs(job)) == 2


async def test_job_change_wakes_the_ticker_without_polling(harness: Harness) -> None:
    harness.start()
    await harness.settle()
    job = await harness.add_job(schedule={"cron": "* * * * * *"})
    await harness.settle()
    await harness.advance(1)
    await eventually(lambda: harness.runs(job))
    stored = await harness.rt.store.get_job("default", job.id)
    assert stored.next_fire_at == UTC_START + timedelta(seconds=2)


@pytest.mark.parametrize(
    ("expr", "day", "expected"),
    [
        ("30 2 * * *", "2026-03-08", ["2026-03-08T07:00:00+00:00"]),
        ("30 1 * * *", "2026-11-01", ["2026-11-01T05:30:00+00:00"]),
        ("30 2 * * *", "2026-11-01", ["2026-11-01T07:30:00+00:00"]),
        ("0 * * * *", "2026-11-01", ["2026-11-01T05:00:00+00:00", "2026-11-01T07:00:00+00:00"]),
        (
            "0 * * * *",
            "2026-03-08",
            ["2026-03-08T05:00:00+00:00", "2026-03-08T06:00:00+00:00", "2026-03-08T07:00:00+00:00"],
        ),
    ],
)
async def test_dst_through_the_ticker(
    harness: Harness, expr: str, day: str, expected: list[str]
) -> None:
    """S5 end to end: America/New_York transitions, no double run, no lost run."""
    start = datetime.fromisoformat(day + "T04:30:00+00:00")  # just before the transition
    harness.clock.set_wall(start)
    job = await harness.add_job(
        schedule={"cron": expr, "timezone": "America/New_York"}, created_at=start
    )
    harness.start()
    await harness.settle()
    await harness.run_for(3 * 3600 + 60)  # until 07:31 UTC
    runs = await harness.runs(job)
    assert [r.scheduled_for.isoformat() for r in runs if r.scheduled_for] == expected
    assert all(r.status in FIRED for r in runs)


async def test_an_at_already_past_fires_once_and_clears_its_next_fire(harness: Harness) -> None:
    at = UTC_START - timedelta(days=1)
    job = await harness.add_job(schedule={"at": at.isoformat()})
    harness.start()
    await harness.settle()
    await harness.advance(1)
    assert [r.scheduled_for for r in await harness.runs(job)] == [at]
    stored = await harness.rt.store.get_job("default", job.id)
    assert stored.next_fire_at is None  # it stayed at the past time until a restart


async def test_a_domain_over_its_run_cap_skips_slots_and_says_so_once_a_minute(
    harness: Harness,
) -> None:
    harness.rt.budget = RunBudget(6)  # six at once, then one every 10 s
    job = await harness.add_job(schedule={"interval_seconds": 1})
    harness.start()
    await harness.settle()
    await harness.advance(30)
    runs = await harness.runs(job)
    fired = [r for r in runs if r.status in FIRED]
    skipped = [r for r in runs if r.status == RunStatus.SKIPPED]
    assert 6 <= len(fired) <= 9, len(fired)  # the burst, then the cap's rate
    assert len(skipped) == 1 and "HYDRA_MAX_RUNS_PER_MINUTE" in (skipped[0].error or "")
    assert harness.ticker.over_cap == 30 - len(fired)
    await harness.advance(60)
    runs = await harness.runs(job)
    assert len([r for r in runs if r.status == RunStatus.SKIPPED]) == 2  # one more a minute
    assert len([r for r in runs if r.status in FIRED]) <= 6 + 9  # 90 s at 6 a minute


async def test_a_job_saved_with_a_sub_second_interval_loads_and_fires_each_second(
    harness: Harness,
) -> None:
    body = {"name": "old", "executor": {"type": "shell", "script": "true"}}
    now = harness.clock.now()
    fields = {"id": new_id(), "domain": "default", "created_at": now, "updated_at": now}
    old = {**body, **fields, "schedule": {"interval_seconds": 0.01}}
    job = Job.model_validate(old, context=STORED)
    await harness.rt.store.create_job(job)  # as a version without the minimum saved it
    assert (await harness.rt.store.get_job("default", job.id)).id == job.id
    harness.start()
    await harness.settle()
    await harness.advance(5, step=0.01)
    assert 4 <= len(await harness.runs(job)) <= 6  # not 500
