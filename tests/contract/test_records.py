"""Workers, audit records, dashboard stats and retention deletes."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from hydra_jobs.errors import NotFound
from hydra_jobs.ids import new_id
from hydra_jobs.models import WorkerStatus
from hydra_jobs.status import TERMINAL, RunStatus
from hydra_jobs.store.base import AppendLog, AuditRecord, RunFilter, Store, UpsertWorker
from hydra_jobs.store.stats import build_stats, group_runs
from tests.contract.factories import T0, at, make_job, make_run, make_worker

S = RunStatus


async def test_workers_upsert_and_scope(store: Store) -> None:
    await store.apply([UpsertWorker(make_worker("w2", "b")), UpsertWorker(make_worker("w1"))])
    beat = make_worker("w1", status=WorkerStatus.DRAINING, last_heartbeat_at=at(5), running=["r"])
    await store.apply([UpsertWorker(beat)])

    assert await store.get_worker("default", "w1") == beat
    with pytest.raises(NotFound):
        await store.get_worker("default", "w2")
    assert [w.id for w in await store.list_workers("default")] == ["w1"]
    assert [w.id for w in await store.list_workers(None)] == ["w1", "w2"]
    assert await store.list_workers("nobody") == []


async def test_offline_workers_are_forgotten_after_their_retention(store: Store) -> None:
    beats = [
        make_worker("old-off", status=WorkerStatus.OFFLINE, last_heartbeat_at=at(1)),
        make_worker("new-off", status=WorkerStatus.OFFLINE, last_heartbeat_at=at(20)),
        make_worker("old-online", last_heartbeat_at=at(1)),  # its lease decides, not its age
        make_worker("old-draining", status=WorkerStatus.DRAINING, last_heartbeat_at=at(1)),
    ]
    await store.apply([UpsertWorker(w) for w in beats])
    assert await store.delete_offline_workers(at(10)) == 1
    left = [w.id for w in await store.list_workers(None)]
    assert left == ["new-off", "old-draining", "old-online"]
    assert await store.delete_offline_workers(at(10)) == 0
    back = make_worker("old-off", last_heartbeat_at=at(30))  # the worker comes back
    await store.apply([UpsertWorker(back)])
    assert "old-off" in [w.id for w in await store.list_workers(None)]


async def test_concurrent_first_heartbeats_of_a_worker_both_land(store: Store, twin: Store) -> None:
    """Two replicas ingest the first heartbeat of the same worker at once: no batch fails."""
    beats = [make_worker(f"w{i % 5}", last_heartbeat_at=at(i)) for i in range(40)]
    batches = [(store if i % 2 else twin).apply([UpsertWorker(w)]) for i, w in enumerate(beats)]
    assert all(r == [True] for r in await asyncio.gather(*batches))
    assert [w.id for w in await store.list_workers(None)] == [f"w{i}" for i in range(5)]


async def test_audit_records_page_newest_first_per_domain(store: Store) -> None:
    records = [
        AuditRecord(
            id=new_id(),
            domain="default",
            actor="admin",
            action="job.create",
            object_type="job",
            object_id=f"job-{i}" if i else None,
            at=at(i),
            details={"name": f"n{i}", "nested": {"k": [1, 2]}},
        )
        for i in range(5)
    ]
    for record in records:
        await store.add_audit(record)
    await store.add_audit(AuditRecord(new_id(), "other", "x", "a", "job", None, T0, {}))

    first = await store.list_audit("default", limit=3, cursor=None)
    assert first.items == list(reversed(records))[:3] and first.next_cursor
    rest = await store.list_audit("default", limit=3, cursor=first.next_cursor)
    assert rest.items == [records[1], records[0]] and rest.next_cursor is None


async def test_stats_count_the_window(store: Store) -> None:
    ok, bad = make_job(name="ok"), make_job(name="bad")
    for job in (ok, bad):
        await store.create_job(job)
    since, now = at(-2 * 3600), at(0)
    runs = [
        make_run(
            ok, S.SUCCEEDED, created_at=at(-3000), started_at=at(-3000), finished_at=at(-2990)
        ),
        make_run(ok, S.SUCCEEDED, created_at=at(-60), started_at=at(-60), finished_at=at(-30)),
        make_run(bad, S.FAILED, created_at=at(-50), started_at=at(-50), finished_at=at(-49)),
        make_run(bad, S.RUNNING, created_at=at(-10), started_at=at(-10)),
        make_run(bad, S.FAILED, created_at=at(-3 * 3600)),  # before the window
    ]
    await store.insert_runs(runs)
    other = make_job("elsewhere")
    await store.insert_runs([make_run(other, S.FAILED, created_at=at(-5))])
    await store.apply([UpsertWorker(make_worker("w1")), UpsertWorker(make_worker("w2", "x"))])
    offline = make_worker("w3", status=WorkerStatus.OFFLINE)
    await store.apply([UpsertWorker(offline)])

    stats = await store.stats("default", since, now)

    assert stats.counts == {"succeeded": 2, "failed": 1, "running": 1}
    assert stats.success_rate == pytest.approx(2 / 3)
    assert stats.workers_online == 1
    assert [r.id for r in stats.recent_failures] == [runs[4].id, runs[2].id]
    assert sum(sum(b.counts.values()) for b in stats.hourly) == 4
    assert stats.hourly[0].hour <= since and stats.hourly[-1].hour <= now
    slowest = {j.job_id: j for j in stats.slowest_jobs}
    assert slowest[ok.id].avg_seconds == pytest.approx(20.0)
    assert slowest[ok.id].max_seconds == pytest.approx(30.0)
    assert [(j.job_id, j.failures) for j in stats.failing_jobs] == [(bad.id, 1)]


async def test_stats_add_up_in_the_store_as_they_do_run_by_run(store: Store) -> None:
    """The store's aggregate (SQL: one GROUP BY) equals adding the window up run by run."""
    rng = random.Random(7)
    jobs = [make_job(name=f"job-{i}") for i in range(7)]
    for job in jobs:
        await store.create_job(job)
    since, now = at(-30 * 3600), at(0)
    statuses = [S.SUCCEEDED, S.SUCCEEDED, S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.LOST, S.RUNNING]
    runs = []
    for _ in range(400):
        job = rng.choice(jobs)
        created = at(-rng.uniform(0, 36 * 3600))  # some before the window
        status = rng.choice(statuses)
        started = created + timedelta(seconds=rng.uniform(0, 5)) if rng.random() < 0.9 else None
        finished = (
            started + timedelta(seconds=rng.uniform(0, 900))
            if started and status in TERMINAL
            else None
        )
        runs.append(
            make_run(job, status, created_at=created, started_at=started, finished_at=finished)
        )
    await store.insert_runs(runs)
    in_window = [
        (r.job_id, r.job_name, r.status.value, r.created_at, r.started_at, r.finished_at)
        for r in runs
        if r.created_at >= since
    ]

    got = await store.stats("default", since, now)
    want = build_stats(
        group_runs(in_window),
        since=since,
        now=now,
        recent_failures=got.recent_failures,
        workers_online=got.workers_online,
    )

    assert got.counts == want.counts and sum(got.counts.values()) == len(in_window)
    assert got.hourly == want.hourly and len(got.hourly) == 31
    assert got.success_rate == pytest.approx(want.success_rate)
    assert [j.job_id for j in got.failing_jobs] == [j.job_id for j in want.failing_jobs]
    assert [j.job_id for j in got.slowest_jobs] == [j.job_id for j in want.slowest_jobs]
    for mine, theirs in zip(got.slowest_jobs, want.slowest_jobs, strict=True):
        assert (mine.runs, mine.failures, mine.job_name) == (
            theirs.runs,
            theirs.failures,
            theirs.job_name,
        )
        assert mine.avg_seconds == pytest.approx(theirs.avg_seconds, abs=1e-3)
        assert mine.max_seconds == pytest.approx(theirs.max_seconds, abs=1e-3)


async def test_retention_deletes_old_terminal_runs_and_their_logs(store: Store) -> None:
    job, keep = make_job(name="old"), make_job(name="kept")
    cutoff = at(0)
    ended = [S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.CANCELLED, S.SKIPPED, S.LOST]
    assert set(ended) == TERMINAL
    old_done = [make_run(job, status, created_at=at(-100 - i)) for i, status in enumerate(ended)]
    old_active = [make_run(job, s, created_at=at(-100)) for s in (S.PENDING, S.RUNNING)]
    new_done = make_run(job, S.SUCCEEDED, created_at=at(10))
    other_job = make_run(keep, S.FAILED, created_at=at(-500))
    await store.insert_runs([*old_done, *old_active, new_done, other_job])
    await store.apply([AppendLog(r.id, 0, "out\n") for r in (*old_done, new_done)])

    deleted = []
    while n := await store.delete_runs_before(cutoff, job_id=None, batch=4, exclude_jobs={keep.id}):
        deleted.append(n)
    assert deleted == [4, 2]  # in batches

    left = await store.list_runs("default", RunFilter(), limit=100, cursor=None)
    assert {r.id for r in left.items} == {*(r.id for r in old_active), new_done.id, other_job.id}
    assert (await store.read_log("default", new_done.id, 0, 100)).data == "out\n"
    # The deleted runs' log chunks went with them: a run stored again under the same id is empty.
    again = old_done[0].model_copy(update={"log_size": 0})
    await store.insert_runs([again])
    assert (await store.read_log("default", again.id, 0, 100)).data == ""


async def test_retention_for_one_job(store: Store) -> None:
    a, b = make_job(name="a", retention_days=7), make_job(name="b")
    for job in (a, b):
        await store.create_job(job)
    old_a = make_run(a, S.SUCCEEDED, created_at=at(-10))
    old_b = make_run(b, S.SUCCEEDED, created_at=at(-10))
    await store.insert_runs([old_a, old_b])

    assert await store.job_retention_days() == {a.id: 7}
    assert await store.delete_runs_before(at(0), job_id=a.id, batch=100) == 1
    assert await store.delete_runs_before(at(0), job_id=a.id, batch=100) == 0
    assert await store.find_run(old_a.id) is None and await store.find_run(old_b.id) is not None
