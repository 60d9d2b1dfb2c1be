"""Worker events that verify but are malformed are dropped, never raised (they would hold up
the batch, and every other domain's events read with it, forever)."""

from __future__ import annotations

from typing import Any

import pytest

from hydra_jobs.scheduler.loops.ingest import safe_op
from hydra_jobs.store.base import SetStatus, UpsertWorker

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


@pytest.mark.parametrize(
    "event",
    [
        {"type": "worker", "domain": "a", "worker": {"domain": "a"}},
        {"type": "started", "run_id": "r", "worker_id": "w"},
        {"type": "finished", "run_id": "r", "worker_id": "w", "status": "exploded", "at": AT},
        {"type": "output", "run_id": "r", "worker_id": "w", "offset": "x", "data": "d"},
        {"type": "started", "run_id": "r", "worker_id": "w", "at": "not a time"},
        {"type": "worker", "domain": "a", "worker": "not a dict"},
    ],
)
def test_malformed_events_become_nothing(event: dict[str, Any]) -> None:
    assert safe_op(event) is None


def test_well_formed_events_still_apply_and_new_worker_fields_are_ignored() -> None:
    started = safe_op({"type": "started", "run_id": "r", "worker_id": "w", "at": AT})
    assert isinstance(started, SetStatus) and started.run_id == "r"
    newer = safe_op({"type": "worker", "domain": "a", "worker": {**WORKER, "gpu": "yes"}})
    assert isinstance(newer, UpsertWorker) and newer.worker.id == "w1"
