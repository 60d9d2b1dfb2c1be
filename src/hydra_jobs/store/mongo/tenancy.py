"""The MongoDB store's domains, tokens and audit records (mixed into `MongoStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hydra_jobs.clock import utcnow
from hydra_jobs.errors import Conflict, NotFound
from hydra_jobs.models import Page
from hydra_jobs.store.base import AuditFilter, AuditRecord
from hydra_jobs.store.mongo.documents import Doc, audit_doc, audit_from, need_ts, parse_ts, ts
from hydra_jobs.store.mongo.notify import NOTIFY_COLLECTIONS
from hydra_jobs.tenancy import Domain, Role
from hydra_jobs.tokens import TokenRecord

DELETE_BATCH = 1000


def _token_doc(token: TokenRecord) -> Doc:
    return {
        "_id": token.id,
        "domain": token.domain,
        "name": token.name,
        "secret_hash": token.secret_hash,
        "worker_key": token.worker_key,
        "created_at": ts(token.created_at),
        "created_by": token.created_by,
        "role": token.role.value,
        "last_used_at": None,
        "revoked_at": None,
    }


def _token_from(doc: Doc) -> TokenRecord:
    return TokenRecord(
        id=doc["_id"],
        domain=doc["domain"],
        name=doc["name"],
        secret_hash=doc["secret_hash"],
        worker_key=doc["worker_key"],
        created_at=need_ts(doc["created_at"]),
        created_by=doc["created_by"],
        last_used_at=parse_ts(doc.get("last_used_at")),
        revoked_at=parse_ts(doc.get("revoked_at")),
        # A token stored before roles existed could do everything: it is an owner (the SQL
        # stores' migration 0007 says the same).
        role=Role(doc.get("role", Role.owner.value)),
    )


class MongoTenancy:
    @property
    def db(self) -> AsyncDatabase[Doc]:
        raise NotImplementedError  # MongoStore's

    # domains ---------------------------------------------------------------------------------

    async def ensure_domain(self, name: str) -> None:
        try:
            await self.db["domains"].update_one(
                {"_id": name}, {"$setOnInsert": {"created_at": ts(utcnow())}}, upsert=True
            )
        except DuplicateKeyError:
            pass  # created by a concurrent call: what we wanted

    async def create_domain(self, name: str, description: str | None, now: datetime) -> None:
        doc = {"_id": name, "description": description, "created_at": ts(now)}
        try:
            await self.db["domains"].insert_one(doc)
        except DuplicateKeyError as exc:
            raise Conflict(f"domain '{name}' already exists") from exc

    async def _domain(self, doc: Doc) -> Domain:
        name = doc["_id"]
        return Domain(
            name=name,
            description=doc.get("description"),
            created_at=need_ts(doc["created_at"]),
            ai_enabled=doc.get("ai_enabled", True),
            jobs=await self.db["jobs"].count_documents({"domain": name}),
            tokens=await self.db["tokens"].count_documents({"domain": name, "revoked_at": None}),
        )

    async def has_domain(self, name: str) -> bool:
        return await self.db["domains"].find_one({"_id": name}, {"_id": 1}) is not None

    async def get_domain(self, name: str) -> Domain:
        doc = await self.db["domains"].find_one({"_id": name})
        if doc is None:
            raise NotFound(f"domain '{name}' not found")
        return await self._domain(doc)

    async def list_domains(self) -> list[Domain]:
        docs = await self.db["domains"].find({}).sort("_id", ASCENDING).to_list(None)
        return [await self._domain(d) for d in docs]

    async def set_domain_ai(self, name: str, enabled: bool) -> None:
        found = await self.db["domains"].update_one(
            {"_id": name}, {"$set": {"ai_enabled": enabled}}
        )
        if found.matched_count == 0:
            raise NotFound(f"domain '{name}' not found")

    async def update_domain(self, name: str, description: str | None) -> Domain:
        doc = await self.db["domains"].find_one_and_update(
            {"_id": name},
            {"$set": {"description": description}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound(f"domain '{name}' not found")
        return await self._domain(doc)

    async def delete_domain(self, name: str, *, batch: int = DELETE_BATCH) -> None:
        while True:
            found = self.db["runs"].find({"domain": name}, {"_id": 1}).limit(batch)
            ids = [d["_id"] for d in await found.to_list(None)]
            if not ids:
                break
            await self.db["log_chunks"].delete_many({"run_id": {"$in": ids}})
            await self.db["runs"].delete_many({"_id": {"$in": ids}})
        collections = ("jobs", "job_versions", "workers", "tokens", "audit", "analyses")
        for collection in (*collections, *NOTIFY_COLLECTIONS):
            await self.db[collection].delete_many({"domain": name})
        gone = await self.db["domains"].delete_one({"_id": name})
        if gone.deleted_count == 0:
            raise NotFound(f"domain '{name}' not found")

    # tokens ----------------------------------------------------------------------------------

    async def create_token(self, token: TokenRecord) -> None:
        await self.db["tokens"].insert_one(_token_doc(token))

    async def get_token(self, token_id: str) -> TokenRecord | None:
        doc = await self.db["tokens"].find_one({"_id": token_id})
        return None if doc is None else _token_from(doc)

    async def list_tokens(self, domain: str) -> list[TokenRecord]:
        found = self.db["tokens"].find({"domain": domain}).sort("_id", ASCENDING)
        return [_token_from(d) for d in await found.to_list(None)]

    async def revoke_token(self, domain: str, token_id: str, now: datetime) -> TokenRecord:
        mine = {"_id": token_id, "domain": domain}
        await self.db["tokens"].update_one(
            {**mine, "revoked_at": None}, {"$set": {"revoked_at": ts(now)}}
        )
        doc = await self.db["tokens"].find_one(mine)
        if doc is None:
            raise NotFound(f"token '{token_id}' not found")
        return _token_from(doc)

    async def set_token_role(self, domain: str, token_id: str, role: Role) -> TokenRecord:
        doc = await self.db["tokens"].find_one_and_update(
            {"_id": token_id, "domain": domain},
            {"$set": {"role": role.value}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound(f"token '{token_id}' not found")
        return _token_from(doc)

    async def touch_token(self, token_id: str, now: datetime) -> None:
        await self.db["tokens"].update_one({"_id": token_id}, {"$set": {"last_used_at": ts(now)}})

    async def active_tokens(self) -> list[TokenRecord]:
        found = self.db["tokens"].find({"revoked_at": None}).sort("_id", ASCENDING)
        return [_token_from(d) for d in await found.to_list(None)]

    # audit -----------------------------------------------------------------------------------

    async def add_audit(self, record: AuditRecord) -> None:
        await self.add_audits([record])

    async def add_audits(self, records: Sequence[AuditRecord]) -> None:
        if records:
            await self.db["audit"].insert_many([audit_doc(r) for r in records], ordered=False)

    async def list_audit(
        self,
        domain: str,
        *,
        limit: int,
        cursor: str | None,
        where: AuditFilter | None = None,
    ) -> Page[AuditRecord]:
        query: Doc = {"domain": domain}
        f = where or AuditFilter()
        for key, value in (
            ("actor", f.actor),
            ("action", f.action),
            ("object_type", f.object_type),
            ("object_id", f.object_id),
        ):
            if value is not None:
                query[key] = value
        at: Doc = {}
        if f.since is not None:
            at["$gte"] = ts(f.since)
        if f.until is not None:
            at["$lt"] = ts(f.until)
        if at:
            query["at"] = at
        if cursor:
            query["_id"] = {"$lt": cursor}
        found = self.db["audit"].find(query).sort("_id", DESCENDING).limit(limit + 1)
        docs = await found.to_list(None)
        items = [audit_from(d) for d in docs[:limit]]
        return Page[AuditRecord](
            items=items, next_cursor=items[-1].id if len(docs) > limit else None
        )
