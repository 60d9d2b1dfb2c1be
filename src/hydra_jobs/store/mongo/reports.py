"""The MongoDB store's reads of what the fleet reports, and the clean-up behind them.

Dashboard stats, run logs, worker documents (and dropping offline ones), retention of old runs
with their log chunks and analyses, and the AI analyses themselves (mixed into `MongoStore`; the
run and job writes they read are in `store.py`). `sql/reports.py` is its SQL twin.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from hydra_jobs.errors import NotFound
from hydra_jobs.models import LogPage, Stats, Worker, WorkerStatus
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import StoredAnalysis
from hydra_jobs.store.encoding import (
    FAILED_VALUES,
    RECENT_FAILURES,
    STATS_MAX_ROWS,
    TERMINAL_VALUES,
    LogAssembler,
)
from hydra_jobs.store.mongo.documents import Doc, encode, need_ts, parse_ts, run_from, ts
from hydra_jobs.store.stats import build_stats, group_runs

STATS_FIELDS = ("job_id", "job_name", "status", "created_at", "started_at", "finished_at")


class MongoReports:
    @property
    def db(self) -> AsyncDatabase[Doc]:
        raise NotImplementedError  # MongoStore's

    @property
    def runs(self) -> AsyncCollection[Doc]:
        raise NotImplementedError  # MongoStore's

    @property
    def chunks(self) -> AsyncCollection[Doc]:
        raise NotImplementedError  # MongoStore's

    # reads -----------------------------------------------------------------------------------

    async def stats(self, domain: str, since: datetime, now: datetime) -> Stats:
        window = self.runs.find(
            {"domain": domain, "created_at": {"$gte": ts(since)}},
            projection=dict.fromkeys(STATS_FIELDS, 1),
            limit=STATS_MAX_ROWS,
        )
        rows = [
            (
                d["job_id"],
                d["job_name"],
                d["status"],
                need_ts(d["created_at"]),
                parse_ts(d.get("started_at")),
                parse_ts(d.get("finished_at")),
            )
            async for d in window
        ]
        failures = self.runs.find({"domain": domain, "status": {"$in": FAILED_VALUES}})
        recent = [
            run_from(d).summary()
            async for d in failures.sort("_id", DESCENDING).limit(RECENT_FAILURES)
        ]
        online = await self.db["workers"].count_documents(
            {"domain": domain, "status": {"$ne": "offline"}}
        )
        return build_stats(
            group_runs(rows), since=since, now=now, recent_failures=recent, workers_online=online
        )

    async def read_log(self, domain: str, run_id: str, offset: int, max_chars: int) -> LogPage:
        run = await self.runs.find_one(
            {"_id": run_id, "domain": domain},
            projection={"status": 1, "log_size": 1, "log_truncated": 1},
        )
        if run is None:
            raise NotFound(f"run '{run_id}' not found")
        reader = LogAssembler(offset, max_chars)
        found = self.chunks.find(
            {"run_id": run_id, "end": {"$gt": offset}},
            projection={"_id": 0, "offset": 1, "data": 1},
            sort=[("offset", ASCENDING)],
        )
        try:
            async for chunk in found:
                if not reader.add(int(chunk["offset"]), str(chunk["data"])):
                    break
        finally:
            await found.close()
        return reader.page(
            status=RunStatus(run["status"]),
            log_size=int(run.get("log_size", 0)),
            truncated=bool(run.get("log_truncated", False)),
        )

    async def list_workers(self, domain: str | None) -> list[Worker]:
        """Workers of one domain, or of all domains when `domain` is None (the reaper)."""
        query: Doc = {} if domain is None else {"domain": domain}
        found = self.db["workers"].find(query).sort("_id", ASCENDING)
        return [Worker.model_validate(d["info"]) async for d in found]

    async def get_worker(self, domain: str, worker_id: str) -> Worker:
        doc = await self.db["workers"].find_one({"_id": worker_id, "domain": domain})
        if doc is None:
            raise NotFound(f"worker '{worker_id}' not found")
        return Worker.model_validate(doc["info"])

    # audit and retention ---------------------------------------------------------------------

    async def delete_offline_workers(self, before: datetime) -> int:
        gone = await self.db["workers"].delete_many(
            {"status": WorkerStatus.OFFLINE.value, "last_heartbeat_at": {"$lt": ts(before)}}
        )
        return int(gone.deleted_count)

    async def delete_runs_before(
        self,
        cutoff: datetime,
        *,
        job_id: str | None,
        batch: int,
        exclude_jobs: Collection[str] = (),
    ) -> int:
        """Delete one batch of terminal runs (and their logs) older than `cutoff`.

        Chunks go first: a crash in between leaves runs without logs, which the next sweep
        deletes, never chunks without a run, which nothing would find again.
        """
        query: Doc = {"created_at": {"$lt": ts(cutoff)}, "status": {"$in": TERMINAL_VALUES}}
        jobs: Doc = {}
        if job_id:
            jobs["$eq"] = job_id
        if exclude_jobs:
            jobs["$nin"] = list(exclude_jobs)
        if jobs:
            query["job_id"] = jobs
        ids = [d["_id"] async for d in self.runs.find(query, {"_id": 1}, limit=batch)]
        if ids:
            await self.chunks.delete_many({"run_id": {"$in": ids}})
            await self.db["analyses"].delete_many({"_id": {"$in": ids}})
            await self.runs.delete_many({"_id": {"$in": ids}})
        return len(ids)

    # analyses --------------------------------------------------------------------------------

    async def save_analysis(self, analysis: StoredAnalysis) -> None:
        doc = {
            "domain": analysis.domain,
            "job_id": analysis.job_id,
            "fingerprint": analysis.fingerprint,
            "provider": analysis.provider,
            "created_at": ts(analysis.created_at),
            "body": encode(analysis.body),
        }
        await self.db["analyses"].replace_one({"_id": analysis.run_id}, doc, upsert=True)

    async def get_analysis(self, domain: str, run_id: str) -> StoredAnalysis | None:
        doc = await self.db["analyses"].find_one({"_id": run_id, "domain": domain})
        if doc is None:
            return None
        return StoredAnalysis(
            run_id=doc["_id"],
            domain=doc["domain"],
            job_id=doc["job_id"],
            fingerprint=doc["fingerprint"],
            provider=doc["provider"],
            created_at=need_ts(doc["created_at"]),
            body=doc["body"],
        )
