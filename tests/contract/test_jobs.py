"""Jobs and domains: CRUD, scoping by domain (another domain's job does not exist), unique names."""

from __future__ import annotations

import pytest

from hydra_jobs.errors import Conflict, NotFound
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import Store
from tests.contract.factories import T0, at, make_job, make_run


async def test_create_read_replace_delete(store: Store) -> None:
    job = make_job(name="report", schedule={"cron": "0 2 * * *"}, env={"A": "1"}, tags=["x"])
    await store.create_job(job)

    got = await store.get_job("default", job.id)
    assert got.model_dump(exclude={"last_run_id", "last_run_status", "last_run_at"}) == (
        job.model_dump(exclude={"last_run_id", "last_run_status", "last_run_at"})
    )
    assert got.created_at == T0 and got.created_at.tzinfo is not None

    changed = job.model_copy(update={"name": "report-2", "env": {"B": "2"}, "updated_at": at(5)})
    await store.replace_job(changed)
    got = await store.get_job("default", job.id)
    assert (got.name, got.env, got.updated_at, got.created_at) == (
        "report-2",
        {"B": "2"},
        at(5),
        T0,
    )

    await store.delete_job("default", job.id)
    with pytest.raises(NotFound):
        await store.get_job("default", job.id)
    with pytest.raises(NotFound):
        await store.delete_job("default", job.id)


async def test_another_domains_job_does_not_exist(store: Store) -> None:
    job = make_job("team-a", name="mine")
    await store.create_job(job)

    with pytest.raises(NotFound):
        await store.get_job("team-b", job.id)
    with pytest.raises(NotFound):
        await store.replace_job(job.model_copy(update={"domain": "team-b"}))
    with pytest.raises(NotFound):
        await store.set_job_fields("team-b", job.id, paused=True)
    with pytest.raises(NotFound):
        await store.delete_job("team-b", job.id)
    assert (await store.list_jobs("team-b", limit=10, cursor=None)).items == []
    assert (await store.get_job("team-a", job.id)).paused is False


async def test_job_names_are_unique_per_domain(store: Store) -> None:
    await store.create_job(make_job("a", name="same"))
    await store.create_job(make_job("b", name="same"))  # another domain: fine
    with pytest.raises(Conflict):
        await store.create_job(make_job("a", name="same"))
    other = make_job("a", name="other")
    await store.create_job(other)
    with pytest.raises(Conflict):
        await store.replace_job(other.model_copy(update={"name": "same"}))
    assert (await store.get_job("a", other.id)).name == "other"


async def test_list_jobs_pages_newest_first_and_searches(store: Store) -> None:
    jobs = [make_job(name=f"job-{i}") for i in range(5)]
    for job in jobs:
        await store.create_job(job)
    await store.create_job(make_job("elsewhere", name="job-9"))

    first = await store.list_jobs("default", limit=3, cursor=None)
    assert [j.id for j in first.items] == [j.id for j in reversed(jobs)][:3]
    assert first.next_cursor is not None
    rest = await store.list_jobs("default", limit=3, cursor=first.next_cursor)
    assert [j.id for j in rest.items] == [jobs[1].id, jobs[0].id] and rest.next_cursor is None

    found = await store.list_jobs("default", limit=10, cursor=None, search="B-3")
    assert [j.name for j in found.items] == ["job-3"]  # a substring, in any case
    literal = await store.list_jobs("default", limit=10, cursor=None, search="%")
    assert literal.items == []  # the search is a plain substring, not a pattern


async def test_set_job_fields_and_schedulable_jobs(store: Store) -> None:
    cron = make_job(name="cron", schedule={"cron": "*/5 * * * *"})
    manual = make_job("other", name="manual")
    await store.create_job(cron)
    await store.create_job(manual)

    updated = await store.set_job_fields("default", cron.id, paused=True, next_fire_at=at(60))
    assert updated.paused is True and updated.next_fire_at == at(60)
    cleared = await store.set_job_fields("default", cron.id, next_fire_at=None)
    assert cleared.next_fire_at is None

    assert [j.id for j in await store.schedulable_jobs()] == [cron.id]


async def test_jobs_carry_their_newest_run(store: Store) -> None:
    job = make_job(name="with-runs")
    idle = make_job(name="idle")
    await store.create_job(job)
    await store.create_job(idle)
    older = make_run(job, RunStatus.SUCCEEDED, created_at=at(1))
    newer = make_run(job, RunStatus.FAILED, created_at=at(2))
    await store.insert_runs([older, newer])

    got = await store.get_job("default", job.id)
    assert (got.last_run_id, got.last_run_status, got.last_run_at) == (
        newer.id,
        RunStatus.FAILED,
        at(2),
    )
    assert (await store.get_job("default", job.id, with_last_run=False)).last_run_id is None
    listed = {j.id: j for j in (await store.list_jobs("default", limit=10, cursor=None)).items}
    assert listed[job.id].last_run_id == newer.id and listed[idle.id].last_run_id is None


async def test_ensure_domain_is_idempotent_and_ping_works(store: Store) -> None:
    await store.ensure_domain("default")
    await store.ensure_domain("default")
    await store.ping()
