"""Production makes exactly the moves `status.py` lists: each path is driven through the code that
owns it (dispatcher, ingest, ingest's merge, cancel, reaper) against a real SQLite store, and the
status changes the store is asked to apply are recorded.

With `tests/unit/test_lifecycle.py` (the table is the moves) and the store contract (each move
applies from its sources only), this ties the transition table to what production does: a move
no path makes, or a path that changes a status without its move, fails here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from hydra_jobs.broker.base import Delivery
from hydra_jobs.models import Job, Run
from hydra_jobs.scheduler.loops.dispatcher import Dispatcher
from hydra_jobs.scheduler.loops.ingest import Ingest
from hydra_jobs.scheduler.loops.reaper import Reaper
from hydra_jobs.scheduler.services.runs import cancel_run
from hydra_jobs.status import MOVES, RunStatus, SetStatus
from hydra_jobs.store.base import Op
from tests.contract.factories import make_job, make_run
from tests.integration.test_ingest_merge import finished, started

S = RunStatus


class Recorder:
    """The moves of every status change the store is asked to apply, in order."""

    def __init__(self, ingest: Ingest) -> None:
        self.moves: list[str] = []
        self._seen: set[int] = set()  # a store's set_status may apply through its apply
        store = ingest.rt.store
        real_apply, real_set = store.apply, store.set_status

        def note(op: Op) -> None:
            if isinstance(op, SetStatus) and id(op) not in self._seen:
                self._seen.add(id(op))
                self.moves.append(op.move)

        async def apply(ops: Sequence[Op]) -> list[Run | bool]:
            for op in ops:
                note(op)
            return await real_apply(ops)

        async def set_status(op: SetStatus) -> Run | None:
            note(op)
            return await real_set(op)

        store.apply = apply  # type: ignore[method-assign]
        store.set_status = set_status  # type: ignore[method-assign]

    def take(self) -> list[str]:
        moves, self.moves, self._seen = self.moves, [], set()
        return moves


@pytest.fixture
def recorder(ingest: Ingest) -> Recorder:
    return Recorder(ingest)


async def _run(ingest: Ingest, status: RunStatus, job: Job | None = None, **fields: Any) -> Run:
    job = job or make_job()
    await ingest.rt.store.create_job(job)
    run = make_run(job, status, **fields)
    await ingest.rt.store.insert_runs([run])
    return run


async def _status(ingest: Ingest, run: Run) -> RunStatus:
    return (await ingest.rt.store.get_run(run.domain, run.id)).status


async def test_each_path_makes_its_move_and_every_move_is_made(
    ingest: Ingest, recorder: Recorder
) -> None:
    rt = ingest.rt
    made: dict[str, list[str]] = {}

    due = await _run(ingest, S.PENDING)
    await Dispatcher(rt).dispatch_once()
    made["dispatcher"] = recorder.take()
    assert await _status(ingest, due) is S.QUEUED

    await ingest.handle([started(due.id)])
    made["ingest: started"] = recorder.take()
    await ingest.handle([finished(due.id)])
    made["ingest: finished"] = recorder.take()
    assert await _status(ingest, due) is S.SUCCEEDED

    quick = await _run(ingest, S.QUEUED)
    await ingest.handle([started(quick.id), finished(quick.id, status="failed")])
    made["ingest: both in one batch"] = recorder.take()
    assert await _status(ingest, quick) is S.FAILED

    waiting = await _run(ingest, S.PENDING)
    await cancel_run(rt, waiting)
    made["cancel a waiting run"] = recorder.take()
    assert await _status(ingest, waiting) is S.CANCELLED

    running = await _run(ingest, S.RUNNING, worker_id="w-live")
    await rt.broker.renew_worker_lease("w-live", 60.0)
    await cancel_run(rt, running)
    made["cancel a running run"] = recorder.take()
    assert await _status(ingest, running) is S.RUNNING

    orphan = await _run(ingest, S.RUNNING, worker_id="w-dead")
    starting = await _run(ingest, S.QUEUED, make_job(queue="q-starting"))
    await rt.broker.enqueue(starting.domain, starting.queue, [{"id": starting.id}])
    [delivery] = await rt.broker.claim(starting.domain, [starting.queue], "w-dead", 1, 0.0)
    real_orphans = rt.broker.orphaned_deliveries

    async def begun(live: set[str]) -> list[Delivery]:
        # The Redis broker marks a delivery whose worker had begun starting it; the in-process
        # broker keeps no such record (its worker dies with it), so it is marked here.
        return [dataclasses.replace(d, started=True) for d in await real_orphans(live)]

    rt.broker.orphaned_deliveries = begun  # type: ignore[method-assign]
    await Reaper(rt).sweep()
    made["reaper"] = recorder.take()
    assert delivery.run_id == starting.id
    assert await _status(ingest, orphan) is S.LOST
    assert await _status(ingest, starting) is S.LOST

    assert made == {
        "dispatcher": ["dispatch"],
        "ingest: started": ["start"],
        "ingest: finished": ["finish"],
        "ingest: both in one batch": ["start_and_finish"],
        "cancel a waiting run": ["cancel_waiting"],
        "cancel a running run": ["request_cancel"],
        "reaper": ["lost_while_starting", "worker_lost"],
    }
    assert {move for moves in made.values() for move in moves} == {m.name for m in MOVES}
