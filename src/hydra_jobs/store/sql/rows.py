"""Rows of the SQL store: how jobs and runs map to table rows and back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hydra_jobs.limits import STORED
from hydra_jobs.models import Job, Page, Run
from hydra_jobs.store.base import slot_key
from hydra_jobs.store.encoding import job_record

JOB_META = ("id", "domain", "paused", "created_at", "updated_at", "next_fire_at")


def job_row(job: Job) -> dict[str, Any]:
    return job_record(job)


def job_from(row: sa.Row[Any]) -> Job:
    m = row._mapping
    data = dict(m["spec"])
    data.update({k: m[k] for k in JOB_META})
    return Job.model_validate(data, context=STORED)


def run_row(run: Run) -> dict[str, Any]:
    data = run.model_dump(mode="python")
    data["status"] = run.status.value
    data["trigger"] = run.trigger.value
    data["slot_key"] = slot_key(run)
    return data


def run_from(row: sa.Row[Any]) -> Run:
    return run_from_values(dict(row._mapping))


def run_from_values(data: dict[str, Any]) -> Run:
    """A run from its row as {column: value} (consumed)."""
    data.pop("slot_key", None)
    return Run.model_validate(data)


def page_of_runs(rows: Sequence[sa.Row[Any]], limit: int) -> Page[Run]:
    items = [run_from(r) for r in rows[:limit]]
    return Page[Run](items=items, next_cursor=items[-1].id if len(rows) > limit else None)
