"""Job history on MongoDB: each saved version of a job is a document of `job_versions`, unique by
(job_id, version).

MongoDB has no multi-document transactions here: the job is written first (its `version`
incremented atomically, so concurrent replaces get a version each), then its version document.
A scheduler that dies between the two leaves that one change out of the history; the job
itself is never wrong. Jobs saved before job history get their current spec as version 1 when
the store opens.
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hydra_jobs.errors import NotFound, job_not_found
from hydra_jobs.limits import STORED
from hydra_jobs.models import Job, JobChange, JobVersion, JobVersionSummary, Page
from hydra_jobs.store.base import ChangeBy
from hydra_jobs.store.mongo.documents import Doc, need_ts, ts

BACKFILL_BATCH = 500


def version_doc(job: Job, version: int, by: ChangeBy, default: JobChange) -> Doc:
    return {
        "job_id": job.id,
        "version": version,
        "domain": job.domain,
        "change": (by.change or default).value,
        "actor": by.actor[:200],
        "at": ts(job.updated_at),
        "restored_from": by.restored_from,
        "spec": job.spec().model_dump(mode="json"),
    }


def _version_fields(doc: Doc) -> dict[str, Any]:
    data = {k: v for k, v in doc.items() if k != "_id"}
    data["at"] = need_ts(doc["at"])
    return data


class MongoJobVersions:
    @property
    def db(self) -> AsyncDatabase[Doc]:
        raise NotImplementedError  # MongoStore's

    async def _add_version(self, job: Job, version: int, by: ChangeBy, default: JobChange) -> None:
        try:
            await self.db["job_versions"].insert_one(version_doc(job, version, by, default))
        except DuplicateKeyError:
            pass  # kept already (a retried call)

    async def _bump_version(self, job: Job, fields: Doc) -> int | None:
        found = await self.db["jobs"].find_one_and_update(
            {"_id": job.id, "domain": job.domain},
            {"$set": fields, "$inc": {"version": 1}},
            projection={"version": 1},
            return_document=ReturnDocument.AFTER,
        )
        return None if found is None else int(found["version"])

    async def _backfill_versions(self) -> None:
        """Jobs from before job history: their current spec becomes version 1."""
        while True:
            docs = await (
                self.db["jobs"].find({"version": {"$exists": False}}).limit(BACKFILL_BATCH)
            ).to_list(None)
            if not docs:
                return
            for doc in docs:
                try:
                    await self.db["job_versions"].insert_one(
                        {
                            "job_id": doc["_id"],
                            "version": 1,
                            "domain": doc["domain"],
                            "change": JobChange.CREATE.value,
                            "actor": "migration",
                            "at": doc["updated_at"],
                            "restored_from": None,
                            "spec": doc["spec"],
                        }
                    )
                except DuplicateKeyError:
                    pass
                await self.db["jobs"].update_one(
                    {"_id": doc["_id"], "version": {"$exists": False}}, {"$set": {"version": 1}}
                )

    async def list_job_versions(
        self, domain: str, job_id: str, *, limit: int, cursor: int | None
    ) -> Page[JobVersionSummary]:
        if await self.db["jobs"].find_one({"_id": job_id, "domain": domain}, {"_id": 1}) is None:
            raise job_not_found(job_id)
        query: Doc = {"domain": domain, "job_id": job_id}
        if cursor is not None:
            query["version"] = {"$lt": cursor}
        found = self.db["job_versions"].find(query, {"spec": 0})
        docs = await found.sort("version", DESCENDING).limit(limit + 1).to_list(None)
        items = [JobVersionSummary.model_validate(_version_fields(d)) for d in docs[:limit]]
        more = len(docs) > limit
        return Page[JobVersionSummary](
            items=items, next_cursor=str(items[-1].version) if more else None
        )

    async def get_job_version(self, domain: str, job_id: str, version: int) -> JobVersion:
        doc = await self.db["job_versions"].find_one(
            {"domain": domain, "job_id": job_id, "version": version}
        )
        if doc is None:
            raise NotFound(f"job '{job_id[:64]}' has no version {version}")
        return JobVersion.model_validate(_version_fields(doc), context=STORED)
