"""A run's `started` and `finished` in one ingest batch are written as one change, and nothing
else about them changes: live clients still see `running`, refused merges fall back to the
events one by one (cancelled runs stay cancelled, duplicates still apply), output still lands."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hydra_jobs.broker.base import Received
from hydra_jobs.events import Abort, RunEvent, parse_worker_event
from hydra_jobs.scheduler.loops.ingest import Ingest
from hydra_jobs.status import CANCEL_WAITING, RunStatus, SetStatus, transition
from tests.contract.factories import make_job, make_run

STARTED_AT = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
FINISHED_AT = datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)
USAGE = {"cpu_user_seconds": 0.5, "cpu_system_seconds": 0.25, "peak_rss_bytes": 1024.0}


async def queued_run(ingest: Ingest, **spec: Any) -> str:
    job = make_job(**spec)
    await ingest.rt.store.create_job(job)
    run = make_run(job, RunStatus.QUEUED)
    await ingest.rt.store.insert_runs([run])
    return run.id


def started(run_id: str, worker: str = "w1") -> Received:
    return event("started", run_id, worker, pid=42, at=STARTED_AT.isoformat())


def finished(run_id: str, worker: str = "w1", status: str = "succeeded") -> Received:
    return event(
        "finished",
        run_id,
        worker,
        status=status,
        exit_code=0 if status == "succeeded" else 1,
        error=None if status == "succeeded" else "exit code 1",
        resource_usage=USAGE,
        at=FINISHED_AT.isoformat(),
    )


def event(kind: str, run_id: str, worker: str, **fields: Any) -> Received:
    raw = {"type": kind, "run_id": run_id, "worker_id": worker, "domain": "default", **fields}
    return Received(parse_worker_event(raw))


class Live:
    """What a live subscriber sees of one run: the broker fan-out that the SSE hub reads."""

    def __init__(self, ingest: Ingest, run_id: str) -> None:
        self.statuses: list[str] = []
        self._sub = ingest.rt.broker.subscribe(None)
        self._task = asyncio.create_task(self._collect(run_id))

    async def _collect(self, run_id: str) -> None:
        async for item in self._sub:
            if isinstance(item, RunEvent) and item.run.id == run_id:
                self.statuses.append(item.run.status.value)

    async def stop(self) -> list[str]:
        await asyncio.sleep(0.01)  # let the subscriber take what was published
        await self._sub.close()
        await self._task
        return self.statuses


async def test_start_and_end_in_one_batch_make_one_write_and_both_live_events(
    ingest: Ingest,
) -> None:
    run_id = await queued_run(ingest)
    writes: list[int] = []
    real_apply = ingest.rt.store.apply

    async def counting_apply(ops: Any) -> Any:
        writes.append(sum(isinstance(op, SetStatus) for op in ops))
        return await real_apply(ops)

    ingest.rt.store.apply = counting_apply  # type: ignore[method-assign]
    live = Live(ingest, run_id)

    await ingest.handle([started(run_id), finished(run_id)])

    assert writes == [1], "start and end were not merged into one compare-and-set"
    assert await live.stop() == ["running", "succeeded"]
    run = await ingest.rt.store.get_run("default", run_id)
    assert run.status is RunStatus.SUCCEEDED
    assert (run.worker_id, run.started_at, run.finished_at) == ("w1", STARTED_AT, FINISHED_AT)
    assert (run.exit_code, run.error, run.resource_usage) == (0, None, USAGE)
    assert ingest.applied == 2 and ingest.dropped == 0


async def test_a_failed_quick_run_is_retried_per_its_policy(ingest: Ingest) -> None:
    run_id = await queued_run(ingest, retries={"max_attempts": 2, "backoff_seconds": 0})

    await ingest.handle([started(run_id), finished(run_id, status="failed")])

    run = await ingest.rt.store.get_run("default", run_id)
    assert (run.status, run.exit_code) == (RunStatus.FAILED, 1)
    retries = await ingest.rt.store.runs_with_status(
        [RunStatus.PENDING, RunStatus.QUEUED], job_id=run.job_id
    )
    assert [(r.retry_of, r.attempt) for r in retries] == [(run_id, 2)]


async def test_a_run_cancelled_while_queued_stays_cancelled(ingest: Ingest) -> None:
    run_id = await queued_run(ingest)
    await ingest.rt.store.set_status(transition(CANCEL_WAITING, run_id))
    control = ingest.rt.broker.watch_control("default", "w1")

    await ingest.handle([started(run_id), finished(run_id)])

    assert (await ingest.rt.store.get_run("default", run_id)).status is RunStatus.CANCELLED
    message = await asyncio.wait_for(anext(aiter(control)), 1.0)
    assert message == Abort(run_id=run_id, worker_id="w1"), (
        "the refused start must still stop the worker's copy"
    )
    await control.close()


async def test_a_duplicate_start_falls_back_and_the_end_still_applies(ingest: Ingest) -> None:
    run_id = await queued_run(ingest)
    await ingest.handle([started(run_id)])  # applied earlier; redelivered with the end below

    await ingest.handle([started(run_id), finished(run_id)])

    run = await ingest.rt.store.get_run("default", run_id)
    assert run.status is RunStatus.SUCCEEDED and run.worker_id == "w1"


async def test_output_between_start_and_end_is_stored_in_full(ingest: Ingest) -> None:
    run_id = await queued_run(ingest)

    await ingest.handle(
        [
            started(run_id),
            event("output", run_id, "w1", offset=0, data="hello\n"),
            finished(run_id),
        ]
    )

    run = await ingest.rt.store.get_run("default", run_id)
    assert run.status is RunStatus.SUCCEEDED and run.log_size == len("hello\n")
    assert (await ingest.rt.store.read_log("default", run_id, 0, 100)).data == "hello\n"


async def test_an_end_from_another_worker_is_not_merged(ingest: Ingest) -> None:
    run_id = await queued_run(ingest)

    await ingest.handle([started(run_id, "w1"), finished(run_id, "w2")])

    run = await ingest.rt.store.get_run("default", run_id)
    assert run.status is RunStatus.RUNNING and run.worker_id == "w1"
