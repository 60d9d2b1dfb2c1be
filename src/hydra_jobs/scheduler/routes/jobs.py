"""Jobs: CRUD, validation, triggers, pause and resume."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status

from hydra_jobs.models import (
    Job,
    JobSpec,
    Page,
    RunBatch,
    RunBatchRequest,
    RunDetail,
    RunRequest,
    Trigger,
    ValidationReport,
)
from hydra_jobs.scheduler.deps import (
    CursorQuery,
    JobServiceDep,
    LimitQuery,
    PrincipalDep,
    RuntimeDep,
    StoreDep,
)
from hydra_jobs.scheduler.services import validate_spec

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Job)
async def create_job(spec: JobSpec, who: PrincipalDep, jobs: JobServiceDep) -> Job:
    return await jobs.create(who, spec)


@router.get("", response_model=Page[Job])
async def list_jobs(
    who: PrincipalDep,
    store: StoreDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[Job]:
    return await store.list_jobs(who.domain, limit=limit, cursor=cursor, search=search)


@router.post("/validate", response_model=ValidationReport)
async def validate_job(
    who: PrincipalDep, rt: RuntimeDep, spec: Annotated[dict[str, Any], Body()]
) -> ValidationReport:
    """Check a JobSpec without saving it; always 200, with field errors and the next fires."""
    return validate_spec(spec, rt.clock.now())


@router.get("/{job_id}", response_model=Job)
async def get_job(job_id: str, who: PrincipalDep, store: StoreDep) -> Job:
    return await store.get_job(who.domain, job_id)


@router.put("/{job_id}", response_model=Job)
async def replace_job(job_id: str, spec: JobSpec, who: PrincipalDep, jobs: JobServiceDep) -> Job:
    return await jobs.replace(who, job_id, spec)


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_job(job_id: str, who: PrincipalDep, jobs: JobServiceDep) -> Response:
    await jobs.delete(who, job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{job_id}/run", status_code=status.HTTP_202_ACCEPTED, response_model=RunDetail)
async def trigger_job(
    job_id: str,
    who: PrincipalDep,
    jobs: JobServiceDep,
    body: Annotated[RunRequest | None, Body()] = None,
) -> RunDetail:
    request = body or RunRequest()
    run = await jobs.trigger(who, job_id, request.params, Trigger(request.trigger))
    return run.detail()


@router.post("/{job_id}/runs/batch", status_code=status.HTTP_202_ACCEPTED, response_model=RunBatch)
async def trigger_job_batch(
    job_id: str, body: RunBatchRequest, who: PrincipalDep, jobs: JobServiceDep
) -> RunBatch:
    """Trigger up to 1,000 runs of one job at once, one per parameter set (a fan-out)."""
    runs = await jobs.trigger_many(
        who, job_id, [item.params for item in body.runs], Trigger(body.trigger)
    )
    return RunBatch(items=[r.summary() for r in runs])


@router.post("/{job_id}/pause", response_model=Job)
async def pause_job(job_id: str, who: PrincipalDep, jobs: JobServiceDep) -> Job:
    return await jobs.set_paused(who, job_id, True)


@router.post("/{job_id}/resume", response_model=Job)
async def resume_job(job_id: str, who: PrincipalDep, jobs: JobServiceDep) -> Job:
    return await jobs.set_paused(who, job_id, False)
