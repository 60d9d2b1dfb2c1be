"""The MongoDB store's notifications: channels, the delivery outbox, domain settings, snoozes
(mixed into `MongoStore`).

The same promises as on SQL, each one atomic single-document operation: a dedup key is stored
once (unique index; an insert that collides is dropped), an attempt is claimed and finished with
a filter on its attempt number and status (`find_one_and_update`), so two leaders that briefly
overlap never both send one attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from hydra_jobs.alerts import (
    ALERTED,
    AttemptResult,
    ChannelRecord,
    Delivery,
    DeliveryFilter,
    DeliveryStatus,
    NotifyEvent,
    NotifySettings,
    Snooze,
)
from hydra_jobs.errors import Conflict, NotFound
from hydra_jobs.models import Page
from hydra_jobs.store.mongo.documents import Doc, need_ts, parse_ts, ts

TIME_FIELDS = ("next_attempt_at", "created_at", "last_attempt_at", "sent_at")
PENDING = DeliveryStatus.PENDING.value
NOTIFY_COLLECTIONS = ("notify_channels", "notify_deliveries", "notify_settings", "notify_snoozes")

NOTIFY_INDEXES: dict[str, list[IndexModel]] = {
    "notify_channels": [
        IndexModel([("domain", ASCENDING), ("name", ASCENDING)], name="uq_channel", unique=True)
    ],
    "notify_deliveries": [
        IndexModel([("dedup_key", ASCENDING)], name="uq_dedup_key", unique=True),
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="ix_due"),
        IndexModel(
            [("domain", ASCENDING), ("channel", ASCENDING), ("_id", DESCENDING)],
            name="ix_channel",
        ),
        IndexModel(
            [("domain", ASCENDING), ("job_id", ASCENDING), ("_id", DESCENDING)], name="ix_job"
        ),
        IndexModel(
            [("domain", ASCENDING), ("run_id", ASCENDING), ("_id", DESCENDING)], name="ix_run"
        ),
        IndexModel(
            [
                ("domain", ASCENDING),
                ("channel", ASCENDING),
                ("job_id", ASCENDING),
                ("event", ASCENDING),
                ("created_at", DESCENDING),
            ],
            name="ix_last",
        ),
        IndexModel([("created_at", ASCENDING)], name="ix_created"),
    ],
    "notify_snoozes": [
        IndexModel([("domain", ASCENDING), ("job_id", ASCENDING)], name="uq_snooze", unique=True)
    ],
}


def _delivery_doc(delivery: Delivery) -> Doc:
    doc = delivery.model_dump(mode="json")
    doc["_id"] = doc.pop("id")
    for name in TIME_FIELDS:
        value = getattr(delivery, name)
        doc[name] = ts(value) if value is not None else None
    return doc


def _delivery_from(doc: Doc) -> Delivery:
    data = dict(doc)
    data["id"] = data.pop("_id")
    for name in TIME_FIELDS:
        data[name] = parse_ts(data.get(name))
    return Delivery.model_validate(data)


def _channel_from(doc: Doc) -> ChannelRecord:
    return ChannelRecord(
        domain=doc["domain"],
        name=doc["name"],
        type=doc["type"],
        config=doc["config"],
        created_at=need_ts(doc["created_at"]),
        created_by=doc["created_by"],
    )


def _snooze_from(doc: Doc) -> Snooze:
    return Snooze(
        domain=doc["domain"],
        job_id=doc["job_id"],
        until=need_ts(doc["until"]),
        reason=doc.get("reason"),
        created_by=doc["created_by"],
        created_at=need_ts(doc["created_at"]),
    )


class MongoNotify:
    @property
    def db(self) -> AsyncDatabase[Doc]:
        raise NotImplementedError  # MongoStore's

    # channels --------------------------------------------------------------------------------

    async def create_channel(self, channel: ChannelRecord) -> None:
        doc = {
            "domain": channel.domain,
            "name": channel.name,
            "type": channel.type,
            "config": channel.config,
            "created_at": ts(channel.created_at),
            "created_by": channel.created_by,
        }
        try:
            await self.db["notify_channels"].insert_one(doc)
        except DuplicateKeyError as exc:
            raise Conflict(f"a channel named '{channel.name}' already exists") from exc

    async def get_channel(self, domain: str, name: str) -> ChannelRecord:
        doc = await self.db["notify_channels"].find_one({"domain": domain, "name": name})
        if doc is None:
            raise NotFound(f"channel '{name}' not found")
        return _channel_from(doc)

    async def list_channels(self, domain: str) -> list[ChannelRecord]:
        found = self.db["notify_channels"].find({"domain": domain}).sort("name", ASCENDING)
        return [_channel_from(d) for d in await found.to_list(None)]

    async def delete_channel(self, domain: str, name: str) -> None:
        gone = await self.db["notify_channels"].delete_one({"domain": domain, "name": name})
        if gone.deleted_count == 0:
            raise NotFound(f"channel '{name}' not found")

    # the outbox ------------------------------------------------------------------------------

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        added = []
        for delivery in deliveries:
            try:
                await self.db["notify_deliveries"].insert_one(_delivery_doc(delivery))
            except DuplicateKeyError:
                continue  # that event is in the outbox already (N1)
            added.append(delivery)
        return added

    async def claim_deliveries(self, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        outbox = self.db["notify_deliveries"]
        due = outbox.find({"status": PENDING, "next_attempt_at": {"$lte": ts(now)}})
        claimed = []
        for doc in await due.sort("next_attempt_at", ASCENDING).limit(limit).to_list(None):
            taken = await outbox.find_one_and_update(
                {"_id": doc["_id"], "attempts": doc["attempts"], "status": PENDING},
                {
                    "$set": {"next_attempt_at": ts(until), "last_attempt_at": ts(now)},
                    "$inc": {"attempts": 1},
                },
                return_document=ReturnDocument.AFTER,
            )
            if taken is not None:
                claimed.append(_delivery_from(taken))
        return claimed

    async def finish_attempt(self, result: AttemptResult) -> bool:
        values: dict[str, Any] = {
            "status": result.status.value,
            "next_attempt_at": ts(result.next_attempt_at) if result.next_attempt_at else None,
            "response_code": result.response_code,
            "error": result.error,
        }
        if result.status is DeliveryStatus.SENT:
            values["sent_at"] = ts(result.at)
        done = await self.db["notify_deliveries"].update_one(
            {"_id": result.delivery_id, "attempts": result.attempt, "status": PENDING},
            {"$set": values},
        )
        return done.modified_count == 1

    async def list_deliveries(
        self, domain: str, flt: DeliveryFilter, *, limit: int, cursor: str | None
    ) -> Page[Delivery]:
        query: Doc = {"domain": domain}
        if flt.channel:
            query["channel"] = flt.channel
        if flt.job_id:
            query["job_id"] = flt.job_id
        if flt.run_id:
            query["run_id"] = flt.run_id
        if cursor:
            query["_id"] = {"$lt": cursor}
        found = self.db["notify_deliveries"].find(query).sort("_id", DESCENDING).limit(limit + 1)
        docs = await found.to_list(None)
        items = [_delivery_from(d) for d in docs[:limit]]
        return Page[Delivery](items=items, next_cursor=items[-1].id if len(docs) > limit else None)

    async def last_alert_at(
        self, domain: str, channel: str, job_id: str, event: NotifyEvent
    ) -> datetime | None:
        doc = await self.db["notify_deliveries"].find_one(
            {
                "domain": domain,
                "channel": channel,
                "job_id": job_id,
                "event": event.value,
                "status": {"$in": [s.value for s in ALERTED]},
            },
            sort=[("created_at", DESCENDING)],
        )
        return None if doc is None else parse_ts(doc["created_at"])

    async def delete_deliveries_before(self, cutoff: datetime, *, batch: int) -> int:
        outbox = self.db["notify_deliveries"]
        found = outbox.find(
            {"created_at": {"$lt": ts(cutoff)}, "status": {"$ne": PENDING}}, {"_id": 1}
        )
        ids = [d["_id"] for d in await found.limit(batch).to_list(None)]
        if ids:
            await outbox.delete_many({"_id": {"$in": ids}})
        return len(ids)

    # domain settings and snoozes -------------------------------------------------------------

    async def get_notify_settings(self, domain: str) -> tuple[NotifySettings, datetime | None]:
        doc = await self.db["notify_settings"].find_one({"_id": domain})
        if doc is None:
            return NotifySettings(), None
        return NotifySettings.model_validate(doc["settings"]), parse_ts(doc["updated_at"])

    async def set_notify_settings(
        self, domain: str, settings: NotifySettings, now: datetime
    ) -> None:
        await self.db["notify_settings"].update_one(
            {"_id": domain},
            {"$set": {"settings": settings.model_dump(mode="json"), "updated_at": ts(now)}},
            upsert=True,
        )

    async def set_snooze(self, snooze: Snooze) -> None:
        doc = {
            "until": ts(snooze.until),
            "reason": snooze.reason,
            "created_by": snooze.created_by,
            "created_at": ts(snooze.created_at),
        }
        await self.db["notify_snoozes"].update_one(
            {"domain": snooze.domain, "job_id": snooze.job_id}, {"$set": doc}, upsert=True
        )

    async def clear_snooze(self, domain: str, job_id: str) -> bool:
        gone = await self.db["notify_snoozes"].delete_one({"domain": domain, "job_id": job_id})
        return gone.deleted_count == 1

    async def list_snoozes(self, domain: str) -> list[Snooze]:
        found = self.db["notify_snoozes"].find({"domain": domain}).sort("job_id", ASCENDING)
        return [_snooze_from(d) for d in await found.to_list(None)]
