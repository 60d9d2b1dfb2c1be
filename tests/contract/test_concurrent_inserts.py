"""Runs inserted by concurrent callers (concurrent triggers, the ticker, retries): every caller
gets exactly its own runs back, a slot taken by one is skipped only for the other, and one
caller's failure is not another's."""

from __future__ import annotations

import asyncio

import pytest

from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import Store
from tests.contract.factories import at, make_job, make_run


async def test_concurrent_inserts_each_get_their_own_runs(store: Store) -> None:
    job = make_job()
    await store.create_job(job)
    batches = [[make_run(job, RunStatus.QUEUED) for _ in range(1 + i % 3)] for i in range(20)]

    results = await asyncio.gather(*(store.insert_runs(batch) for batch in batches))

    for batch, stored in zip(batches, results, strict=True):
        assert [r.id for r in stored] == [r.id for r in batch]
    for batch in batches:
        for run in batch:
            assert (await store.get_run(job.domain, run.id)).status is RunStatus.QUEUED


async def test_a_taken_slot_is_skipped_only_for_its_caller(store: Store) -> None:
    job = make_job()
    await store.create_job(job)
    slot = at(60)
    first, second = make_run(job, slot=slot), make_run(job, slot=slot)
    manual = make_run(job)

    a, b, c = await asyncio.gather(
        store.insert_runs([first]), store.insert_runs([second]), store.insert_runs([manual])
    )

    assert len(a) + len(b) == 1, "one run per slot, whoever comes first"
    assert [r.id for r in c] == [manual.id]


async def test_a_failing_insert_does_not_fail_the_others(store: Store) -> None:
    job = make_job()
    await store.create_job(job)
    existing = make_run(job)
    await store.insert_runs([existing])
    fresh = [make_run(job) for _ in range(3)]

    results = await asyncio.gather(
        store.insert_runs([existing]),  # the same id again: refused
        *(store.insert_runs([run]) for run in fresh),
        return_exceptions=True,
    )

    assert isinstance(results[0], Exception)
    assert [r[0].id for r in results[1:] if isinstance(r, list)] == [r.id for r in fresh]
    for run in fresh:
        assert (await store.get_run(job.domain, run.id)).id == run.id


@pytest.mark.parametrize("callers", [1, 8])
async def test_inserted_runs_are_all_readable_at_once(store: Store, callers: int) -> None:
    job = make_job()
    await store.create_job(job)
    runs = [make_run(job, RunStatus.QUEUED) for _ in range(callers)]

    await asyncio.gather(*(store.insert_runs([run]) for run in runs))

    queued = await store.runs_with_status([RunStatus.QUEUED], job_id=job.id)
    assert sorted(r.id for r in queued) == sorted(r.id for r in runs)
