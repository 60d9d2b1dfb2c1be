"""The SQL store on SQLAlchemy 2 Core (async): SQLite by default, PostgreSQL through the same code.

SQLite runs in WAL mode with one writer at a time (an asyncio lock, so writers queue in the event
loop instead of spinning on `database is locked`). Batches from ingest are one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hydra_jobs.clock import utcnow
from hydra_jobs.errors import Conflict, NotFound
from hydra_jobs.models import TERMINAL, Job, LogPage, Page, Run, RunStatus, Stats, Worker
from hydra_jobs.store.base import AppendLog, AuditRecord, Op, RunFilter, SetStatus, UpsertWorker
from hydra_jobs.store.stats import build_stats
from hydra_jobs.store.schema import audit, domains, jobs, log_chunks, runs, workers

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
STATS_MAX_ROWS = 500_000
FAILED_STATUSES = ("failed", "timed_out", "lost")
RUN_JSON_FIELDS = ("params", "resource_usage", "spec")
JOB_META = ("id", "domain", "paused", "created_at", "updated_at", "next_fire_at")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _run_migrations(conn: Connection) -> None:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.runtime.environment import EnvironmentContext

    location = str(resources.files("hydra_jobs.store") / "migrations")
    config = Config()
    config.set_main_option("script_location", location)
    config.attributes["connection"] = conn
    script = ScriptDirectory.from_config(config)
    current = MigrationContext.configure(conn).get_current_revision()
    if current == script.get_current_head():
        return

    def upgrade(rev: Any, context: Any) -> Any:
        return script._upgrade_revs("head", rev)

    with EnvironmentContext(config, script, fn=upgrade, destination_rev="head"):
        script.run_env()


def _job_row(job: Job) -> dict[str, Any]:
    spec = job.spec().model_dump(mode="json")
    return {
        "id": job.id,
        "domain": job.domain,
        "name": job.name,
        "spec": spec,
        "paused": job.paused,
        "has_schedule": job.schedule is not None,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "next_fire_at": job.next_fire_at,
    }


def _job_from(row: sa.Row[Any]) -> Job:
    m = row._mapping
    data = dict(m["spec"])
    data.update({k: m[k] for k in JOB_META})
    return Job.model_validate(data)


def _run_row(run: Run) -> dict[str, Any]:
    data = run.model_dump(mode="python")
    data["spec"] = run.spec.model_dump(mode="json")
    data["status"] = run.status.value
    data["trigger"] = run.trigger.value
    data["slot_key"] = (
        f"{run.job_id}@{run.scheduled_for.isoformat()}"
        if run.scheduled_for is not None and run.trigger == "schedule"
        else None
    )
    return data


def _run_from(row: sa.Row[Any]) -> Run:
    data = dict(row._mapping)
    data.pop("slot_key", None)
    return Run.model_validate(data)


class SqlStore:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = self._make_engine(url, echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock()

    @staticmethod
    def _make_engine(url: str, echo: bool) -> AsyncEngine:
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(url, echo=echo, pool_size=4, max_overflow=4)
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            return engine
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10)

    async def open(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_migrations)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        if self.is_sqlite:
            async with self._write_lock, self.engine.begin() as conn:
                yield conn
        else:
            async with self.engine.begin() as conn:
                yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    def _insert_ignore(self, table: sa.Table, keys: list[str]) -> Any:
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=keys)

    # domains ---------------------------------------------------------------------------------

    async def ensure_domain(self, name: str) -> None:
        async with self._write() as conn:
            stmt = self._insert_ignore(domains, ["name"]).values(name=name, created_at=utcnow())
            await conn.execute(stmt)

    # jobs ------------------------------------------------------------------------------------

    async def create_job(self, job: Job) -> None:
        try:
            async with self._write() as conn:
                await conn.execute(jobs.insert().values(**_job_row(job)))
        except IntegrityError as exc:
            raise Conflict(f"a job named '{job.name}' already exists in this domain") from exc

    async def get_job(self, domain: str, job_id: str) -> Job:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    jobs.select().where(jobs.c.domain == domain, jobs.c.id == job_id)
                )
            ).first()
            if row is None:
                raise NotFound(f"job '{job_id}' not found")
            return (await self._with_last_runs(conn, domain, [_job_from(row)]))[0]

    async def _with_last_runs(self, conn: AsyncConnection, domain: str, items: list[Job]
                              ) -> list[Job]:
        """Attach each job's newest run (one query for the whole page)."""
        if not items:
            return items
        newest = (
            sa.select(sa.func.max(runs.c.id))
            .where(runs.c.domain == domain, runs.c.job_id.in_([j.id for j in items]))
            .group_by(runs.c.job_id)
        )
        query = sa.select(runs.c.job_id, runs.c.id, runs.c.status, runs.c.created_at).where(
            runs.c.id.in_(newest)
        )
        last = {r.job_id: r for r in (await conn.execute(query)).fetchall()}
        return [
            j.model_copy(update={"last_run_id": r.id, "last_run_status": RunStatus(r.status),
                                 "last_run_at": r.created_at})
            if (r := last.get(j.id)) is not None
            else j
            for j in items
        ]

    async def list_jobs(
        self, domain: str, *, limit: int, cursor: str | None, search: str | None = None
    ) -> Page[Job]:
        query = jobs.select().where(jobs.c.domain == domain)
        if search:
            query = query.where(jobs.c.name.contains(search, autoescape=True))
        if cursor:
            query = query.where(jobs.c.id < cursor)
        query = query.order_by(jobs.c.id.desc()).limit(limit + 1)
        async with self._read() as conn:
            rows = (await conn.execute(query)).fetchall()
            items = await self._with_last_runs(conn, domain, [_job_from(r) for r in rows[:limit]])
        return Page[Job](items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    async def replace_job(self, job: Job) -> None:
        row = _job_row(job)
        row.pop("created_at")
        try:
            async with self._write() as conn:
                result = await conn.execute(
                    jobs.update()
                    .where(jobs.c.domain == job.domain, jobs.c.id == job.id)
                    .values(**row)
                )
        except IntegrityError as exc:
            raise Conflict(f"a job named '{job.name}' already exists in this domain") from exc
        if result.rowcount == 0:
            raise NotFound(f"job '{job.id}' not found")

    async def delete_job(self, domain: str, job_id: str) -> None:
        async with self._write() as conn:
            result = await conn.execute(
                jobs.delete().where(jobs.c.domain == domain, jobs.c.id == job_id)
            )
        if result.rowcount == 0:
            raise NotFound(f"job '{job_id}' not found")

    async def set_job_fields(self, domain: str, job_id: str, **fields: Any) -> Job:
        async with self._write() as conn:
            result = await conn.execute(
                jobs.update().where(jobs.c.domain == domain, jobs.c.id == job_id).values(**fields)
            )
        if result.rowcount == 0:
            raise NotFound(f"job '{job_id}' not found")
        return await self.get_job(domain, job_id)

    async def schedulable_jobs(self) -> list[Job]:
        async with self._read() as conn:
            rows = (await conn.execute(jobs.select().where(jobs.c.has_schedule))).fetchall()
        return [_job_from(r) for r in rows]

    # runs ------------------------------------------------------------------------------------

    async def insert_runs(self, new_runs: Sequence[Run]) -> list[Run]:
        """Insert runs; a scheduled slot that already has a run is skipped, not an error."""
        if not new_runs:
            return []
        rows = [_run_row(r) for r in new_runs]
        if all(r["slot_key"] is None for r in rows):
            async with self._write() as conn:
                await conn.execute(runs.insert(), rows)
            return list(new_runs)
        inserted: list[Run] = []
        async with self._write() as conn:
            for run, row in zip(new_runs, rows, strict=True):
                stmt = self._insert_ignore(runs, ["slot_key"]).values(**row)
                result = await conn.execute(stmt)
                if result.rowcount:
                    inserted.append(run)
        return inserted

    async def get_run(self, domain: str, run_id: str) -> Run:
        async with self._read() as conn:
            row = (
                await conn.execute(
                    runs.select().where(runs.c.domain == domain, runs.c.id == run_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"run '{run_id}' not found")
        return _run_from(row)

    async def find_run(self, run_id: str) -> Run | None:
        async with self._read() as conn:
            row = (await conn.execute(runs.select().where(runs.c.id == run_id))).first()
        return _run_from(row) if row is not None else None

    async def list_runs(
        self, domain: str, flt: RunFilter, *, limit: int, cursor: str | None
    ) -> Page[Run]:
        query = runs.select().where(runs.c.domain == domain)
        if flt.job_id:
            query = query.where(runs.c.job_id == flt.job_id)
        if flt.status:
            query = query.where(runs.c.status.in_([s.value for s in flt.status]))
        if flt.worker_id:
            query = query.where(runs.c.worker_id == flt.worker_id)
        if flt.since:
            query = query.where(runs.c.created_at >= flt.since)
        if flt.until:
            query = query.where(runs.c.created_at < flt.until)
        if cursor:
            query = query.where(runs.c.id < cursor)
        query = query.order_by(runs.c.id.desc()).limit(limit + 1)
        async with self._read() as conn:
            rows = (await conn.execute(query)).fetchall()
        items = [_run_from(r) for r in rows[:limit]]
        return Page[Run](items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    async def runs_with_status(
        self, statuses: Collection[RunStatus], *, job_id: str | None = None, limit: int = 10_000
    ) -> list[Run]:
        query = runs.select().where(runs.c.status.in_([s.value for s in statuses]))
        if job_id:
            query = query.where(runs.c.job_id == job_id)
        async with self._read() as conn:
            rows = (await conn.execute(query.order_by(runs.c.id).limit(limit))).fetchall()
        return [_run_from(r) for r in rows]

    async def due_pending(
        self, now: datetime, limit: int, *, exclude_jobs: Collection[str] = ()
    ) -> list[Run]:
        query = runs.select().where(
            runs.c.status == RunStatus.PENDING.value,
            sa.or_(runs.c.not_before.is_(None), runs.c.not_before <= now),
        )
        if exclude_jobs:
            query = query.where(runs.c.job_id.not_in(list(exclude_jobs)))
        query = query.order_by(runs.c.id).limit(limit)
        async with self._read() as conn:
            rows = (await conn.execute(query)).fetchall()
        return [_run_from(r) for r in rows]

    async def next_pending_time(self, after: datetime) -> datetime | None:
        """The earliest `not_before` still in the future: when the dispatcher must wake."""
        query = sa.select(sa.func.min(runs.c.not_before)).where(
            runs.c.status == RunStatus.PENDING.value, runs.c.not_before > after
        )
        async with self._read() as conn:
            value = (await conn.execute(query)).scalar()
        return runs.c.not_before.type.process_result_value(value, self.engine.dialect)  # type: ignore[no-any-return]

    async def active_counts(self, job_ids: Collection[str]) -> dict[str, int]:
        if not job_ids:
            return {}
        query = (
            sa.select(runs.c.job_id, sa.func.count())
            .where(
                runs.c.job_id.in_(list(job_ids)),
                runs.c.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value]),
            )
            .group_by(runs.c.job_id)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    async def last_scheduled_slot(self, job_id: str) -> datetime | None:
        query = sa.select(sa.func.max(runs.c.scheduled_for)).where(
            runs.c.job_id == job_id, runs.c.trigger == "schedule"
        )
        async with self._read() as conn:
            value = (await conn.execute(query)).scalar()
        return runs.c.scheduled_for.type.process_result_value(value, self.engine.dialect)  # type: ignore[no-any-return]

    async def set_status(self, op: SetStatus) -> Run | None:
        result = await self.apply([op])
        value = result[0]
        return value if isinstance(value, Run) else None

    async def apply(self, ops: Sequence[Op]) -> list[Run | bool]:
        """Apply a batch of event writes in one transaction; each op reports its own outcome."""
        results: list[Run | bool] = []
        async with self._write() as conn:
            for op in ops:
                if isinstance(op, SetStatus):
                    results.append(await self._apply_status(conn, op))
                elif isinstance(op, AppendLog):
                    results.append(await self._apply_log(conn, op))
                else:
                    results.append(await self._apply_worker(conn, op))
        return results

    async def _apply_status(self, conn: AsyncConnection, op: SetStatus) -> Run | bool:
        stmt = runs.update().where(
            runs.c.id == op.run_id, runs.c.status.in_([s.value for s in op.expected])
        )
        if op.worker_id is not None:
            stmt = stmt.where(runs.c.worker_id == op.worker_id)
        values = {"status": op.status.value, **op.fields}
        row = (await conn.execute(stmt.values(**values).returning(*runs.c))).first()
        return _run_from(row) if row is not None else False

    async def _apply_log(self, conn: AsyncConnection, op: AppendLog) -> bool:
        guard = sa.select(runs.c.status, runs.c.worker_id).where(runs.c.id == op.run_id)
        current = (await conn.execute(guard)).first()
        if current is None or current.status == RunStatus.LOST.value:
            return False
        if op.worker_id is not None and current.worker_id != op.worker_id:
            return False
        if op.data:
            stmt = self._insert_ignore(log_chunks, ["run_id", "offset"]).values(
                run_id=op.run_id, offset=op.offset, length=len(op.data), data=op.data
            )
            await conn.execute(stmt)
        end = op.offset + len(op.data)
        await conn.execute(
            runs.update()
            .where(runs.c.id == op.run_id)
            .values(
                log_size=sa.func.max(runs.c.log_size, end)
                if self.is_sqlite
                else sa.func.greatest(runs.c.log_size, end),
                log_truncated=sa.or_(runs.c.log_truncated, sa.true())
                if op.truncated
                else runs.c.log_truncated,
            )
        )
        return True

    async def _apply_worker(self, conn: AsyncConnection, op: UpsertWorker) -> bool:
        w = op.worker
        row = {
            "id": w.id,
            "domain": w.domain,
            "info": w.model_dump(mode="json"),
            "status": w.status.value,
            "last_heartbeat_at": w.last_heartbeat_at,
        }
        updated = await conn.execute(workers.update().where(workers.c.id == w.id).values(**row))
        if updated.rowcount == 0:
            await conn.execute(workers.insert().values(**row))
        return True

    async def stats(self, domain: str, since: datetime, now: datetime) -> Stats:
        cols = (runs.c.job_id, runs.c.job_name, runs.c.status, runs.c.created_at,
                runs.c.started_at, runs.c.finished_at)
        query = sa.select(*cols).where(runs.c.domain == domain, runs.c.created_at >= since)
        failures = (
            runs.select()
            .where(runs.c.domain == domain,
                   runs.c.status.in_([s for s in FAILED_STATUSES]))
            .order_by(runs.c.id.desc())
            .limit(10)
        )
        online = sa.select(sa.func.count()).where(
            workers.c.domain == domain, workers.c.status != "offline"
        )
        async with self._read() as conn:
            rows = [tuple(r) for r in (await conn.execute(query.limit(STATS_MAX_ROWS))).all()]
            recent = [_run_from(r).summary() for r in (await conn.execute(failures)).fetchall()]
            workers_online = int((await conn.execute(online)).scalar() or 0)
        return build_stats(rows, since=since, now=now, recent_failures=recent,  # type: ignore[arg-type]
                           workers_online=workers_online)

    # logs ------------------------------------------------------------------------------------

    async def read_log(self, domain: str, run_id: str, offset: int, max_chars: int) -> LogPage:
        run = await self.get_run(domain, run_id)
        query = (
            sa.select(log_chunks.c.offset, log_chunks.c.data)
            .where(
                log_chunks.c.run_id == run_id,
                log_chunks.c.offset + log_chunks.c.length > offset,
            )
            .order_by(log_chunks.c.offset)
        )
        parts: list[str] = []
        size = 0
        position = offset
        async with self._read() as conn:
            result = await conn.stream(query)
            async for chunk_offset, data in result:
                if chunk_offset > position:
                    break  # a gap: a chunk not yet written; stop at what is contiguous
                piece = data[position - chunk_offset :]
                if size + len(piece) > max_chars and parts:
                    break
                parts.append(piece)
                size += len(piece)
                position += len(piece)
            await result.close()
        complete = run.status in TERMINAL and position >= run.log_size
        return LogPage(
            data="".join(parts), next_offset=position, complete=complete, truncated=run.log_truncated
        )

    # workers ---------------------------------------------------------------------------------

    async def list_workers(self, domain: str | None) -> list[Worker]:
        """Workers of one domain, or of all domains when `domain` is None (the reaper)."""
        query = workers.select().order_by(workers.c.id)
        if domain is not None:
            query = query.where(workers.c.domain == domain)
        async with self._read() as conn:
            rows = (await conn.execute(query)).fetchall()
        return [Worker.model_validate(r._mapping["info"]) for r in rows]

    async def get_worker(self, domain: str, worker_id: str) -> Worker:
        query = workers.select().where(workers.c.domain == domain, workers.c.id == worker_id)
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"worker '{worker_id}' not found")
        return Worker.model_validate(row._mapping["info"])

    # audit -----------------------------------------------------------------------------------

    async def add_audit(self, record: AuditRecord) -> None:
        async with self._write() as conn:
            await conn.execute(
                audit.insert().values(
                    id=record.id,
                    domain=record.domain,
                    actor=record.actor,
                    action=record.action,
                    object_type=record.object_type,
                    object_id=record.object_id,
                    at=record.at,
                    details=record.details,
                )
            )

    async def list_audit(
        self, domain: str, *, limit: int, cursor: str | None
    ) -> Page[AuditRecord]:
        query = audit.select().where(audit.c.domain == domain)
        if cursor:
            query = query.where(audit.c.id < cursor)
        query = query.order_by(audit.c.id.desc()).limit(limit + 1)
        async with self._read() as conn:
            rows = (await conn.execute(query)).fetchall()
        items = [AuditRecord(**dict(r._mapping)) for r in rows[:limit]]
        return Page[AuditRecord](
            items=items, next_cursor=items[-1].id if len(rows) > limit else None
        )

    async def delete_runs_before(self, cutoff: datetime, *, job_id: str | None, batch: int) -> int:
        """Delete one batch of terminal runs (and their logs) older than `cutoff`."""
        query = sa.select(runs.c.id).where(
            runs.c.created_at < cutoff, runs.c.status.in_([s.value for s in TERMINAL])
        )
        if job_id:
            query = query.where(runs.c.job_id == job_id)
        async with self._write() as conn:
            ids = [r[0] for r in (await conn.execute(query.limit(batch))).fetchall()]
            if ids:
                await conn.execute(log_chunks.delete().where(log_chunks.c.run_id.in_(ids)))
                await conn.execute(runs.delete().where(runs.c.id.in_(ids)))
        return len(ids)
