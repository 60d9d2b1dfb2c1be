"""Job history on SQL: each saved version of a job in `job_versions`, written in the same
transaction as the job itself, so a job never changes without its version being kept."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hydra_jobs.errors import NotFound, job_not_found
from hydra_jobs.limits import STORED
from hydra_jobs.models import Job, JobChange, JobVersion, JobVersionSummary, Page
from hydra_jobs.store.base import ChangeBy
from hydra_jobs.store.sql.tables import job_versions, jobs
from hydra_jobs.store.sql.transactions import Runner

SUMMARY_COLUMNS = [c for c in job_versions.c if c.name != "spec"]


def version_row(job: Job, version: int, by: ChangeBy, default: JobChange) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "version": version,
        "domain": job.domain,
        "change": (by.change or default).value,
        "actor": by.actor[:200],
        "at": job.updated_at,
        "restored_from": by.restored_from,
        "spec": job.spec().model_dump(mode="json"),
    }


def add_version(c: Connection, job: Job, version: int, by: ChangeBy, default: JobChange) -> None:
    c.execute(job_versions.insert().values(**version_row(job, version, by, default)))


def bump_version(c: Connection, job: Job, row: dict[str, Any]) -> int | None:
    """Write the job's row with its version one higher; the new version, None if no such job.

    The UPDATE's own `version + 1` under its row lock orders concurrent replaces: each gets a
    version of its own."""
    where = (jobs.c.domain == job.domain, jobs.c.id == job.id)
    if c.execute(jobs.update().where(*where).values(**row, version=jobs.c.version + 1)).rowcount:
        return int(c.execute(sa.select(jobs.c.version).where(*where)).scalar_one())
    return None


class SqlJobVersions:
    runner: Runner

    async def list_job_versions(
        self, domain: str, job_id: str, *, limit: int, cursor: int | None
    ) -> Page[JobVersionSummary]:
        query = sa.select(*SUMMARY_COLUMNS).where(
            job_versions.c.domain == domain, job_versions.c.job_id == job_id
        )
        if cursor is not None:
            query = query.where(job_versions.c.version < cursor)
        query = query.order_by(job_versions.c.version.desc()).limit(limit + 1)
        exists = sa.select(jobs.c.id).where(jobs.c.domain == domain, jobs.c.id == job_id)

        def read(c: Connection) -> Page[JobVersionSummary]:
            if c.execute(exists).first() is None:
                raise job_not_found(job_id)
            rows = c.execute(query).fetchall()
            items = [JobVersionSummary.model_validate(dict(r._mapping)) for r in rows[:limit]]
            more = len(rows) > limit
            return Page[JobVersionSummary](
                items=items, next_cursor=str(items[-1].version) if more else None
            )

        return await self.runner.read(read)

    async def get_job_version(self, domain: str, job_id: str, version: int) -> JobVersion:
        query = job_versions.select().where(
            job_versions.c.domain == domain,
            job_versions.c.job_id == job_id,
            job_versions.c.version == version,
        )
        row = await self.runner.read(lambda c: c.execute(query).first())
        if row is None:
            raise NotFound(f"job '{job_id[:64]}' has no version {version}")
        return JobVersion.model_validate(dict(row._mapping), context=STORED)
