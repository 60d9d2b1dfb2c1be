"""Jobs, runs and workers for the contract tests.

Times carry microseconds: every store must give back exactly the time it was given.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hydra_jobs.ids import new_id
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job, Run, Trigger, Worker, WorkerStatus
from hydra_jobs.status import RunStatus

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_job(domain: str = "default", name: str | None = None, **spec: Any) -> Job:
    body: dict[str, Any] = {
        "name": name or f"job-{new_id()[-8:]}",
        "executor": {"type": "shell", "script": "echo hi"},
    }
    body.update(spec)
    js = JobSpec.model_validate(body)
    return Job(**js.model_dump(), id=new_id(), domain=domain, created_at=T0, updated_at=T0)


def make_run(
    job: Job,
    status: RunStatus = RunStatus.PENDING,
    *,
    created_at: datetime = T0,
    slot: datetime | None = None,
    **fields: Any,
) -> Run:
    data: dict[str, Any] = {
        "id": new_id(),
        "job_id": job.id,
        "job_name": job.name,
        "domain": job.domain,
        "queue": job.queue,
        "status": status,
        "trigger": Trigger.SCHEDULE if slot is not None else Trigger.API,
        "scheduled_for": slot,
        "created_at": created_at,
        "params": {},
        "spec": job.spec().model_dump(mode="json"),
    }
    data.update(fields)
    return Run.model_validate(data)


def make_worker(worker_id: str, domain: str = "default", **fields: Any) -> Worker:
    data: dict[str, Any] = {
        "id": worker_id,
        "domain": domain,
        "name": worker_id,
        "hostname": "host",
        "platform": "linux",
        "version": "0.1.0",
        "executors": ["shell"],
        "queues": ["default"],
        "concurrency": 4,
        "status": WorkerStatus.ONLINE,
        "started_at": T0,
        "last_heartbeat_at": T0,
    }
    data.update(fields)
    return Worker.model_validate(data)
