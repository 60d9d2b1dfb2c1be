"""Failure analyses stored with their run (replaced, scoped, deleted with it); the AI switch."""

from __future__ import annotations

import pytest

from hydra_jobs.errors import NotFound
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import Store, StoredAnalysis
from tests.contract.factories import T0, at, make_job, make_run


def _analysis(
    run_id: str, job_id: str, provider: str = "heuristic", **body: object
) -> StoredAnalysis:
    return StoredAnalysis(
        run_id=run_id,
        domain="default",
        job_id=job_id,
        fingerprint="0123456789abcdef",
        provider=provider,
        created_at=at(10),
        body={"summary": "s", "evidence": [{"line": 3, "text": "x"}], **body},
    )


async def test_an_analysis_is_stored_replaced_and_scoped(store: Store) -> None:
    job = make_job()
    await store.create_job(job)
    [run] = await store.insert_runs([make_run(job, status=RunStatus.FAILED)])
    assert await store.get_analysis("default", run.id) is None

    first = _analysis(run.id, job.id, nested={"a": [1, 2]})
    await store.save_analysis(first)
    assert await store.get_analysis("default", run.id) == first
    assert await store.get_analysis("other", run.id) is None

    second = _analysis(run.id, job.id, provider="openai", summary="again")
    await store.save_analysis(second)
    assert await store.get_analysis("default", run.id) == second


async def test_analyses_go_with_their_runs(store: Store) -> None:
    job = make_job()
    await store.create_job(job)
    [old] = await store.insert_runs([make_run(job, status=RunStatus.FAILED, created_at=T0)])
    await store.save_analysis(_analysis(old.id, job.id))
    assert await store.delete_runs_before(at(1), job_id=None, batch=10) == 1
    assert await store.get_analysis("default", old.id) is None

    await store.create_domain("gone", None, T0)
    other = make_job(domain="gone")
    await store.create_job(other)
    [run] = await store.insert_runs([make_run(other, status=RunStatus.FAILED)])
    await store.save_analysis(
        StoredAnalysis(run.id, "gone", other.id, "f", "heuristic", T0, {"summary": "s"})
    )
    await store.delete_domain("gone")
    assert await store.get_analysis("gone", run.id) is None


async def test_the_domain_ai_switch(store: Store) -> None:
    await store.create_domain("ops", "desc", T0)
    assert (await store.get_domain("ops")).ai_enabled is True
    await store.set_domain_ai("ops", False)
    domain = await store.get_domain("ops")
    assert domain.ai_enabled is False and domain.description == "desc"
    assert (await store.update_domain("ops", "other")).ai_enabled is False
    await store.set_domain_ai("ops", True)
    assert [d.ai_enabled for d in await store.list_domains() if d.name == "ops"] == [True]
    with pytest.raises(NotFound):
        await store.set_domain_ai("nope", False)
