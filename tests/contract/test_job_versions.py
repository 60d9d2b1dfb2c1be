"""Job history: every create and replace keeps a version (who, when, how, the spec), numbered
one after the other even when replaces race; a job's history goes with it; scoped by domain."""

from __future__ import annotations

import asyncio

import pytest

from hydra_jobs.errors import NotFound
from hydra_jobs.models import JobChange
from hydra_jobs.store.base import ChangeBy, Store
from tests.contract.factories import T0, at, make_job, make_run


async def test_create_and_replace_keep_numbered_versions_with_who_and_how(store: Store) -> None:
    job = make_job(name="report", env={"A": "1"})
    await store.create_job(job, ChangeBy("token:ci"))
    v2 = await store.replace_job(
        job.model_copy(update={"env": {"A": "2"}, "updated_at": at(5)}), ChangeBy("admin")
    )
    v3 = await store.replace_job(
        job.model_copy(update={"env": {"A": "1"}, "updated_at": at(9)}),
        ChangeBy("token:ops", JobChange.RESTORE, restored_from=1),
    )
    assert (v2, v3) == (2, 3)
    assert (await store.get_job("default", job.id)).version == 3

    page = await store.list_job_versions("default", job.id, limit=10, cursor=None)
    assert [(v.version, v.change, v.actor, v.at, v.restored_from) for v in page.items] == [
        (3, JobChange.RESTORE, "token:ops", at(9), 1),
        (2, JobChange.UPDATE, "admin", at(5), None),
        (1, JobChange.CREATE, "token:ci", T0, None),
    ]
    first = await store.get_job_version("default", job.id, 1)
    second = await store.get_job_version("default", job.id, 2)
    assert (first.spec.env, second.spec.env) == ({"A": "1"}, {"A": "2"})
    assert first.spec.name == "report"


async def test_versions_page_newest_first(store: Store) -> None:
    job = make_job()
    await store.create_job(job)
    for n in range(4):
        await store.replace_job(job.model_copy(update={"env": {"N": str(n)}}))
    first = await store.list_job_versions("default", job.id, limit=2, cursor=None)
    assert [v.version for v in first.items] == [5, 4] and first.next_cursor == "4"
    rest = await store.list_job_versions("default", job.id, limit=5, cursor=4)
    assert [v.version for v in rest.items] == [3, 2, 1] and rest.next_cursor is None
    assert all(v.actor == "system" for v in rest.items)


async def test_racing_replaces_each_get_a_version(store: Store, twin: Store) -> None:
    job = make_job()
    await store.create_job(job)
    versions = await asyncio.gather(
        *(
            (store if n % 2 else twin).replace_job(job.model_copy(update={"env": {"N": str(n)}}))
            for n in range(8)
        )
    )
    assert sorted(versions) == list(range(2, 10))
    kept = await store.list_job_versions("default", job.id, limit=50, cursor=None)
    assert [v.version for v in kept.items] == list(range(9, 0, -1))
    for n, version in enumerate(versions):
        got = await store.get_job_version("default", job.id, version)
        assert got.spec.env == {"N": str(n)}


async def test_history_is_scoped_and_goes_with_its_job(store: Store) -> None:
    job = make_job("team-a")
    await store.create_job(job)
    await store.replace_job(job.model_copy(update={"env": {"B": "1"}}))
    with pytest.raises(NotFound):
        await store.list_job_versions("team-b", job.id, limit=10, cursor=None)
    with pytest.raises(NotFound):
        await store.get_job_version("team-b", job.id, 1)
    with pytest.raises(NotFound):
        await store.get_job_version("team-a", job.id, 3)

    await store.delete_job("team-a", job.id)
    with pytest.raises(NotFound):
        await store.list_job_versions("team-a", job.id, limit=10, cursor=None)
    with pytest.raises(NotFound):
        await store.get_job_version("team-a", job.id, 1)


async def test_a_run_keeps_the_version_it_was_made_from(store: Store) -> None:
    job = make_job()
    await store.create_job(job)
    [run] = await store.insert_runs([make_run(job, job_version=1)])
    assert (await store.get_run("default", run.id)).job_version == 1
    [old] = await store.insert_runs([make_run(job)])
    assert (await store.get_run("default", old.id)).job_version is None
