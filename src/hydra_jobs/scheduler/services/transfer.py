"""Export and import of a domain's jobs, so they can live in git and be applied idempotently.

An export is the specs as users write them (defaults left out, no ids, times or run state),
sorted by name, so export -> import -> export gives the same bytes. An import is planned first
(create, update with the changed fields, unchanged, delete with `prune`), and every spec is
validated before anything is written: a bad spec anywhere applies nothing. Writes then go job by
job through `JobService` (events, ticker wake-ups, a job history version marked `import`, the
same rules as the API's own calls); if the store fails part-way, running the same import again
finishes it.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, Field

from hydra_jobs.errors import InvalidInput, NotFound
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job, JobChange
from hydra_jobs.scheduler.services.jobs import JobService, Principal

log = logging.getLogger(__name__)

EXPORT_VERSION = 1
MAX_IMPORT_JOBS = 1000  # specs in one import
MAX_IMPORT_BYTES = 16 * 1024 * 1024  # bytes of an import's request body
LIST_PAGE = 500  # jobs read per store call while exporting or planning


class JobsExport(BaseModel):
    """A domain's jobs, as `GET /jobs/export` gives them and `POST /jobs/import` takes them."""

    version: Literal[1]
    domain: str
    jobs: list[JobSpec]


class ImportRequest(BaseModel):
    model_config = {"extra": "forbid"}

    jobs: list[JobSpec] = Field(max_length=MAX_IMPORT_JOBS)
    prune: bool = Field(default=False, description="Delete the domain's jobs not in `jobs`.")
    dry_run: bool = Field(default=True, description="Only plan; `false` applies the plan.")


class JobUpdate(BaseModel):
    name: str
    changes: list[str] = Field(description="Paths of the fields that change, e.g. `schedule.cron`.")


class ImportPlan(BaseModel):
    domain: str = Field(description="The domain the plan is for.")
    create: list[str] = Field(default_factory=list)
    update: list[JobUpdate] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    delete: list[str] = Field(default_factory=list)
    applied: bool = False


def exported(job: Job) -> dict[str, Any]:
    """A stored job's spec as a user writes it: the fields that differ from their defaults."""
    return job.spec().model_dump(mode="json", exclude_defaults=True)


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted paths at which two JSON values differ (a list that differs is one path)."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                paths.extend(changed_paths(old.get(key), new.get(key), f"{prefix}{key}."))
        return paths
    return [prefix.rstrip(".")] if old != new else []


def plan_import(
    domain: str, current: list[Job], specs: list[JobSpec], *, prune: bool
) -> ImportPlan:
    """What applying `specs` to `domain`, which holds `current`, does (pure)."""
    by_name = {job.name: job for job in current}
    plan = ImportPlan(domain=domain)
    for spec in sorted(specs, key=lambda s: s.name):
        job = by_name.get(spec.name)
        if job is None:
            plan.create.append(spec.name)
            continue
        old = job.spec().model_dump(mode="json")
        changes = changed_paths(old, spec.model_dump(mode="json"))
        if changes:
            plan.update.append(JobUpdate(name=spec.name, changes=changes))
        else:
            plan.unchanged.append(spec.name)
    if prune:
        wanted = {spec.name for spec in specs}
        plan.delete = sorted(name for name in by_name if name not in wanted)
    return plan


def check_unique(specs: list[JobSpec]) -> None:
    """A 422 naming the second of two specs with one name (which one wins would be a guess)."""
    first: dict[str, int] = {}
    for index, spec in enumerate(specs):
        if spec.name in first:
            raise InvalidInput(
                f"'{spec.name}' is also the name of jobs.{first[spec.name]}: names are unique",
                loc=("body", "jobs", index, "name"),
            )
        first[spec.name] = index


class TransferService:
    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs
        self.store = jobs.rt.store

    async def all_jobs(self, domain: str) -> list[Job]:
        found: list[Job] = []
        cursor: str | None = None
        while True:
            page = await self.store.list_jobs(domain, limit=LIST_PAGE, cursor=cursor)
            found.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                return found

    async def export(self, who: Principal) -> dict[str, Any]:
        if not await self.store.has_domain(who.domain):
            raise NotFound(f"domain '{who.domain}' not found")
        jobs = sorted(await self.all_jobs(who.domain), key=lambda j: j.name)
        return {
            "version": EXPORT_VERSION,
            "domain": who.domain,
            "jobs": [exported(job) for job in jobs],
        }

    async def import_jobs(self, who: Principal, request: ImportRequest) -> ImportPlan:
        check_unique(request.jobs)
        if not await self.store.has_domain(who.domain):
            raise NotFound(f"domain '{who.domain}' not found: create it first (admin)")
        current = await self.all_jobs(who.domain)
        plan = plan_import(who.domain, current, request.jobs, prune=request.prune)
        if request.dry_run:
            return plan
        by_name = {job.name: job for job in current}
        specs = {spec.name: spec for spec in request.jobs}
        for name in plan.create:
            await self.jobs.create(who, specs[name], JobChange.IMPORT)
        for update in plan.update:
            job_id = by_name[update.name].id
            await self.jobs.replace(who, job_id, specs[update.name], JobChange.IMPORT)
        for name in plan.delete:
            await self.jobs.delete(who, by_name[name].id)
        log.info(
            "imported jobs into %s: %d created, %d updated, %d deleted",
            who.domain,
            len(plan.create),
            len(plan.update),
            len(plan.delete),
            extra={"action": "jobs_imported", "domain": who.domain},
        )
        plan.applied = True
        return plan
