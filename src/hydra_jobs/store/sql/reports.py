"""The SQL store's reads of what the fleet reports, and the clean-up behind them.

Dashboard stats, run logs, worker rows (and dropping offline ones), retention of old runs with
their logs and analyses, and the AI analyses themselves (mixed into `SqlStore`; the run and job
writes they read are in `store.py`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hydra_jobs.errors import NotFound
from hydra_jobs.models import LogPage, Stats, Worker, WorkerStatus
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import StoredAnalysis
from hydra_jobs.store.encoding import (
    FAILED_VALUES,
    NOT_ENDED_VALUES,
    RECENT_FAILURES,
    TERMINAL_VALUES,
    LogAssembler,
)
from hydra_jobs.store.sql.rows import run_from
from hydra_jobs.store.sql.tables import analyses, log_chunks, runs, workers
from hydra_jobs.store.sql.transactions import Runner
from hydra_jobs.store.stats import StatGroup, build_stats, on_the_hour


class SqlReports:
    runner: Runner
    is_sqlite: bool

    def _dialect_insert(self, table: sa.Table) -> Any:
        raise NotImplementedError  # SqlStore's, per dialect

    # stats -----------------------------------------------------------------------------------

    async def stats(self, domain: str, since: datetime, now: datetime) -> Stats:
        # One GROUP BY (job, status, hour): the database adds up the window, however many runs
        # it holds, and hands over a few rows per job and hour (store/stats.py adds those up).
        hour = self._hour_of(runs.c.created_at).label("hour")
        seconds = self._seconds_between(runs.c.started_at, runs.c.finished_at)
        groups = (
            sa.select(
                runs.c.job_id,
                sa.func.max(runs.c.job_name),
                runs.c.status,
                hour,
                sa.func.count(),
                sa.func.count(seconds),
                sa.func.sum(seconds),
                sa.func.max(seconds),
            )
            .where(runs.c.domain == domain, runs.c.created_at >= since)
            .group_by(runs.c.job_id, runs.c.status, hour)
        )
        failures = (
            runs.select()
            .where(runs.c.domain == domain, runs.c.status.in_(FAILED_VALUES))
            .order_by(runs.c.id.desc())
            .limit(RECENT_FAILURES)
        )
        online = sa.select(sa.func.count()).where(
            workers.c.domain == domain, workers.c.status != "offline"
        )

        def run(c: Connection) -> Stats:
            window = [
                StatGroup(
                    job_id,
                    name,
                    status,
                    self._hour_value(bucket),
                    int(count),
                    int(timed),
                    float(total or 0.0),
                    None if longest is None else float(longest),
                )
                for job_id, name, status, bucket, count, timed, total, longest in c.execute(groups)
            ]
            recent = [run_from(r).summary() for r in c.execute(failures)]
            online_count = int(c.execute(online).scalar() or 0)
            return build_stats(
                window, since=since, now=now, recent_failures=recent, workers_online=online_count
            )

        return await self.runner.read(run, heavy=True)

    def _hour_of(self, column: Any) -> Any:
        if self.is_sqlite:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff', in UTC
            return sa.func.strftime("%Y-%m-%d %H:00:00", column)
        return sa.func.date_trunc("hour", column)

    def _hour_value(self, bucket: datetime | str) -> datetime:
        moment = datetime.fromisoformat(bucket) if isinstance(bucket, str) else bucket
        return on_the_hour(moment)

    def _seconds_between(self, start: Any, end: Any) -> Any:
        """end - start in seconds, NULL when either is NULL (so COUNT and SUM skip the run)."""
        if self.is_sqlite:
            return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
        return sa.func.extract("epoch", end - start)

    # logs ------------------------------------------------------------------------------------

    async def read_log(self, domain: str, run_id: str, offset: int, max_chars: int) -> LogPage:
        query = (
            sa.select(log_chunks.c.offset, log_chunks.c.data)
            .where(
                log_chunks.c.run_id == run_id,
                # A 64-bit parameter: the columns are 32-bit, a reader's offset may not be
                # (PostgreSQL refuses to bind 2**31 as the columns' type).
                log_chunks.c.offset + log_chunks.c.length > sa.literal(offset, sa.BigInteger),
            )
            .order_by(log_chunks.c.offset)
        )
        run_query = sa.select(runs.c.status, runs.c.log_size, runs.c.log_truncated).where(
            runs.c.domain == domain, runs.c.id == run_id
        )

        def read(c: Connection) -> LogPage:
            run = c.execute(run_query).first()
            if run is None:
                raise NotFound(f"run '{run_id}' not found")
            reader = LogAssembler(offset, max_chars)
            for chunk_offset, data in c.execute(query):
                if not reader.add(chunk_offset, data):
                    break
            return reader.page(
                status=RunStatus(run.status), log_size=run.log_size, truncated=run.log_truncated
            )

        return await self.runner.read(read)

    # workers ---------------------------------------------------------------------------------

    async def list_workers(self, domain: str | None) -> list[Worker]:
        """Workers of one domain, or of all domains when `domain` is None (the reaper)."""
        query = workers.select().order_by(workers.c.id)
        if domain is not None:
            query = query.where(workers.c.domain == domain)
        return await self.runner.read(
            lambda c: [Worker.model_validate(r._mapping["info"]) for r in c.execute(query)]
        )

    async def get_worker(self, domain: str, worker_id: str) -> Worker:
        query = workers.select().where(workers.c.domain == domain, workers.c.id == worker_id)
        row = await self.runner.read(lambda c: c.execute(query).first())
        if row is None:
            raise NotFound(f"worker '{worker_id}' not found")
        return Worker.model_validate(row._mapping["info"])

    async def delete_offline_workers(self, before: datetime) -> int:
        stmt = workers.delete().where(
            workers.c.status == WorkerStatus.OFFLINE.value, workers.c.last_heartbeat_at < before
        )
        return await self.runner.write(lambda c: int(c.execute(stmt).rowcount or 0))

    async def delete_runs_before(
        self,
        cutoff: datetime,
        *,
        job_id: str | None,
        batch: int,
        exclude_jobs: Collection[str] = (),
    ) -> int:
        """Delete one batch of terminal runs (and their logs) older than `cutoff`."""
        if job_id:
            # (job_id, status, created_at): one short range per terminal status.
            query = sa.select(runs.c.id).where(
                runs.c.job_id == job_id,
                runs.c.status.in_(TERMINAL_VALUES),
                runs.c.created_at < cutoff,
            )
        else:
            # Spelled as "not active" so SQLite's planner takes the created_at range, not status.
            query = sa.select(runs.c.id).where(
                runs.c.created_at < cutoff, runs.c.status.not_in(NOT_ENDED_VALUES)
            )
        if exclude_jobs:
            query = query.where(runs.c.job_id.not_in(list(exclude_jobs)))

        def delete(c: Connection) -> int:
            ids = [r[0] for r in c.execute(query.limit(batch))]
            if ids:
                c.execute(log_chunks.delete().where(log_chunks.c.run_id.in_(ids)))
                c.execute(analyses.delete().where(analyses.c.run_id.in_(ids)))
                c.execute(runs.delete().where(runs.c.id.in_(ids)))
            return len(ids)

        return await self.runner.write(delete, heavy=True)

    # analyses --------------------------------------------------------------------------------

    async def save_analysis(self, analysis: StoredAnalysis) -> None:
        values = {
            "run_id": analysis.run_id,
            "domain": analysis.domain,
            "job_id": analysis.job_id,
            "fingerprint": analysis.fingerprint,
            "provider": analysis.provider,
            "created_at": analysis.created_at,
            "body": analysis.body,
        }
        stmt = self._dialect_insert(analyses).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id"], set_={k: v for k, v in values.items() if k != "run_id"}
        )
        await self.runner.write(lambda c: c.execute(stmt))

    async def get_analysis(self, domain: str, run_id: str) -> StoredAnalysis | None:
        query = analyses.select().where(analyses.c.domain == domain, analyses.c.run_id == run_id)
        row = await self.runner.read(lambda c: c.execute(query).first())
        return None if row is None else StoredAnalysis(**dict(row._mapping))
