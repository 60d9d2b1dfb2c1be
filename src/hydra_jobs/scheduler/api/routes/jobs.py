"""Jobs: CRUD, validation, triggers, pause and resume."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from hydra_jobs.errors import TooLarge
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import (
    Job,
    JobVersion,
    JobVersionSummary,
    Page,
    RunBatch,
    RunBatchRequest,
    RunDetail,
    RunRequest,
    Trigger,
    ValidationReport,
)
from hydra_jobs.scheduler.api.deps import (
    CursorQuery,
    JobServiceDep,
    LimitQuery,
    PrincipalDep,
    RuntimeDep,
    StoreDep,
    needs,
)
from hydra_jobs.scheduler.services.jobs import jobs_with_waiting_reasons, validate_spec
from hydra_jobs.scheduler.services.transfer import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_JOBS,
    ImportPlan,
    ImportRequest,
    JobsExport,
    TransferService,
)
from hydra_jobs.tenancy import Role

router = APIRouter(prefix="/jobs", tags=["jobs"])
VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="A version number.")]
VersionCursor = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="`next_cursor` of the previous page.")
]
AUDITED_NAMES = 100  # names of an import's created, updated and deleted jobs kept in its record


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=Job, openapi_extra=needs(Role.editor)
)
async def create_job(spec: JobSpec, who: PrincipalDep, jobs: JobServiceDep) -> Job:
    return await jobs.create(who, spec)


@router.get("", response_model=Page[Job], openapi_extra=needs(Role.viewer))
async def list_jobs(
    who: PrincipalDep,
    store: StoreDep,
    rt: RuntimeDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[Job]:
    page = await store.list_jobs(who.domain, limit=limit, cursor=cursor, search=search)
    page.items = await jobs_with_waiting_reasons(rt, who, page.items)
    return page


@router.post("/validate", response_model=ValidationReport, openapi_extra=needs(Role.editor))
async def validate_job(
    who: PrincipalDep, rt: RuntimeDep, spec: Annotated[dict[str, Any], Body()]
) -> ValidationReport:
    """Check a JobSpec without saving it; always 200, with field errors and the next fires."""
    return validate_spec(spec, rt.clock.now())


@router.get("/export", response_model=JobsExport, openapi_extra=needs(Role.viewer))
async def export_jobs(who: PrincipalDep, jobs: JobServiceDep) -> Response:
    """The domain's jobs as specs (no ids, times or run state), sorted by name: the same jobs
    export the same bytes, so the file can live in git and go back through `POST /jobs/import`."""
    # Sent as built: revalidating with the newest input rules could refuse a job saved earlier.
    return JSONResponse(await TransferService(jobs).export(who))


async def _import_size(request: Request) -> None:
    if len(await request.body()) > MAX_IMPORT_BYTES:
        raise TooLarge(f"an import may be {MAX_IMPORT_BYTES // (1024 * 1024)} MiB: split it")


@router.post(
    "/import",
    response_model=ImportPlan,
    dependencies=[Depends(_import_size)],
    description=(
        f"Create, replace (by name) and with `prune` delete jobs so the domain holds `jobs` "
        f"(at most {MAX_IMPORT_JOBS:,}). Every spec is checked first: one bad spec applies "
        "nothing. `dry_run` (the default) only returns the plan."
    ),
    openapi_extra=needs(Role.editor),
)
async def import_jobs(
    body: ImportRequest, request: Request, who: PrincipalDep, jobs: JobServiceDep
) -> ImportPlan:
    plan = await TransferService(jobs).import_jobs(who, body)
    if body.dry_run:
        request.state.audit_skip = True  # a plan changes nothing, like /jobs/validate
    else:
        request.state.audit_details = {
            "prune": body.prune,
            "created": plan.create[:AUDITED_NAMES],
            "updated": [u.name for u in plan.update][:AUDITED_NAMES],
            "deleted": plan.delete[:AUDITED_NAMES],
        }
    return plan


@router.get("/{job_id}", response_model=Job, openapi_extra=needs(Role.viewer))
async def get_job(job_id: str, who: PrincipalDep, store: StoreDep, rt: RuntimeDep) -> Job:
    job = await store.get_job(who.domain, job_id)
    return (await jobs_with_waiting_reasons(rt, who, [job]))[0]


@router.put("/{job_id}", response_model=Job, openapi_extra=needs(Role.editor))
async def replace_job(job_id: str, spec: JobSpec, who: PrincipalDep, jobs: JobServiceDep) -> Job:
    return await jobs.replace(who, job_id, spec)


@router.delete(
    "/{job_id}", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=needs(Role.editor)
)
async def delete_job(job_id: str, who: PrincipalDep, jobs: JobServiceDep) -> Response:
    await jobs.delete(who, job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{job_id}/versions",
    response_model=Page[JobVersionSummary],
    openapi_extra=needs(Role.viewer),
)
async def list_job_versions(
    job_id: str,
    who: PrincipalDep,
    store: StoreDep,
    limit: LimitQuery = 50,
    cursor: VersionCursor = None,
) -> Page[JobVersionSummary]:
    """The job's history, newest first: who saved each version, when, and how (`create`,
    `update`, `restore`, `import`). A version's spec is at `/versions/{version}`."""
    return await store.list_job_versions(who.domain, job_id, limit=limit, cursor=cursor)


@router.get(
    "/{job_id}/versions/{version}", response_model=JobVersion, openapi_extra=needs(Role.viewer)
)
async def get_job_version(
    job_id: str, version: VersionPath, who: PrincipalDep, store: StoreDep
) -> JobVersion:
    """One version with its full spec (diff it with the version before)."""
    await store.get_job(who.domain, job_id, with_last_run=False)  # 404 for another domain's job
    return await store.get_job_version(who.domain, job_id, version)


@router.post(
    "/{job_id}/versions/{version}/restore",
    response_model=Job,
    openapi_extra=needs(Role.editor),
)
async def restore_job_version(
    job_id: str, version: VersionPath, who: PrincipalDep, jobs: JobServiceDep
) -> Job:
    """Make that version's spec the job's again (editor): this saves a new version (`restore`)."""
    return await jobs.restore(who, job_id, version)


@router.post(
    "/{job_id}/run",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunDetail,
    openapi_extra=needs(Role.operator),
)
async def trigger_job(
    job_id: str,
    who: PrincipalDep,
    jobs: JobServiceDep,
    body: Annotated[RunRequest | None, Body()] = None,
) -> RunDetail:
    request = body or RunRequest()
    run = await jobs.trigger(who, job_id, request.params, Trigger(request.trigger))
    return run.detail()


@router.post(
    "/{job_id}/runs/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunBatch,
    openapi_extra=needs(Role.operator),
)
async def trigger_job_batch(
    job_id: str, body: RunBatchRequest, who: PrincipalDep, jobs: JobServiceDep
) -> RunBatch:
    """Trigger up to 1,000 runs of one job at once, one per parameter set (a fan-out)."""
    runs = await jobs.trigger_many(
        who, job_id, [item.params for item in body.runs], Trigger(body.trigger)
    )
    return RunBatch(items=[r.summary() for r in runs])


@router.post("/{job_id}/pause", response_model=Job, openapi_extra=needs(Role.operator))
async def pause_job(job_id: str, who: PrincipalDep, jobs: JobServiceDep) -> Job:
    return await jobs.set_paused(who, job_id, True)


@router.post("/{job_id}/resume", response_model=Job, openapi_extra=needs(Role.operator))
async def resume_job(job_id: str, who: PrincipalDep, jobs: JobServiceDep) -> Job:
    return await jobs.set_paused(who, job_id, False)
