"""Job and worker use cases behind the API. Routes parse and shape; the decisions live here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hydra_jobs.errors import Conflict, Forbidden, InvalidInput, NotFound
from hydra_jobs.events import Drain
from hydra_jobs.field_hints import in_words, with_hint
from hydra_jobs.ids import new_id
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job, JobChange, Run, RunDetail, Trigger, ValidationReport, Worker
from hydra_jobs.notify.service import check_channels
from hydra_jobs.routing import waiting_reason
from hydra_jobs.schedule import ScheduleError, next_interval_fire
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services import shared_worker
from hydra_jobs.scheduler.services.runs import new_run, resolve_params, submit_runs
from hydra_jobs.status import WAITING
from hydra_jobs.store.base import ChangeBy
from hydra_jobs.tenancy import Role

log = logging.getLogger(__name__)

PREVIEW_FIRES = 5


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and which domain every query of theirs is scoped to."""

    domain: str
    actor: str
    is_admin: bool = False
    token_id: str | None = None
    role: Role = Role.owner  # the admin's is owner (and more: `is_admin`)


def next_fires(spec: JobSpec, now: datetime, count: int = PREVIEW_FIRES) -> list[datetime]:
    schedule = spec.schedule
    if schedule is None:
        return []
    if schedule.kind == "cron":
        cron = schedule.cron_schedule()
        assert cron is not None
        fires: list[datetime] = []
        t = now
        for _ in range(count):
            t = cron.next_after(t)
            fires.append(t)
        return fires
    if schedule.kind == "interval":
        interval = schedule.every_seconds() or 0.0
        out, t = [], now
        for _ in range(count):
            t = next_interval_fire(now, interval, t)
            out.append(t)
        return out
    at = schedule.at_utc()
    return [at] if at is not None and at > now else []


def validate_spec(raw: Any, now: datetime) -> ValidationReport:
    """Check a spec without saving it; errors use the same shape as a 422."""
    try:
        spec = JobSpec.model_validate(raw)
    except ValidationError as exc:
        found = exc.errors(include_url=False, include_input=False)
        hinted = [in_words(with_hint(dict(e), JobSpec)) for e in found]
        errors = [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in hinted]
        return ValidationReport(valid=False, errors=errors)
    try:
        fires = next_fires(spec, now)
    except ScheduleError as exc:
        return ValidationReport(
            valid=False,
            errors=[{"loc": ["body", "schedule"], "msg": str(exc), "type": "value_error"}],
        )
    return ValidationReport(valid=True, next_fires=fires)


class JobService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def create(
        self, who: Principal, spec: JobSpec, change: JobChange = JobChange.CREATE
    ) -> Job:
        if not await self.rt.store.has_domain(who.domain):
            raise NotFound(f"domain '{who.domain}' not found: create it first (admin)")
        await check_channels(self.rt.store, who.domain, spec.notify, at="notify")
        now = self.rt.clock.now()
        fires = next_fires(spec, now, 1)
        job = Job(
            **spec.model_dump(),
            id=new_id(),
            domain=who.domain,
            created_at=now,
            updated_at=now,
            next_fire_at=fires[0] if fires else None,
        )
        await self.rt.store.create_job(job, ChangeBy(who.actor, change))
        await self._changed(job)
        return job

    async def replace(
        self,
        who: Principal,
        job_id: str,
        spec: JobSpec,
        change: JobChange = JobChange.UPDATE,
        restored_from: int | None = None,
    ) -> Job:
        current = await self.rt.store.get_job(who.domain, job_id)
        await check_channels(self.rt.store, who.domain, spec.notify, at="notify")
        if change is JobChange.UPDATE and _same_spec(current, spec):
            return current  # a resubmitted file: no version that "changed nothing", no reschedule
        now = self.rt.clock.now()
        fires = next_fires(spec, now, 1)
        job = Job(
            **spec.model_dump(),
            id=current.id,
            domain=current.domain,
            paused=current.paused,
            created_at=current.created_at,
            updated_at=now,
            next_fire_at=fires[0] if fires else None,
        )
        by = ChangeBy(who.actor, change, restored_from)
        job.version = await self.rt.store.replace_job(job, by)
        await self._changed(job)
        return job

    async def restore(self, who: Principal, job_id: str, version: int) -> Job:
        """Make an earlier version the job's spec again: a new version, `restore` from it."""
        old = await self.rt.store.get_job_version(who.domain, job_id, version)
        return await self.replace(who, job_id, old.spec, JobChange.RESTORE, restored_from=version)

    async def delete(self, who: Principal, job_id: str) -> None:
        await self.rt.store.delete_job(who.domain, job_id)
        self.rt.job_changed(job_id)
        await self.rt.publish_job(None, domain=who.domain, job_id=job_id)

    async def set_paused(self, who: Principal, job_id: str, paused: bool) -> Job:
        job = await self.rt.store.set_job_fields(
            who.domain, job_id, paused=paused, updated_at=self.rt.clock.now()
        )
        await self._changed(job)
        return job

    async def trigger(
        self, who: Principal, job_id: str, params: dict[str, str], trigger: Trigger
    ) -> Run:
        return (await self.trigger_many(who, job_id, [params], trigger))[0]

    async def trigger_many(
        self, who: Principal, job_id: str, params: list[dict[str, str]], trigger: Trigger
    ) -> list[Run]:
        """Runs of one job, one per parameter set, stored in one transaction.

        Every parameter set is checked before anything is stored: one bad set fails them all.
        """
        job = await self.rt.store.get_job(who.domain, job_id, with_last_run=False)
        if not job.enabled:
            raise Conflict(f"job '{job.name}' is disabled; enable it to run it")
        now = self.rt.clock.now()
        resolved = []
        for index, given in enumerate(params):
            try:
                resolved.append(resolve_params(job, given))
            except InvalidInput as exc:
                loc = exc.loc if len(params) == 1 else ("body", "runs", index, *exc.loc[1:])
                raise InvalidInput(exc.message, loc=loc) from None
        spec = job.spec().model_dump(mode="json")
        runs = [new_run(job, trigger=trigger, params=p, now=now, spec=spec) for p in resolved]
        self.rt.admit(job.domain, len(runs))
        return await submit_runs(self.rt, runs)

    async def _changed(self, job: Job) -> None:
        self.rt.job_changed(job.id)
        await self.rt.publish_job(job, domain=job.domain, job_id=job.id)


async def get_run_scoped(rt: Runtime, who: Principal, run_id: str) -> Run:
    return await rt.store.get_run(who.domain, run_id)


async def visible_workers(rt: Runtime, who: Principal) -> list[Worker]:
    """The caller's domain's workers, and `up`'s embedded worker, which serves every domain:
    each domain sees it, with only its own runs (`shared_worker.py`)."""
    own = await rt.store.list_workers(who.domain)
    if rt.shared_worker is None:
        return own
    home, shared_id = rt.shared_worker
    try:
        shared = await rt.store.get_worker(home, shared_id)
    except NotFound:
        return own  # it has not reported yet
    mine = shared_worker.view(shared, await shared_worker.run_domains(rt, shared), who.domain)
    return sorted([w for w in own if w.id != shared_id] + [mine], key=lambda w: w.id)


async def jobs_with_waiting_reasons(rt: Runtime, who: Principal, jobs: list[Job]) -> list[Job]:
    """Each job with why a run of it could not start now (routing.waiting_reason), if so."""
    if not jobs:
        return jobs
    workers = await visible_workers(rt, who)
    return [
        job.model_copy(
            update={"waiting_reason": waiting_reason(who.domain, job.queue, job.requires, workers)}
        )
        for job in jobs
    ]


async def run_detail(rt: Runtime, who: Principal, run: Run) -> RunDetail:
    """`GET /runs/{id}`: a run that waits says why, when no online worker could take it."""
    detail = run.detail()
    if run.status in WAITING:
        requires = run.spec.get("requires") if isinstance(run.spec, dict) else None
        workers = await visible_workers(rt, who)
        detail.waiting_reason = waiting_reason(run.domain, run.queue, requires, workers)
    return detail


async def drain_worker(rt: Runtime, who: Principal, worker_id: str) -> None:
    if rt.shared_worker is not None and shared_worker.is_shared(rt, worker_id):
        # Every domain's runs stop when it drains: no single domain may decide that.
        if not who.is_admin:
            raise Forbidden("the embedded worker serves every domain: only the admin may drain it")
        home = rt.shared_worker[0]
    else:
        home = who.domain
        await rt.store.get_worker(home, worker_id)  # 404 unless it is in the caller's domain
    await rt.broker.send_control(home, Drain(worker_id=worker_id))


def _same_spec(job: Job, spec: JobSpec) -> bool:
    return job.spec().model_dump(mode="json") == spec.model_dump(mode="json")
