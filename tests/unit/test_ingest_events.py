"""Worker events are checked where they enter (`events.parse_worker_event`): one that verifies
but is malformed becomes nothing, never an exception (it would hold up the batch, and every
other domain's events read with it, forever). What workers put on the wire is what they always
sent: a mixed-version fleet reads it during an upgrade."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hydra_jobs.events import (
    Abort,
    Cancel,
    Drain,
    Finished,
    Heartbeat,
    JobEvent,
    LogEvent,
    Output,
    Revoked,
    RunEvent,
    SchedulerNotice,
    Started,
    control_or_none,
    wire,
    worker_event_or_none,
)
from hydra_jobs.models import Worker
from hydra_jobs.scheduler.loops.ingest import event_to_op
from hydra_jobs.status import SetStatus
from hydra_jobs.store.base import AppendLog, UpsertWorker
from tests.contract.factories import make_job, make_run

AT = "2026-01-01T00:00:00+00:00"
WORKER = {
    "id": "w1",
    "domain": "a",
    "name": "w",
    "hostname": "h",
    "platform": "linux",
    "version": "1",
    "executors": ["shell"],
    "queues": ["default"],
    "concurrency": 1,
    "status": "online",
    "started_at": AT,
    "last_heartbeat_at": AT,
}
BASE = {"domain": "a", "run_id": "r", "worker_id": "w"}


@pytest.mark.parametrize(
    "event",
    [
        {"type": "worker", "domain": "a", "worker": {"domain": "a"}},
        {"type": "started", "run_id": "r", "worker_id": "w"},
        {"type": "finished", "run_id": "r", "worker_id": "w", "status": "exploded", "at": AT},
        {"type": "finished", "run_id": "r", "worker_id": "w", "status": "queued", "at": AT},
        {"type": "output", "run_id": "r", "worker_id": "w", "offset": "x", "data": "d"},
        {"type": "started", "run_id": "r", "worker_id": "w", "at": "not a time"},
        {"type": "worker", "domain": "a", "worker": "not a dict"},
        {"type": "teleported", "run_id": "r", "worker_id": "w"},
        {"run_id": "r", "worker_id": "w", "at": AT},
        ["not", "an", "object"],
    ],
)
def test_malformed_events_become_nothing(event: Any) -> None:
    assert worker_event_or_none(event) is None


def test_well_formed_events_still_apply_and_new_fields_are_ignored() -> None:
    started = worker_event_or_none({**BASE, "type": "started", "at": AT, "gpu": "yes"})
    assert started is not None
    op = event_to_op(started)
    assert isinstance(op, SetStatus) and op.run_id == "r"
    assert op.fields["started_at"] == datetime(2026, 1, 1, tzinfo=UTC)
    newer = worker_event_or_none({"type": "worker", "domain": "a", "worker": {**WORKER, "gpu": 1}})
    assert newer is not None
    op = event_to_op(newer)
    assert isinstance(op, UpsertWorker) and op.worker.id == "w1"
    output = worker_event_or_none({**BASE, "type": "output", "offset": 3, "data": "hi"})
    assert output is not None and event_to_op(output) == AppendLog("r", 3, "hi", worker_id="w")


def test_a_started_without_a_process_sets_no_start_time() -> None:
    op = event_to_op(Started(**BASE, pid=0, at=datetime(2026, 1, 1, tzinfo=UTC)))
    assert isinstance(op, SetStatus) and op.fields["started_at"] is None


def test_worker_events_on_the_wire_are_what_workers_always_sent() -> None:
    """The dicts the worker built by hand before the models, key for key and in order."""
    at = datetime(2026, 1, 1, 0, 0, 1, 5, tzinfo=UTC)
    started = Started(**BASE, pid=42, at=at, source_commit="abc")
    assert list(wire(started).items()) == [
        *BASE.items(),
        ("type", "started"),
        ("pid", 42),
        ("at", at.isoformat()),
        ("source_commit", "abc"),
    ]
    assert wire(Output(**BASE, offset=0, data="x")) == {
        **BASE,
        "type": "output",
        "offset": 0,
        "data": "x",
    }
    usage = {"cpu_user_seconds": 0.5, "peak_rss_bytes": 1024, "processes_killed": 0}
    finished = Finished(
        **BASE,
        status="failed",
        exit_code=1,
        error="exit code 1",
        resource_usage=usage,
        at=at,
        log_truncated=False,
        log_size=7,
    )
    assert list(wire(finished).items()) == [
        *BASE.items(),
        ("type", "finished"),
        ("status", "failed"),
        ("exit_code", 1),
        ("error", "exit code 1"),
        ("resource_usage", usage),  # an int stays an int
        ("at", at.isoformat()),
        ("log_truncated", False),
        ("log_size", 7),
    ]
    failure = Finished(**BASE, status="failed", error="boom", at=at, log_size=0)
    assert list(wire(failure)) == [*BASE, "type", "status", "error", "at", "log_size"]
    worker = Worker.model_validate(WORKER)
    assert wire(Heartbeat(domain="a", worker=worker)) == {
        "type": "worker",
        "domain": "a",
        "worker": {**worker.model_dump(mode="json"), "started_at": AT, "last_heartbeat_at": AT},
    }


def test_live_events_on_the_wire_are_what_schedulers_always_published() -> None:
    job = make_job()
    run = make_run(job)
    assert wire(RunEvent.of(run)) == {
        "type": "run",
        "run": run.model_dump(mode="json", exclude={"spec"}),
    }
    assert wire(JobEvent(job_id=job.id, deleted=False, job=job)) == {
        "type": "job",
        "job_id": job.id,
        "deleted": False,
        "job": job.model_dump(mode="json"),
    }
    assert wire(JobEvent(job_id=job.id, deleted=True)) == {
        "type": "job",
        "job_id": job.id,
        "deleted": True,
    }
    log = LogEvent(run_id="r", offset=2, data="x").model_copy(update={"domain": "d"})
    assert list(wire(log).items()) == [
        ("type", "log"),
        ("run_id", "r"),
        ("offset", 2),
        ("data", "x"),
        ("domain", "d"),
    ]


def test_control_messages_and_notices_on_the_wire_are_what_they_were() -> None:
    assert wire(Cancel(run_id="r")) == {"type": "cancel", "run_id": "r"}
    assert list(wire(Abort(run_id="r", worker_id="w")).items()) == [
        ("type", "abort"),
        ("run_id", "r"),
        ("worker_id", "w"),
    ]
    assert wire(Drain(worker_id="w")) == {"type": "drain", "worker_id": "w"}
    assert wire(Revoked(token_id="t")) == {"type": "revoked", "token_id": "t"}
    nudge = SchedulerNotice(origin="a", dispatch=False, jobs=["j"])
    assert list(wire(nudge).items()) == [("origin", "a"), ("dispatch", False), ("jobs", ["j"])]
    resync = SchedulerNotice(origin="a", dispatch=True, resync=True)
    assert wire(resync) == {"origin": "a", "dispatch": True, "resync": True}
    assert wire(SchedulerNotice(origin="", revoked=["t"])) == {"origin": "", "revoked": ["t"]}


@pytest.mark.parametrize(
    "message",
    [
        {"type": "self-destruct", "run_id": "r"},
        {"type": "abort", "run_id": "r"},  # whose copy?
        {"type": "drain"},
        "cancel",
    ],
)
def test_a_control_message_not_shaped_like_one_is_not_obeyed(message: Any) -> None:
    assert control_or_none(message) is None
