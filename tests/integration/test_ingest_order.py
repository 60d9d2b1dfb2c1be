"""Ingest with events out of order, as two scheduler replicas sharing one event stream see them.

A real SQLite store and the in-process broker; the events are fed to `Ingest.handle` directly.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from hydra_jobs.broker.base import Received
from hydra_jobs.events import parse_worker_event
from hydra_jobs.scheduler.loops import ingest as ingest_module
from hydra_jobs.scheduler.loops.ingest import Ingest
from hydra_jobs.status import RunStatus
from tests.contract.factories import make_job, make_run

NOW = datetime(2026, 1, 1, tzinfo=UTC).isoformat()


async def queued_run(ingest: Ingest) -> str:
    job = make_job()
    await ingest.rt.store.create_job(job)
    run = make_run(job, RunStatus.QUEUED)
    await ingest.rt.store.insert_runs([run])
    return run.id


def event(kind: str, run_id: str, worker: str = "w1", **fields: Any) -> Received:
    raw = {"type": kind, "run_id": run_id, "worker_id": worker, "domain": "default", **fields}
    return Received(parse_worker_event(raw))


async def drain(ingest: Ingest, seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while ingest._waiting and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
        if due := ingest._due():
            await ingest.handle(due)


async def test_a_finished_event_that_overtook_its_started_is_applied_after_it(
    ingest: Ingest,
) -> None:
    run_id = await queued_run(ingest)
    await ingest.handle(
        [
            event("output", run_id, offset=0, data="hello\n"),
            event("finished", run_id, status="succeeded", exit_code=0, at=NOW),
        ]
    )
    assert (await ingest.rt.store.get_run("default", run_id)).status is RunStatus.QUEUED
    assert len(ingest._waiting) == 2
    await ingest.handle([event("started", run_id, pid=1, at=NOW)])  # the other replica, later
    await drain(ingest, 2)
    run = await ingest.rt.store.get_run("default", run_id)
    assert run.status is RunStatus.SUCCEEDED and run.worker_id == "w1"
    assert (await ingest.rt.store.read_log("default", run_id, 0, 100)).data == "hello\n"
    assert not ingest._waiting


async def test_a_stale_event_is_dropped_once_the_run_moved_on(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "DEFER_CHECK_SECONDS", 0.1)
    run_id = await queued_run(ingest)
    await ingest.handle([event("started", run_id, pid=1, at=NOW)])
    # A copy on another worker that lost the race reports too: never applied, soon dropped.
    await ingest.handle([event("finished", run_id, worker="w2", status="failed", at=NOW)])
    await drain(ingest, 3)
    assert not ingest._waiting and ingest.dropped >= 1
    assert (await ingest.rt.store.get_run("default", run_id)).status is RunStatus.RUNNING


async def test_an_early_event_waits_while_its_run_is_still_queued(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `started` may sit with a dead replica until another takes its events over."""
    monkeypatch.setattr(ingest_module, "DEFER_CHECK_SECONDS", 0.1)
    run_id = await queued_run(ingest)
    await ingest.handle([event("finished", run_id, status="succeeded", exit_code=0, at=NOW)])
    await drain(ingest, 0.5)
    assert ingest._waiting, "still queued: the event keeps waiting past the first check"
    await ingest.handle([event("started", run_id, pid=1, at=NOW)])
    await drain(ingest, 3)
    assert (await ingest.rt.store.get_run("default", run_id)).status is RunStatus.SUCCEEDED


async def test_events_read_just_before_shutdown_are_still_written(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The in-process broker forgets an event once it is read: stopping ingest while it holds a
    batch (here in its coalescing pause) lost a run's `finished`, and the run came back `lost`."""
    monkeypatch.setattr(ingest_module, "COALESCE_SECONDS", 0.5)
    run_id = await queued_run(ingest)
    reading = asyncio.create_task(ingest.run_forever())
    await ingest.rt.broker.emit(
        [
            event("started", run_id, pid=1, at=NOW).event,
            event("finished", run_id, status="succeeded", exit_code=0, at=NOW).event,
        ]
    )
    async with asyncio.timeout(5):
        while ingest._empty_handed.is_set():
            await asyncio.sleep(0.005)  # until ingest has read the two and holds them
    await ingest.stop_reading()
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    await ingest.flush()
    assert (await ingest.rt.store.get_run("default", run_id)).status is RunStatus.SUCCEEDED


async def test_an_end_applied_before_its_output_keeps_the_log_incomplete_until_it_arrives(
    ingest: Ingest,
) -> None:
    """Two replicas: one applies the run's end while the other has not stored its output yet.
    The end names the output's length, so no reader takes the empty log for the whole of it."""
    run_id = await queued_run(ingest)
    await ingest.handle([event("started", run_id, pid=1, at=NOW)])
    finished = event("finished", run_id, status="succeeded", exit_code=0, at=NOW, log_size=6)
    await ingest.handle([finished])
    store = ingest.rt.store
    assert (await store.get_run("default", run_id)).status is RunStatus.SUCCEEDED
    page = await store.read_log("default", run_id, 0, 100)
    assert (page.data, page.complete) == ("", False)

    await ingest.handle([event("output", run_id, offset=0, data="hello\n")])  # the other replica
    page = await store.read_log("default", run_id, 0, 100)
    assert (page.data, page.complete) == ("hello\n", True)
