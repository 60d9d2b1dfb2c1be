"""The SQL store (SQLAlchemy 2 Core): SQLite by default, PostgreSQL through the same code.

Every method is a sync function over one `Connection`, handed to a runner (`transactions`) that runs
it as one transaction (SQLite: inline on the event loop, heavy reads in a thread; PostgreSQL: on
asyncpg). Batches from ingest and the dispatcher are therefore one transaction however many
statements they hold. Rows are shaped in `rows`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hydra_jobs.errors import Conflict, NotFound, job_not_found
from hydra_jobs.models import Job, JobChange, Page, Run
from hydra_jobs.status import RunStatus, SetStatus
from hydra_jobs.store.base import (
    SYSTEM,
    AppendLog,
    ChangeBy,
    Op,
    RunFilter,
    UpsertWorker,
)
from hydra_jobs.store.encoding import (
    ACTIVE_VALUES,
)
from hydra_jobs.store.sql.notify import SqlNotify
from hydra_jobs.store.sql.reports import SqlReports
from hydra_jobs.store.sql.rows import (
    job_from,
    job_row,
    page_of_runs,
    run_from,
    run_from_values,
    run_row,
)
from hydra_jobs.store.sql.sqlite_cursor import ChangeThenRead, DirectStatement
from hydra_jobs.store.sql.statements import (
    DUE_PENDING,
    INSERT_RUNS,
    JOB_BY_ID,
    LOG_GUARD,
    NEXT_PENDING_TIME,
    RUN_BY_ID,
    RUN_IN_DOMAIN,
    log_chunk_insert,
    log_size_update,
)
from hydra_jobs.store.sql.tables import (
    SCHEDULED,
    as_utc,
    job_versions,
    jobs,
    runs,
    workers,
)
from hydra_jobs.store.sql.tenancy import SqlTenancy
from hydra_jobs.store.sql.transactions import SqliteRunner, make_runner, run_migrations
from hydra_jobs.store.sql.versions import SqlJobVersions, add_version, bump_version

log = logging.getLogger(__name__)


class SqlStore(SqlTenancy, SqlNotify, SqlJobVersions, SqlReports):
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.runner = make_runner(url, echo)
        self.is_sqlite = self.runner.dialect == "sqlite"
        self._status_statements: dict[tuple[Any, ...], tuple[Any, ChangeThenRead | None]] = {}
        self._read_run: DirectStatement | None = None  # SQLite: a run by id, on the driver
        if isinstance(self.runner, SqliteRunner):
            read = runs.select().where(runs.c.id == sa.bindparam("p_id"))
            self._read_run = DirectStatement(read, list(runs.c), self.runner.engine.dialect)
        self._log_insert = log_chunk_insert(self._insert_ignore)
        grow = sa.func.max if self.is_sqlite else sa.func.greatest
        self._log_grow = {t: log_size_update(grow, truncated=t) for t in (False, True)}

    async def open(self) -> None:
        await self.runner.write(run_migrations)

    async def close(self) -> None:
        await self.runner.close()

    async def ping(self) -> None:
        await self.runner.read(lambda c: c.execute(sa.text("SELECT 1")).scalar())

    def _dialect_insert(self, table: sa.Table) -> Any:
        """An INSERT that knows ON CONFLICT (both dialects spell it the same way)."""
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table)
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)

    def _insert_ignore(self, table: sa.Table, keys: list[str]) -> Any:
        return self._dialect_insert(table).on_conflict_do_nothing(index_elements=keys)

    # jobs ------------------------------------------------------------------------------------

    async def create_job(self, job: Job, by: ChangeBy = SYSTEM) -> None:
        def create(c: Connection) -> None:
            c.execute(jobs.insert().values(**job_row(job)))
            add_version(c, job, job.version, by, JobChange.CREATE)

        try:
            await self.runner.write(create)
        except IntegrityError as exc:
            raise Conflict(f"a job named '{job.name}' already exists in this domain") from exc

    async def get_job(self, domain: str, job_id: str, *, with_last_run: bool = True) -> Job:
        def query(c: Connection) -> Job:
            row = c.execute(JOB_BY_ID, {"domain": domain, "job_id": job_id}).first()
            if row is None:
                raise job_not_found(job_id)
            job = job_from(row)
            return self._with_last_runs(c, domain, [job])[0] if with_last_run else job

        return await self.runner.read(query)

    @staticmethod
    def _with_last_runs(c: Connection, domain: str, items: list[Job]) -> list[Job]:
        """Attach each job's newest run: one query, one index probe per job.

        A correlated `ORDER BY id DESC LIMIT 1` per job reads one entry of (domain, job_id, id)
        however many runs a job has; `max(id) ... GROUP BY job_id` read them all (88 ms for a
        page of 50 jobs with 200,000 runs on PostgreSQL).
        """
        if not items:
            return items
        inner = runs.alias("newest")
        newest = (
            sa.select(inner.c.id)
            .where(inner.c.domain == domain, inner.c.job_id == jobs.c.id)
            .order_by(inner.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        newest_ids = sa.select(newest).where(jobs.c.id.in_([j.id for j in items]))
        query = sa.select(runs.c.job_id, runs.c.id, runs.c.status, runs.c.created_at).where(
            runs.c.id.in_(newest_ids)
        )
        last = {r.job_id: r for r in c.execute(query).fetchall()}
        return [
            j.model_copy(
                update={
                    "last_run_id": r.id,
                    "last_run_status": RunStatus(r.status),
                    "last_run_at": r.created_at,
                }
            )
            if (r := last.get(j.id)) is not None
            else j
            for j in items
        ]

    async def list_jobs(
        self, domain: str, *, limit: int, cursor: str | None, search: str | None = None
    ) -> Page[Job]:
        query = jobs.select().where(jobs.c.domain == domain)
        if search:
            query = query.where(jobs.c.name.icontains(search, autoescape=True))
        if cursor:
            query = query.where(jobs.c.id < cursor)
        query = query.order_by(jobs.c.id.desc()).limit(limit + 1)

        def run(c: Connection) -> Page[Job]:
            rows = c.execute(query).fetchall()
            items = self._with_last_runs(c, domain, [job_from(r) for r in rows[:limit]])
            return Page[Job](items=items, next_cursor=items[-1].id if len(rows) > limit else None)

        return await self.runner.read(run)

    async def replace_job(self, job: Job, by: ChangeBy = SYSTEM) -> int:
        row = job_row(job)
        row.pop("created_at")
        row.pop("version")

        def replace(c: Connection) -> int | None:
            version = bump_version(c, job, row)
            if version is not None:
                add_version(c, job, version, by, JobChange.UPDATE)
            return version

        try:
            version = await self.runner.write(replace)
        except IntegrityError as exc:
            raise Conflict(f"a job named '{job.name}' already exists in this domain") from exc
        if version is None:
            raise job_not_found(job.id)
        return version

    async def delete_job(self, domain: str, job_id: str) -> None:
        stmt = jobs.delete().where(jobs.c.domain == domain, jobs.c.id == job_id)
        history = job_versions.delete().where(
            job_versions.c.domain == domain, job_versions.c.job_id == job_id
        )

        def delete(c: Connection) -> int:
            count = int(c.execute(stmt).rowcount)
            if count:
                c.execute(history)
            return count

        if await self.runner.write(delete) == 0:
            raise job_not_found(job_id)

    async def set_job_fields(self, domain: str, job_id: str, **fields: Any) -> Job:
        stmt = jobs.update().where(jobs.c.domain == domain, jobs.c.id == job_id).values(**fields)
        if await self.runner.write(lambda c: c.execute(stmt).rowcount) == 0:
            raise job_not_found(job_id)
        return await self.get_job(domain, job_id)

    async def schedulable_jobs(self) -> list[Job]:
        query = jobs.select().where(jobs.c.has_schedule)
        return await self.runner.read(lambda c: [job_from(r) for r in c.execute(query)])

    async def job_retention_days(self) -> dict[str, int]:
        query = sa.select(jobs.c.id, jobs.c.retention_days).where(
            jobs.c.retention_days.is_not(None)
        )
        return await self.runner.read(lambda c: {r[0]: int(r[1]) for r in c.execute(query)})

    # runs ------------------------------------------------------------------------------------

    async def insert_runs(self, new_runs: Sequence[Run]) -> list[Run]:
        """Insert runs; a scheduled slot that already has a run is skipped, not an error."""
        if not new_runs:
            return []
        rows = [run_row(r) for r in new_runs]

        if all(r["slot_key"] is None for r in rows):
            # Fresh ids only: the triggers of concurrent requests can share a commit.
            await self.runner.write_grouped(lambda c: c.execute(INSERT_RUNS, rows))
            return list(new_runs)

        def insert_slots(c: Connection) -> list[Run]:
            # One multi-row INSERT; a slot that already has a run returns no id.
            stmt = self._insert_ignore(runs, ["slot_key"]).returning(runs.c.id)
            stored = set(c.execute(stmt, rows).scalars())
            return [run for run in new_runs if run.id in stored]

        return await self.runner.write(insert_slots)

    async def get_run(self, domain: str, run_id: str) -> Run:
        params = {"domain": domain, "run_id": run_id}
        row = await self.runner.read(lambda c: c.execute(RUN_IN_DOMAIN, params).first())
        if row is None:
            raise NotFound(f"run '{run_id}' not found")
        return run_from(row)

    async def find_run(self, run_id: str) -> Run | None:
        row = await self.runner.read(lambda c: c.execute(RUN_BY_ID, {"run_id": run_id}).first())
        return run_from(row) if row is not None else None

    async def list_runs(
        self, domain: str, flt: RunFilter, *, limit: int, cursor: str | None
    ) -> Page[Run]:
        conditions = [runs.c.domain == domain]
        if flt.job_id:
            conditions.append(runs.c.job_id == flt.job_id)
        if flt.status:
            conditions.append(runs.c.status.in_([s.value for s in flt.status]))
        if flt.worker_id:
            conditions.append(runs.c.worker_id == flt.worker_id)
        if flt.since:
            conditions.append(runs.c.created_at >= flt.since)
        if flt.until:
            conditions.append(runs.c.created_at < flt.until)
        if cursor:
            conditions.append(runs.c.id < cursor)
        # Ids first, from an index alone, then only their rows: a time window read thousands of
        # whole rows to sort them (20 ms for a day of 200,000 runs on SQLite; 1.4 ms this way).
        page_ids = (
            sa.select(runs.c.id).where(*conditions).order_by(runs.c.id.desc()).limit(limit + 1)
        )
        query = runs.select().where(runs.c.id.in_(page_ids)).order_by(runs.c.id.desc())
        return await self.runner.read(lambda c: page_of_runs(c.execute(query).fetchall(), limit))

    async def runs_with_status(
        self, statuses: Collection[RunStatus], *, job_id: str | None = None, limit: int = 10_000
    ) -> list[Run]:
        query = runs.select().where(runs.c.status.in_([s.value for s in statuses]))
        if job_id:
            query = query.where(runs.c.job_id == job_id)
        query = query.order_by(runs.c.id).limit(limit)
        return await self.runner.read(lambda c: [run_from(r) for r in c.execute(query)])

    async def due_pending(
        self, now: datetime, limit: int, *, exclude_jobs: Collection[str] = ()
    ) -> list[Run]:
        query = DUE_PENDING
        if exclude_jobs:
            query = query.where(runs.c.job_id.not_in(list(exclude_jobs)))
        params = {"now": now, "limit": limit}
        return await self.runner.read(lambda c: [run_from(r) for r in c.execute(query, params)])

    async def next_pending_time(self, after: datetime) -> datetime | None:
        """The earliest `not_before` still in the future: when the dispatcher must wake."""
        params = {"after": after}
        return as_utc(
            await self.runner.read(lambda c: c.execute(NEXT_PENDING_TIME, params).scalar())
        )

    async def active_counts(self, job_ids: Collection[str]) -> dict[str, int]:
        if not job_ids:
            return {}
        query = (
            sa.select(runs.c.job_id, sa.func.count())
            .where(
                runs.c.job_id.in_(list(job_ids)),
                runs.c.status.in_(ACTIVE_VALUES),
            )
            .group_by(runs.c.job_id)
        )
        return await self.runner.read(lambda c: {r[0]: int(r[1]) for r in c.execute(query)})

    async def last_scheduled_slot(self, job_id: str) -> datetime | None:
        # Spelled to match the partial index ix_runs_job_slot: one entry read, not every run.
        query = (
            sa.select(runs.c.scheduled_for)
            .where(runs.c.job_id == job_id, SCHEDULED, runs.c.scheduled_for.is_not(None))
            .order_by(runs.c.scheduled_for.desc())
            .limit(1)
        )
        return as_utc(await self.runner.read(lambda c: c.execute(query).scalar()))

    async def set_status(self, op: SetStatus) -> Run | None:
        value = (await self.apply([op]))[0]
        return value if isinstance(value, Run) else None

    async def apply(self, ops: Sequence[Op]) -> list[Run | bool]:
        """Apply a batch of event writes in one transaction; each op reports its own outcome."""

        def run(c: Connection) -> list[Run | bool]:
            results: list[Run | bool] = []
            for op in ops:
                if isinstance(op, SetStatus):
                    results.append(self._apply_status(c, op))
                elif isinstance(op, AppendLog):
                    results.append(self._apply_log(c, op))
                else:
                    results.append(self._apply_worker(c, op))
            return results

        return await self.runner.write(run)

    def _apply_status(self, c: Connection, op: SetStatus) -> Run | bool:
        params = {f"v_{k}": v for k, v in op.fields.items()}
        params.update(p_id=op.run_id, p_status=op.status.value, p_worker=op.worker_id)
        stmt, direct = self._status_statement(op)
        if direct is not None:
            values = direct.first(c, params)
            return run_from_values(values) if values is not None else False
        row = c.execute(stmt, params).first()
        return run_from(row) if row is not None else False

    def _status_statement(self, op: SetStatus) -> tuple[Any, ChangeThenRead | None]:
        """One prepared compare-and-set UPDATE per shape of transition, reused for every run.

        Elsewhere it is an `UPDATE ... RETURNING`; on SQLite the UPDATE and a read of the row by
        id, both on the driver's cursor (`sqlite_cursor`). Building and cache-keying a fresh
        statement per event was most of ingest's CPU time.
        """
        shape = (tuple(sorted(op.fields)), op.expected, op.worker_id is not None)
        prepared = self._status_statements.get(shape)
        if prepared is None:
            # `=` terms, not an IN list: that would be expanded at every execution.
            expected = sorted(s.value for s in op.expected)
            stmt = runs.update().where(
                runs.c.id == sa.bindparam("p_id"),
                sa.or_(*(runs.c.status == value for value in expected)),
            )
            if op.worker_id is not None:
                stmt = stmt.where(runs.c.worker_id == sa.bindparam("p_worker"))
            values: dict[str, Any] = {"status": sa.bindparam("p_status")}
            values.update({k: sa.bindparam(f"v_{k}", type_=runs.c[k].type) for k in op.fields})
            stmt = stmt.values(**values)
            direct = None
            if isinstance(self.runner, SqliteRunner) and self._read_run is not None:
                change = DirectStatement(stmt, [], self.runner.engine.dialect)
                direct = ChangeThenRead(change, self._read_run)
            prepared = self._status_statements[shape] = (stmt.returning(*runs.c), direct)
        return prepared

    def _apply_log(self, c: Connection, op: AppendLog) -> bool:
        current = c.execute(LOG_GUARD, {"run_id": op.run_id}).first()
        if current is None or current.status == RunStatus.LOST.value:
            return False
        if op.worker_id is not None and current.worker_id != op.worker_id:
            return False
        if op.data:
            chunk = {"run_id": op.run_id, "offset": op.offset, "length": len(op.data)}
            c.execute(self._log_insert, {**chunk, "data": op.data})
        end = op.offset + len(op.data)
        c.execute(self._log_grow[op.truncated], {"run_id": op.run_id, "end": end})
        return True

    def _apply_worker(self, c: Connection, op: UpsertWorker) -> bool:
        w = op.worker
        row = {
            "id": w.id,
            "domain": w.domain,
            "info": w.model_dump(mode="json"),
            "status": w.status.value,
            "last_heartbeat_at": w.last_heartbeat_at,
        }
        # One atomic upsert: replicas ingesting the same worker's first heartbeat must not collide.
        # A worker id of another domain is left alone: a domain cannot take another's worker.
        stmt = self._dialect_insert(workers).values(**row)
        mine = workers.c.domain == w.domain
        c.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=row, where=mine))
        return True
