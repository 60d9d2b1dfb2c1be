"""The MongoDB store, on pymongo's native asyncio client (`pymongo.AsyncMongoClient`, not motor).

Correctness never rests on multi-document transactions: they need a replica set, and many installs
run one mongod. Every promise the store makes is one atomic single-document operation:
- a compare-and-set transition is one `find_one_and_update` whose filter holds the expected
  statuses and the worker fence, so of two racing writers exactly one matches;
- a schedule slot is stored once: `slot_key` has a partial unique index, and runs are inserted
  unordered, so a duplicate fails alone and is dropped;
- a log chunk is keyed (run_id, offset) under a unique index, so a repeated chunk is a no-op;
  the run's guard (not lost, same worker) and its `log_size` move in one update before it goes in.

What it gives up against the SQL store: a batch (`apply`) is not all-or-nothing. Each op is applied
on its own, ops on the same run in order, different runs concurrently; if one fails the others may
have landed, and the error is raised after all were tried. Ingest treats a failed batch the same
way on every store (logged, its events not retried), so nothing relies on the rollback.

Documents, indexes and how times are stored (fixed-width ISO strings, exact to the microsecond)
are in `documents`. Needs MongoDB 5.0 or newer (checked at `open`).
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hydra_jobs.errors import BackendUnavailable, Conflict, NotFound, job_not_found
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
from hydra_jobs.store.mongo.documents import (
    INDEXES,
    Doc,
    duplicate_slots,
    encode_doc,
    job_doc,
    job_from,
    need_ts,
    parse_ts,
    run_doc,
    run_from,
    run_query,
    ts,
)
from hydra_jobs.store.mongo.notify import NOTIFY_INDEXES, MongoNotify
from hydra_jobs.store.mongo.reports import MongoReports
from hydra_jobs.store.mongo.tenancy import MongoTenancy
from hydra_jobs.store.mongo.versions import MongoJobVersions

DEFAULT_DATABASE = "hydra"
MIN_SERVER_VERSION = (5, 0)
APPLY_CONCURRENCY = 32  # runs whose ops are applied at once within one batch


class MongoStore(MongoTenancy, MongoNotify, MongoJobVersions, MongoReports):
    def __init__(self, url: str) -> None:
        self.url = url
        self._client: AsyncMongoClient[Doc] | None = None
        self._db: AsyncDatabase[Doc] | None = None

    # connection ------------------------------------------------------------------------------

    @property
    def db(self) -> AsyncDatabase[Doc]:
        if self._db is None:
            raise BackendUnavailable("the MongoDB store is not open")
        return self._db

    @property
    def jobs(self) -> AsyncCollection[Doc]:
        return self.db["jobs"]

    @property
    def runs(self) -> AsyncCollection[Doc]:
        return self.db["runs"]

    @property
    def chunks(self) -> AsyncCollection[Doc]:
        return self.db["log_chunks"]

    async def open(self) -> None:
        client: AsyncMongoClient[Doc] = AsyncMongoClient(self.url, tz_aware=True, tzinfo=UTC)
        self._client = client
        self._db = client.get_default_database(DEFAULT_DATABASE)
        await self._check_version()
        for name, indexes in {**INDEXES, **NOTIFY_INDEXES}.items():
            await self.db[name].create_indexes(indexes)
        await self._backfill_versions()

    async def _check_version(self) -> None:
        info = await self.db.command("buildInfo")
        found = tuple(int(v) for v in info.get("versionArray", [0, 0])[:2])
        if found < MIN_SERVER_VERSION:
            raise BackendUnavailable(
                f"MongoDB {info.get('version', '?')} is too old; Hydra Jobs needs 5.0 or newer"
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = self._db = None

    async def ping(self) -> None:
        await self.db.command("ping")

    # jobs ------------------------------------------------------------------------------------

    async def create_job(self, job: Job, by: ChangeBy = SYSTEM) -> None:
        try:
            await self.jobs.insert_one(job_doc(job))
        except DuplicateKeyError as exc:
            raise Conflict(f"a job named '{job.name}' already exists in this domain") from exc
        await self._add_version(job, job.version, by, JobChange.CREATE)

    async def get_job(self, domain: str, job_id: str, *, with_last_run: bool = True) -> Job:
        doc = await self.jobs.find_one({"_id": job_id, "domain": domain})
        if doc is None:
            raise job_not_found(job_id)
        job = job_from(doc)
        return (await self._with_last_runs(domain, [job]))[0] if with_last_run else job

    async def _with_last_runs(self, domain: str, items: list[Job]) -> list[Job]:
        """Each job's newest run: one index probe per job, all at once."""

        async def newest(job: Job) -> Doc | None:
            return await self.runs.find_one(
                {"domain": domain, "job_id": job.id},
                projection={"status": 1, "created_at": 1},
                sort=[("_id", DESCENDING)],
            )

        lasts = await asyncio.gather(*(newest(j) for j in items))
        return [
            j.model_copy(
                update={
                    "last_run_id": d["_id"],
                    "last_run_status": RunStatus(d["status"]),
                    "last_run_at": need_ts(d["created_at"]),
                }
            )
            if d is not None
            else j
            for j, d in zip(items, lasts, strict=True)
        ]

    async def list_jobs(
        self, domain: str, *, limit: int, cursor: str | None, search: str | None = None
    ) -> Page[Job]:
        query: Doc = {"domain": domain}
        if search:
            query["name"] = {"$regex": re.escape(search), "$options": "i"}
        if cursor:
            query["_id"] = {"$lt": cursor}
        docs = await self.jobs.find(query).sort("_id", DESCENDING).limit(limit + 1).to_list(None)
        items = await self._with_last_runs(domain, [job_from(d) for d in docs[:limit]])
        return Page[Job](items=items, next_cursor=items[-1].id if len(docs) > limit else None)

    async def replace_job(self, job: Job, by: ChangeBy = SYSTEM) -> int:
        doc = job_doc(job)
        for key in ("_id", "created_at", "version"):
            doc.pop(key)
        try:
            version = await self._bump_version(job, doc)
        except DuplicateKeyError as exc:
            raise Conflict(f"a job named '{job.name}' already exists in this domain") from exc
        if version is None:
            raise job_not_found(job.id)
        await self._add_version(job, version, by, JobChange.UPDATE)
        return version

    async def delete_job(self, domain: str, job_id: str) -> None:
        result = await self.jobs.delete_one({"_id": job_id, "domain": domain})
        if result.deleted_count == 0:
            raise job_not_found(job_id)
        await self.db["job_versions"].delete_many({"domain": domain, "job_id": job_id})

    async def set_job_fields(self, domain: str, job_id: str, **fields: Any) -> Job:
        result = await self.jobs.update_one(
            {"_id": job_id, "domain": domain}, {"$set": encode_doc(fields)}
        )
        if result.matched_count == 0:
            raise job_not_found(job_id)
        return await self.get_job(domain, job_id)

    async def schedulable_jobs(self) -> list[Job]:
        return [job_from(d) async for d in self.jobs.find({"has_schedule": True})]

    async def job_retention_days(self) -> dict[str, int]:
        found = self.jobs.find({"retention_days": {"$ne": None}}, {"retention_days": 1})
        return {d["_id"]: int(d["retention_days"]) async for d in found}

    # runs ------------------------------------------------------------------------------------

    async def insert_runs(self, new_runs: Sequence[Run]) -> list[Run]:
        """Insert runs; a scheduled slot that already has a run is skipped, not an error."""
        if not new_runs:
            return []
        try:
            await self.runs.insert_many([run_doc(r) for r in new_runs], ordered=False)
        except BulkWriteError as exc:
            dropped = duplicate_slots(exc)
            return [r for i, r in enumerate(new_runs) if i not in dropped]
        return list(new_runs)

    async def get_run(self, domain: str, run_id: str) -> Run:
        doc = await self.runs.find_one({"_id": run_id, "domain": domain})
        if doc is None:
            raise NotFound(f"run '{run_id}' not found")
        return run_from(doc)

    async def find_run(self, run_id: str) -> Run | None:
        doc = await self.runs.find_one({"_id": run_id})
        return run_from(doc) if doc is not None else None

    async def list_runs(
        self, domain: str, flt: RunFilter, *, limit: int, cursor: str | None
    ) -> Page[Run]:
        query = run_query(domain, flt)
        if cursor:
            query["_id"] = {"$lt": cursor}
        docs = await self.runs.find(query).sort("_id", DESCENDING).limit(limit + 1).to_list(None)
        items = [run_from(d) for d in docs[:limit]]
        return Page[Run](items=items, next_cursor=items[-1].id if len(docs) > limit else None)

    async def runs_with_status(
        self, statuses: Collection[RunStatus], *, job_id: str | None = None, limit: int = 10_000
    ) -> list[Run]:
        query: Doc = {"status": {"$in": [s.value for s in statuses]}}
        if job_id:
            query["job_id"] = job_id
        found = self.runs.find(query).sort("_id", ASCENDING).limit(limit)
        return [run_from(d) async for d in found]

    async def due_pending(
        self, now: datetime, limit: int, *, exclude_jobs: Collection[str] = ()
    ) -> list[Run]:
        query: Doc = {
            "status": RunStatus.PENDING.value,
            "$or": [{"not_before": None}, {"not_before": {"$lte": ts(now)}}],
        }
        if exclude_jobs:
            query["job_id"] = {"$nin": list(exclude_jobs)}
        found = self.runs.find(query).sort("_id", ASCENDING).limit(limit)
        return [run_from(d) async for d in found]

    async def next_pending_time(self, after: datetime) -> datetime | None:
        doc = await self.runs.find_one(
            {"status": RunStatus.PENDING.value, "not_before": {"$gt": ts(after)}},
            projection={"not_before": 1},
            sort=[("not_before", ASCENDING)],
        )
        return parse_ts(doc["not_before"]) if doc is not None else None

    async def active_counts(self, job_ids: Collection[str]) -> dict[str, int]:
        if not job_ids:
            return {}
        pipeline: list[Doc] = [
            {"$match": {"job_id": {"$in": list(job_ids)}, "status": {"$in": ACTIVE_VALUES}}},
            {"$group": {"_id": "$job_id", "count": {"$sum": 1}}},
        ]
        counted = await self.runs.aggregate(pipeline)
        return {d["_id"]: int(d["count"]) async for d in counted}

    async def last_scheduled_slot(self, job_id: str) -> datetime | None:
        # The filter matches the partial index ix_runs_job_slot; nulls sort last descending.
        doc = await self.runs.find_one(
            {"job_id": job_id, "trigger": "schedule"},
            projection={"scheduled_for": 1},
            sort=[("scheduled_for", DESCENDING)],
        )
        return parse_ts(doc.get("scheduled_for")) if doc is not None else None

    # event writes ----------------------------------------------------------------------------

    async def set_status(self, op: SetStatus) -> Run | None:
        value = (await self.apply([op]))[0]
        return value if isinstance(value, Run) else None

    async def apply(self, ops: Sequence[Op]) -> list[Run | bool]:
        """Apply a batch: each run's ops in order, different runs concurrently; per-op results."""
        results: list[Run | bool] = [False] * len(ops)
        chains: dict[str, list[int]] = defaultdict(list)
        for i, op in enumerate(ops):
            key = f"w:{op.worker.id}" if isinstance(op, UpsertWorker) else f"r:{op.run_id}"
            chains[key].append(i)
        gate = asyncio.Semaphore(APPLY_CONCURRENCY)

        async def chain(indexes: list[int]) -> None:
            async with gate:
                for i in indexes:
                    results[i] = await self._apply_one(ops[i])

        outcomes = await asyncio.gather(
            *(chain(c) for c in chains.values()), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return results

    async def _apply_one(self, op: Op) -> Run | bool:
        if isinstance(op, SetStatus):
            return await self._apply_status(op)
        if isinstance(op, AppendLog):
            return await self._apply_log(op)
        return await self._apply_worker(op)

    async def _apply_status(self, op: SetStatus) -> Run | bool:
        query: Doc = {"_id": op.run_id, "status": {"$in": [s.value for s in op.expected]}}
        if op.worker_id is not None:
            query["worker_id"] = op.worker_id
        doc = await self.runs.find_one_and_update(
            query,
            {"$set": {**encode_doc(op.fields), "status": op.status.value}},
            return_document=ReturnDocument.AFTER,
        )
        return run_from(doc) if doc is not None else False

    async def _apply_log(self, op: AppendLog) -> bool:
        query: Doc = {"_id": op.run_id, "status": {"$ne": RunStatus.LOST.value}}
        if op.worker_id is not None:
            query["worker_id"] = op.worker_id
        end = op.offset + len(op.data)
        update: Doc = {"$max": {"log_size": end}}
        if op.truncated:
            update["$set"] = {"log_truncated": True}
        if (await self.runs.update_one(query, update)).matched_count == 0:
            return False
        if op.data:
            chunk = {"run_id": op.run_id, "offset": op.offset, "end": end, "data": op.data}
            try:
                await self.chunks.insert_one(chunk)
            except DuplicateKeyError:
                pass  # the same chunk again (at-least-once delivery): already stored
        return True

    async def _apply_worker(self, op: UpsertWorker) -> bool:
        w = op.worker
        doc = {
            "domain": w.domain,
            "info": w.model_dump(mode="json"),
            "status": w.status.value,
            "last_heartbeat_at": ts(w.last_heartbeat_at),
        }
        mine = {"_id": w.id, "domain": w.domain}  # another domain's worker id is left alone
        try:
            await self.db["workers"].replace_one(mine, doc, upsert=True)
        except DuplicateKeyError:
            # Two replicas inserted the first heartbeat at once (or the id is another domain's).
            await self.db["workers"].replace_one(mine, doc)
        return True
