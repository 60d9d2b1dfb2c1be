"""The one constructor of a run (`scheduler.runs.new_run`): of a job, of a skipped slot, and the
next attempt of a run."""

from __future__ import annotations

from datetime import timedelta

from hydra_jobs.models import Trigger
from hydra_jobs.scheduler.services.runs import new_run
from hydra_jobs.status import BORN, RunStatus
from tests.contract.factories import at, make_job, make_run


def test_a_run_of_a_job_is_born_pending_with_the_jobs_snapshot() -> None:
    job = make_job(queue="q")
    run = new_run(job, trigger=Trigger.API, now=at(1), params={"a": "b"})
    assert (run.job_id, run.job_name, run.domain, run.queue) == (job.id, job.name, "default", "q")
    assert (run.status, run.trigger, run.attempt, run.retry_of) == (
        RunStatus.PENDING,
        Trigger.API,
        1,
        None,
    )
    assert (run.created_at, run.params, run.spec) == (
        at(1),
        {"a": "b"},
        job.spec().model_dump(mode="json"),
    )
    shared = {"snapshot": True}
    assert new_run(job, trigger=Trigger.API, now=at(1), spec=shared).spec == shared


def test_a_slot_that_did_not_run_is_born_skipped_and_ended() -> None:
    job = make_job()
    run = new_run(job, trigger=Trigger.SCHEDULE, now=at(5), slot=at(2), skipped="why")
    assert (run.status, run.scheduled_for, run.finished_at, run.error) == (
        RunStatus.SKIPPED,
        at(2),
        at(5),
        "why",
    )
    fired = new_run(job, trigger=Trigger.SCHEDULE, now=at(5), slot=at(2))
    assert (fired.status, fired.scheduled_for, fired.finished_at) == (
        RunStatus.PENDING,
        at(2),
        None,
    )
    assert {run.status, fired.status} <= BORN


def test_the_next_attempt_follows_its_run_in_the_chain() -> None:
    job = make_job()
    failed = make_run(
        job,
        RunStatus.LOST,
        slot=at(0),
        attempt=2,
        params={"p": "v"},
        lost_count=2,
        worker_id="w1",
        error="lost",
    )
    nxt = new_run(failed, trigger=Trigger.RETRY, now=at(10), delay_seconds=3)
    assert nxt.id != failed.id
    assert (nxt.status, nxt.trigger, nxt.attempt, nxt.retry_of) == (
        RunStatus.PENDING,
        Trigger.RETRY,
        3,
        failed.id,
    )
    assert (nxt.scheduled_for, nxt.params, nxt.spec, nxt.lost_count) == (
        at(0),
        {"p": "v"},
        failed.spec,
        2,
    )
    assert (nxt.created_at, nxt.not_before) == (at(10), at(10) + timedelta(seconds=3))
    assert (nxt.worker_id, nxt.error, nxt.finished_at) == (None, None, None)
    now = new_run(failed, trigger=Trigger.MANUAL, now=at(10))
    assert now.not_before is None and now.attempt == 3
