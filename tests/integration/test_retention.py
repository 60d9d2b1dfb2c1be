"""The retention loop on a real SQLite store, with an injected clock (time moves, nobody sleeps)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.broker.memory import MemoryBroker
from hydra_jobs.clock import ManualClock
from hydra_jobs.config import Settings
from hydra_jobs.models import Job, Run, WorkerStatus
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.loops.engine import Engine
from hydra_jobs.scheduler.loops.retention import Retention
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import AppendLog, RunFilter, UpsertWorker
from hydra_jobs.store.sql.store import SqlStore
from tests.contract.factories import make_job, make_run, make_worker

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
S = RunStatus


class CountingStore(SqlStore):
    """Records, at each delete batch, how often the rest of the loop got to run before it."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.ticks = 0
        self.ticks_at_delete: list[int] = []

    async def delete_runs_before(
        self,
        cutoff: datetime,
        *,
        job_id: str | None,
        batch: int,
        exclude_jobs: Collection[str] = (),
    ) -> int:
        self.ticks_at_delete.append(self.ticks)
        return await super().delete_runs_before(
            cutoff, job_id=job_id, batch=batch, exclude_jobs=exclude_jobs
        )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Runtime]]]:
    stores: list[SqlStore] = []

    async def make(retention_days: int | None = 30) -> Runtime:
        store = CountingStore(f"sqlite+aiosqlite:///{tmp_path / f'h{len(stores)}.db'}")
        await store.open()
        stores.append(store)
        settings = Settings(
            ADMIN_TOKEN="x" * 32, HYDRA_DATA_DIR=tmp_path, HYDRA_RUN_RETENTION_DAYS=retention_days
        )
        return Runtime(
            store=store, broker=MemoryBroker(), clock=ManualClock(NOW), settings=settings
        )

    yield make
    for store in stores:
        await store.close()


async def _job(rt: Runtime, **spec: Any) -> Job:
    job = make_job(**spec)
    await rt.store.create_job(job)
    return job


async def _runs(
    rt: Runtime, job: Job, age: timedelta, count: int = 1, status: RunStatus = S.SUCCEEDED
) -> list[Run]:
    runs = [make_run(job, status, created_at=NOW - age) for _ in range(count)]
    await rt.store.insert_runs(runs)
    return runs


async def _ids(rt: Runtime) -> set[str]:
    page = await rt.store.list_runs("default", RunFilter(), limit=10_000, cursor=None)
    return {r.id for r in page.items}


async def test_default_retention_deletes_only_old_terminal_runs(
    runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    rt = await runtime(retention_days=30)
    job = await _job(rt)
    old = await _runs(rt, job, 31 * DAY, 3)
    old_failed = await _runs(rt, job, 40 * DAY, status=S.FAILED)
    old_running = await _runs(rt, job, 31 * DAY, status=S.RUNNING)
    recent = await _runs(rt, job, 29 * DAY, 2)
    await rt.store.apply([AppendLog(r.id, 0, "output\n") for r in old + recent])

    assert await Retention(rt).sweep() == 4

    assert await _ids(rt) == {r.id for r in old_running + recent}
    assert (await rt.store.read_log("default", recent[0].id, 0, 100)).data == "output\n"
    assert old_failed[0].id not in await _ids(rt)


async def test_a_job_override_wins_in_both_directions(
    runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    rt = await runtime(retention_days=30)
    keeps_longer = await _job(rt, retention_days=90)
    keeps_shorter = await _job(rt, retention_days=7)
    plain = await _job(rt)
    kept = await _runs(rt, keeps_longer, 60 * DAY)
    gone_long = await _runs(rt, keeps_longer, 91 * DAY)
    gone_short = await _runs(rt, keeps_shorter, 8 * DAY)
    kept_short = await _runs(rt, keeps_shorter, 6 * DAY)
    gone_plain = await _runs(rt, plain, 31 * DAY)
    kept_plain = await _runs(rt, plain, 8 * DAY)

    assert await Retention(rt).sweep() == 3

    assert await _ids(rt) == {r.id for r in kept + kept_short + kept_plain}
    assert not {r.id for r in gone_long + gone_short + gone_plain} & await _ids(rt)


async def test_without_a_default_only_overrides_delete(
    runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    rt = await runtime(retention_days=None)
    short = await _job(rt, retention_days=1)
    plain = await _job(rt)
    await _runs(rt, short, 2 * DAY)
    forever = await _runs(rt, plain, 3650 * DAY)
    assert await Retention(rt).sweep() == 1
    assert await _ids(rt) == {forever[0].id}


async def test_batches_yield_to_the_rest_of_the_scheduler(
    runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    rt = await runtime(retention_days=1)
    store = rt.store
    assert isinstance(store, CountingStore)
    await _runs(rt, await _job(rt), 2 * DAY, 25)

    async def other_work() -> None:
        while True:
            store.ticks += 1
            await asyncio.sleep(0)

    busy = asyncio.create_task(other_work())
    try:
        assert await Retention(rt, batch=10, pause_seconds=0.0).sweep() == 25
    finally:
        busy.cancel()
    ticks = store.ticks_at_delete
    assert len(ticks) == 3  # 10 + 10 + 5
    assert all(b > a for a, b in itertools.pairwise(ticks)), ticks


async def test_the_loop_sweeps_again_after_its_interval(
    runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    rt = await runtime(retention_days=1)
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    job = await _job(rt)
    await _runs(rt, job, 2 * DAY)
    retention = Retention(rt, interval_seconds=600)
    task = asyncio.create_task(retention.run_forever())
    try:
        await _eventually(lambda: retention.sweeps == 1)
        assert retention.deleted == 1
        fresh = make_run(job, S.SUCCEEDED, created_at=NOW)
        await rt.store.insert_runs([fresh])
        clock.advance(DAY.total_seconds() - 1)  # past the interval; the run is not a day old
        await _eventually(lambda: retention.sweeps == 2)
        assert retention.deleted == 1 and await _ids(rt) == {fresh.id}
        clock.advance(600)  # the next sweep; the run is now over a day old
        await _eventually(lambda: retention.sweeps == 3)
        assert retention.deleted == 2 and await _ids(rt) == set()
    finally:
        task.cancel()


async def test_the_engine_runs_retention_on_the_leader(
    runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    rt = await runtime()
    engine = Engine(rt)
    engine._start_leading()
    try:
        names = {t.get_name() for t in engine._leader_tasks}
        assert "retention" in names
    finally:
        await engine._stop_leading()


async def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


async def test_a_sweep_forgets_workers_offline_past_their_retention(
    runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    """Every restart of a worker is a new worker id: offline ones piled up in the fleet view."""
    rt = await runtime()
    hours = rt.settings.worker_retention_hours
    old, recent = NOW - timedelta(hours=hours + 1), NOW - timedelta(hours=hours - 1)
    gone = make_worker("w-gone", status=WorkerStatus.OFFLINE, last_heartbeat_at=old)
    kept = make_worker("w-kept", status=WorkerStatus.OFFLINE, last_heartbeat_at=recent)
    await rt.store.apply([UpsertWorker(gone), UpsertWorker(kept)])
    retention = Retention(rt)
    await retention.sweep()
    assert [w.id for w in await rt.store.list_workers(None)] == ["w-kept"]
    assert retention.workers_forgotten == 1
