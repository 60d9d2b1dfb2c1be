"""Compare-and-set transitions and batched event writes (St4, D3).

Every op is made by `status.transition`, as production makes them; each move production makes is
checked against every status a run can be in.

Races run as many concurrent tasks; on PostgreSQL and MongoDB they are real concurrent
transactions on separate connections, and half of them go through a second store instance.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hydra_jobs.models import Run
from hydra_jobs.status import (
    CANCEL_WAITING,
    DISPATCH,
    FINISH,
    MOVES,
    START,
    TERMINAL,
    Move,
    RunStatus,
    SetStatus,
    transition,
)
from hydra_jobs.store.base import AppendLog, Store, UpsertWorker
from tests.contract.factories import at, make_job, make_run, make_worker

S = RunStatus
RACES = 200


async def _runs(store: Store, count: int, status: RunStatus, **fields: Any) -> list[Run]:
    job = make_job()
    await store.create_job(job)
    runs = [make_run(job, status, **fields) for _ in range(count)]
    await store.insert_runs(runs)
    return runs


def _finish(run: Run, status: RunStatus, worker: str | None = "w1") -> SetStatus:
    return transition(
        FINISH,
        run.id,
        status,
        {"finished_at": at(10), "exit_code": 0 if status is S.SUCCEEDED else None},
        worker_id=worker,
    )


@pytest.mark.parametrize("move", MOVES, ids=lambda m: m.name)
async def test_each_move_applies_from_its_sources_and_from_nowhere_else(
    store: Store, move: Move
) -> None:
    """A run in each status, for each status the move leads to: only its sources change."""
    job = make_job()
    await store.create_job(job)
    cases = [(make_run(job, current), current, to) for to in move.targets for current in S]
    await store.insert_runs([run for run, _, _ in cases])
    ops = [transition(move, run.id, to, {"error": f"by {move.name}"}) for run, _, to in cases]
    results = await store.apply(ops)
    for (run, current, to), result in zip(cases, results, strict=True):
        stored = await store.get_run("default", run.id)
        if current in move.sources:
            assert isinstance(result, Run) and result.status is to, (current, to)
            assert (stored.status, stored.error) == (to, f"by {move.name}")
        else:
            assert result is False, (current, to)
            assert (stored.status, stored.error) == (current, None)


async def test_set_status_updates_fields_and_returns_the_run(store: Store) -> None:
    (run,) = await _runs(store, 1, S.QUEUED)
    started = await store.set_status(
        transition(START, run.id, fields={"worker_id": "w1", "started_at": at(1)})
    )
    assert started is not None
    assert (started.status, started.worker_id, started.started_at) == (S.RUNNING, "w1", at(1))
    done = await store.set_status(
        transition(
            FINISH,
            run.id,
            S.FAILED,
            {
                "finished_at": at(3),
                "exit_code": 2,
                "error": "boom",
                "resource_usage": {"cpu_seconds": 0.25},
                "log_truncated": True,
            },
            worker_id="w1",
        )
    )
    assert done is not None
    assert done.model_dump() == (await store.get_run("default", run.id)).model_dump()
    assert (done.exit_code, done.error, done.resource_usage) == (2, "boom", {"cpu_seconds": 0.25})
    assert done.finished_at == at(3) and done.log_truncated is True


async def test_a_set_of_expected_statuses_admits_each_and_refuses_the_rest(store: Store) -> None:
    [pending], [queued], [running] = [
        await _runs(store, 1, s) for s in (S.PENDING, S.QUEUED, S.RUNNING)
    ]
    ops = [
        transition(CANCEL_WAITING, r.id, fields={"finished_at": at(4)}) for r in (pending, queued)
    ]
    results = await store.apply([*ops, transition(CANCEL_WAITING, running.id)])
    assert results[2] is False
    for run, result in zip((pending, queued), results, strict=False):
        assert isinstance(result, Run)
        assert result.model_dump() == (await store.get_run("default", run.id)).model_dump()
        assert (result.status, result.finished_at) == (S.CANCELLED, at(4))
    assert (await store.get_run("default", running.id)).status is S.RUNNING


async def test_text_and_json_fields_survive_awkward_characters(store: Store) -> None:
    (run,) = await _runs(store, 1, S.RUNNING, params={"p": 'nul\x00 ✓ "q"'}, worker_id="w1")
    assert (await store.get_run("default", run.id)).params == run.params
    op = transition(FINISH, run.id, S.FAILED, {"error": "bad\x00byte ✓"})
    done = await store.set_status(op)
    assert done is not None and done.error in {"bad\x00byte ✓", "bad\ufffdbyte ✓"}


async def test_a_transition_from_an_unexpected_status_is_refused(store: Store) -> None:
    (run,) = await _runs(store, 1, S.PENDING)
    assert await store.set_status(_finish(run, S.SUCCEEDED, worker=None)) is None
    assert (await store.get_run("default", run.id)).status is S.PENDING
    missing = transition(DISPATCH, "0" * 32)
    assert await store.set_status(missing) is None


async def test_finish_races_timeout_and_exactly_one_wins(store: Store, twin: Store) -> None:
    """200 runs, each finished and timed out at the same moment by two writers: one wins each."""
    runs = await _runs(store, RACES, S.RUNNING, worker_id="w1")
    finish = [store.set_status(_finish(r, S.SUCCEEDED)) for r in runs]
    timeout = [twin.set_status(_finish(r, S.TIMED_OUT)) for r in runs]
    interleaved = [op for pair in zip(finish, timeout, strict=True) for op in pair]
    results = await asyncio.gather(*interleaved)

    for i, run in enumerate(runs):
        won = [r for r in results[2 * i : 2 * i + 2] if r is not None]
        assert len(won) == 1, f"run {run.id}: {len(won)} writers won"
        stored = await store.get_run("default", run.id)
        assert stored.status is won[0].status and stored.status in TERMINAL


async def test_a_terminal_status_is_final(store: Store) -> None:
    (run,) = await _runs(store, 1, S.RUNNING, worker_id="w1")
    assert await store.set_status(_finish(run, S.SUCCEEDED)) is not None
    for status in (S.FAILED, S.TIMED_OUT, S.CANCELLED, S.LOST):
        assert await store.set_status(_finish(run, status)) is None
    assert (await store.get_run("default", run.id)).status is S.SUCCEEDED


async def test_the_worker_fence_refuses_a_stale_worker(store: Store) -> None:
    (run,) = await _runs(store, 1, S.RUNNING, worker_id="w-new")
    assert await store.set_status(_finish(run, S.SUCCEEDED, worker="w-old")) is None
    assert (await store.get_run("default", run.id)).status is S.RUNNING
    assert await store.set_status(_finish(run, S.SUCCEEDED, worker="w-new")) is not None


async def test_apply_reports_each_ops_own_outcome_in_one_batch(store: Store) -> None:
    (queued,) = await _runs(store, 1, S.QUEUED)
    (running,) = await _runs(store, 1, S.RUNNING, worker_id="w1")
    (done,) = await _runs(store, 1, S.SUCCEEDED)
    ops = [
        transition(START, queued.id, fields={"worker_id": "w2"}),
        AppendLog(running.id, 0, "hello\n", worker_id="w1"),
        transition(FINISH, done.id, S.FAILED),
        UpsertWorker(make_worker("w1")),
        AppendLog(running.id, 6, "stale\n", worker_id="w-other"),
        _finish(running, S.SUCCEEDED),
        AppendLog(running.id, 6, "late but same worker\n", worker_id="w1"),
    ]
    results = await store.apply(ops)

    assert len(results) == len(ops)
    first = results[0]
    assert isinstance(first, Run) and first.status is S.RUNNING and first.worker_id == "w2"
    assert results[1:5] == [True, False, True, False]
    last = results[5]
    assert isinstance(last, Run) and last.status is S.SUCCEEDED and last.log_size == 6
    assert results[6] is True  # output that arrives after the finish event is still kept
    log = await store.read_log("default", running.id, 0, 1000)
    assert log.data == "hello\nlate but same worker\n" and log.complete
    assert [w.id for w in await store.list_workers(None)] == ["w1"]


async def test_many_small_batches_race_without_losing_a_write(store: Store, twin: Store) -> None:
    runs = await _runs(store, 60, S.PENDING)
    batches = [
        (store if i % 2 else twin).apply([transition(DISPATCH, r.id, fields={"queued_at": at(1)})])
        for i, r in enumerate(runs + runs)
    ]
    results = [r for batch in await asyncio.gather(*batches) for r in batch]
    assert sum(isinstance(r, Run) for r in results) == len(runs)
    assert len(await store.runs_with_status([S.QUEUED])) == len(runs)
