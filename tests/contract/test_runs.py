"""Runs: reads scoped by domain, filtered listing, stable cursors, idempotent schedule slots."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hydra_jobs.errors import NotFound
from hydra_jobs.models import Job, Trigger
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import RunFilter, Store
from tests.contract.factories import at, make_job, make_run

S = RunStatus


async def _job(store: Store, domain: str = "default", **spec: Any) -> Job:
    job = make_job(domain, **spec)
    await store.create_job(job)
    return job


async def test_a_run_reads_back_exactly(store: Store) -> None:
    job = await _job(store)
    run = make_run(
        job,
        S.RUNNING,
        params={"day": "today", "unicode": "zürich ✓"},
        queued_at=at(1),
        started_at=at(2),
        not_before=at(0.5),
        worker_id="w1",
        attempt=2,
        retry_of="0" * 32,
        resource_usage={"cpu_seconds": 1.5, "max_rss_bytes": 1024.0},
        source_commit="a" * 40,
        lost_count=1,
    )
    assert await store.insert_runs([run]) == [run]
    assert await store.get_run("default", run.id) == run
    assert await store.find_run(run.id) == run
    assert await store.find_run("f" * 32) is None


async def test_another_domains_run_does_not_exist(store: Store) -> None:
    job = await _job(store, "team-a")
    run = make_run(job)
    await store.insert_runs([run])
    with pytest.raises(NotFound):
        await store.get_run("team-b", run.id)
    with pytest.raises(NotFound):
        await store.read_log("team-b", run.id, 0, 100)
    assert (await store.list_runs("team-b", RunFilter(), limit=10, cursor=None)).items == []
    assert (await store.get_run("team-a", run.id)).id == run.id


async def test_list_runs_filters(store: Store) -> None:
    a, b = await _job(store), await _job(store)
    runs = [
        make_run(a, S.SUCCEEDED, created_at=at(1), worker_id="w1"),
        make_run(a, S.FAILED, created_at=at(2), worker_id="w2"),
        make_run(b, S.FAILED, created_at=at(3), worker_id="w1"),
        make_run(b, S.PENDING, created_at=at(4)),
    ]
    await store.insert_runs(runs)
    other = await _job(store, "elsewhere")
    await store.insert_runs([make_run(other, S.FAILED, created_at=at(2))])

    async def ids(flt: RunFilter) -> list[str]:
        page = await store.list_runs("default", flt, limit=10, cursor=None)
        return [r.id for r in page.items]

    newest_first = [r.id for r in reversed(runs)]
    assert await ids(RunFilter()) == newest_first
    assert await ids(RunFilter(job_id=a.id)) == [runs[1].id, runs[0].id]
    assert await ids(RunFilter(status=[S.FAILED])) == [runs[2].id, runs[1].id]
    assert await ids(RunFilter(status=[S.FAILED, S.PENDING])) == newest_first[:3]
    assert await ids(RunFilter(worker_id="w1")) == [runs[2].id, runs[0].id]
    assert await ids(RunFilter(since=at(2), until=at(4))) == [runs[2].id, runs[1].id]
    assert await ids(RunFilter(job_id=b.id, status=[S.PENDING])) == [runs[3].id]


async def test_cursor_pages_cover_every_run_once(store: Store) -> None:
    job = await _job(store)
    runs = [make_run(job, created_at=at(i)) for i in range(7)]
    await store.insert_runs(runs)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_runs("default", RunFilter(), limit=3, cursor=cursor)
        seen += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [r.id for r in reversed(runs)]


async def test_pagination_is_stable_under_concurrent_inserts(store: Store, twin: Store) -> None:
    """No duplicate and no skipped pre-existing run while another writer keeps inserting."""
    job = await _job(store)
    existing = [make_run(job) for _ in range(120)]
    await store.insert_runs(existing)
    stop = asyncio.Event()

    async def writer() -> int:
        count = 0
        while not stop.is_set():
            await twin.insert_runs([make_run(job) for _ in range(3)])
            count += 3
            await asyncio.sleep(0)
        return count

    task = asyncio.create_task(writer())
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_runs("default", RunFilter(job_id=job.id), limit=7, cursor=cursor)
        seen += [r.id for r in page.items]
        await asyncio.sleep(0.001)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    stop.set()
    written = await task

    assert written > 0
    assert len(seen) == len(set(seen)), "a run was listed twice"
    assert {r.id for r in existing} <= set(seen), "a pre-existing run was skipped"
    assert seen == sorted(seen, reverse=True)


async def test_a_schedule_slot_is_stored_once(store: Store) -> None:
    job = await _job(store)
    first = make_run(job, slot=at(60))
    again = make_run(job, slot=at(60))
    fresh = make_run(job, slot=at(120))
    assert await store.insert_runs([first]) == [first]
    assert await store.insert_runs([again, fresh]) == [fresh]
    manual = [make_run(job, scheduled_for=at(60), trigger=Trigger.MANUAL) for _ in range(2)]
    assert await store.insert_runs(manual) == manual  # only schedule slots are unique
    page = await store.list_runs("default", RunFilter(), limit=10, cursor=None)
    assert {r.id for r in page.items} == {first.id, fresh.id, *(m.id for m in manual)}


async def test_concurrent_inserts_of_one_slot_store_exactly_one(store: Store, twin: Store) -> None:
    """Two schedulers (and many tasks in each) firing the same slot: one run, ever."""
    job = await _job(store)
    candidates = [make_run(job, slot=at(300)) for _ in range(40)]
    results = await asyncio.gather(
        *(
            (store if i % 2 else twin).insert_runs([run, make_run(job, slot=at(400 + i))])
            for i, run in enumerate(candidates)
        )
    )
    won = [r for inserted in results for r in inserted if r.scheduled_for == at(300)]
    assert len(won) == 1
    stored = await store.list_runs("default", RunFilter(), limit=100, cursor=None)
    slot_runs = [r for r in stored.items if r.scheduled_for == at(300)]
    assert [r.id for r in slot_runs] == [won[0].id]
    assert len(stored.items) == 1 + len(candidates)  # every other slot went in


async def test_runs_with_status(store: Store) -> None:
    a, b = await _job(store), await _job(store, "elsewhere")
    r1 = make_run(a, S.RUNNING)
    r2 = make_run(b, S.RUNNING)
    r3 = make_run(a, S.QUEUED)
    await store.insert_runs([r1, r2, r3, make_run(a, S.SUCCEEDED)])
    assert [r.id for r in await store.runs_with_status([S.RUNNING])] == [r1.id, r2.id]
    both = await store.runs_with_status([S.RUNNING, S.QUEUED], job_id=a.id)
    assert [r.id for r in both] == [r1.id, r3.id]
    assert len(await store.runs_with_status([S.RUNNING, S.QUEUED], limit=2)) == 2


async def test_due_pending_and_next_pending_time(store: Store) -> None:
    a, b = await _job(store), await _job(store)
    now = at(100)
    due_now = make_run(a)
    due_past = make_run(b, not_before=at(50))
    later = make_run(a, not_before=at(130))
    latest = make_run(a, not_before=at(200))
    queued = make_run(a, S.QUEUED, not_before=at(110))
    await store.insert_runs([due_now, due_past, later, latest, queued])

    assert [r.id for r in await store.due_pending(now, 10)] == [due_now.id, due_past.id]
    assert [r.id for r in await store.due_pending(now, 1)] == [due_now.id]
    excluded = await store.due_pending(now, 10, exclude_jobs=[a.id])
    assert [r.id for r in excluded] == [due_past.id]
    assert await store.next_pending_time(now) == at(130)
    assert await store.next_pending_time(at(130)) == at(200)
    assert await store.next_pending_time(at(200)) is None


async def test_active_counts(store: Store) -> None:
    a, b, c = await _job(store), await _job(store), await _job(store)
    await store.insert_runs(
        [
            make_run(a, S.QUEUED),
            make_run(a, S.RUNNING),
            make_run(a, S.PENDING),
            make_run(b, S.RUNNING),
            make_run(b, S.SUCCEEDED),
            make_run(c, S.RUNNING),
        ]
    )
    assert await store.active_counts([a.id, b.id]) == {a.id: 2, b.id: 1}
    assert await store.active_counts([]) == {}


async def test_last_scheduled_slot(store: Store) -> None:
    job, other = await _job(store), await _job(store)
    assert await store.last_scheduled_slot(job.id) is None
    await store.insert_runs(
        [
            make_run(job, slot=at(60)),
            make_run(job, slot=at(180)),
            make_run(job, slot=at(120)),
            make_run(job, scheduled_for=at(900), trigger=Trigger.RETRY),
            make_run(other, slot=at(999)),
        ]
    )
    last = await store.last_scheduled_slot(job.id)
    assert last == at(180) and last.tzinfo is not None


async def test_inserting_nothing_is_a_no_op(store: Store) -> None:
    assert await store.insert_runs([]) == []
