"""The SQL store's notification tables: channels, the delivery outbox, domain settings, snoozes
(mixed into `SqlStore`).

The outbox's promises: a dedup key is stored once (unique index, inserts that collide are
dropped), and an attempt is claimed and finished with compare-and-set on its attempt number, so
two leaders that briefly overlap never both send one attempt, and a late finish of an old attempt
cannot overwrite a newer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

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
from hydra_jobs.store.sql.tables import (
    as_utc,
    notify_channels,
    notify_deliveries,
    notify_settings,
    notify_snoozes,
)
from hydra_jobs.store.sql.transactions import Runner

ALERTED_VALUES = [s.value for s in ALERTED]


def _delivery_from(row: Any) -> Delivery:
    return Delivery.model_validate(dict(row._mapping))


def _channel_from(row: Any) -> ChannelRecord:
    return ChannelRecord(**dict(row._mapping))


class SqlNotify:
    runner: Runner

    def _insert_ignore(self, table: sa.Table, keys: list[str]) -> Any:
        raise NotImplementedError  # SqlStore's, per dialect

    # channels --------------------------------------------------------------------------------

    async def create_channel(self, channel: ChannelRecord) -> None:
        stmt = notify_channels.insert().values(
            domain=channel.domain,
            name=channel.name,
            type=channel.type,
            config=channel.config,
            created_at=channel.created_at,
            created_by=channel.created_by,
        )
        try:
            await self.runner.write(lambda c: c.execute(stmt))
        except IntegrityError as exc:
            raise Conflict(f"a channel named '{channel.name}' already exists") from exc

    async def get_channel(self, domain: str, name: str) -> ChannelRecord:
        query = notify_channels.select().where(
            notify_channels.c.domain == domain, notify_channels.c.name == name
        )
        row = await self.runner.read(lambda c: c.execute(query).first())
        if row is None:
            raise NotFound(f"channel '{name}' not found")
        return _channel_from(row)

    async def list_channels(self, domain: str) -> list[ChannelRecord]:
        query = (
            notify_channels.select()
            .where(notify_channels.c.domain == domain)
            .order_by(notify_channels.c.name)
        )
        return await self.runner.read(lambda c: [_channel_from(r) for r in c.execute(query)])

    async def delete_channel(self, domain: str, name: str) -> None:
        stmt = notify_channels.delete().where(
            notify_channels.c.domain == domain, notify_channels.c.name == name
        )
        if not await self.runner.write(lambda c: c.execute(stmt).rowcount):
            raise NotFound(f"channel '{name}' not found")

    # the outbox ------------------------------------------------------------------------------

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        if not deliveries:
            return []
        stmt = self._insert_ignore(notify_deliveries, ["dedup_key"])

        def insert(c: Connection) -> list[Delivery]:
            added = []
            for delivery in deliveries:  # one by one: which of them were new is the answer
                if c.execute(stmt.values(**delivery.model_dump())).rowcount:
                    added.append(delivery)
            return added

        return await self.runner.write(insert)

    async def claim_deliveries(self, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        t = notify_deliveries
        due = (
            t.select()
            .where(t.c.status == DeliveryStatus.PENDING.value, t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at)
            .limit(limit)
        )

        def claim(c: Connection) -> list[Delivery]:
            claimed = []
            for row in c.execute(due).fetchall():
                found = _delivery_from(row)
                taken = c.execute(
                    t.update()
                    .where(
                        t.c.id == found.id,
                        t.c.attempts == found.attempts,
                        t.c.status == DeliveryStatus.PENDING.value,
                    )
                    .values(attempts=found.attempts + 1, next_attempt_at=until, last_attempt_at=now)
                ).rowcount
                if taken:
                    claimed.append(
                        found.model_copy(
                            update={
                                "attempts": found.attempts + 1,
                                "next_attempt_at": until,
                                "last_attempt_at": now,
                            }
                        )
                    )
            return claimed

        return await self.runner.write(claim)

    async def finish_attempt(self, result: AttemptResult) -> bool:
        t = notify_deliveries
        values: dict[str, Any] = {
            "status": result.status.value,
            "next_attempt_at": result.next_attempt_at,
            "response_code": result.response_code,
            "error": result.error,
        }
        if result.status is DeliveryStatus.SENT:
            values["sent_at"] = result.at
        stmt = (
            t.update()
            .where(
                t.c.id == result.delivery_id,
                t.c.attempts == result.attempt,
                t.c.status == DeliveryStatus.PENDING.value,
            )
            .values(**values)
        )
        return bool(await self.runner.write(lambda c: c.execute(stmt).rowcount))

    async def list_deliveries(
        self, domain: str, flt: DeliveryFilter, *, limit: int, cursor: str | None
    ) -> Page[Delivery]:
        t = notify_deliveries
        conditions = [t.c.domain == domain]
        if flt.channel:
            conditions.append(t.c.channel == flt.channel)
        if flt.job_id:
            conditions.append(t.c.job_id == flt.job_id)
        if flt.run_id:
            conditions.append(t.c.run_id == flt.run_id)
        if cursor:
            conditions.append(t.c.id < cursor)
        query = t.select().where(*conditions).order_by(t.c.id.desc()).limit(limit + 1)
        rows = await self.runner.read(lambda c: c.execute(query).fetchall())
        items = [_delivery_from(r) for r in rows[:limit]]
        return Page[Delivery](items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    async def last_alert_at(
        self, domain: str, channel: str, job_id: str, event: NotifyEvent
    ) -> datetime | None:
        t = notify_deliveries
        query = sa.select(sa.func.max(t.c.created_at)).where(
            t.c.domain == domain,
            t.c.channel == channel,
            t.c.job_id == job_id,
            t.c.event == event.value,
            t.c.status.in_(ALERTED_VALUES),
        )
        value = await self.runner.read(lambda c: c.execute(query).scalar())
        return as_utc(value)  # an aggregate: text on SQLite

    async def delete_deliveries_before(self, cutoff: datetime, *, batch: int) -> int:
        t = notify_deliveries
        page = (
            sa.select(t.c.id)
            .where(t.c.created_at < cutoff, t.c.status != DeliveryStatus.PENDING.value)
            .limit(batch)
        )

        def delete(c: Connection) -> int:
            ids = [r[0] for r in c.execute(page)]
            if ids:
                c.execute(t.delete().where(t.c.id.in_(ids)))
            return len(ids)

        return await self.runner.write(delete)

    # domain settings and snoozes -------------------------------------------------------------

    async def get_notify_settings(self, domain: str) -> tuple[NotifySettings, datetime | None]:
        query = notify_settings.select().where(notify_settings.c.domain == domain)
        row = await self.runner.read(lambda c: c.execute(query).first())
        if row is None:
            return NotifySettings(), None
        return NotifySettings.model_validate(row.settings), row.updated_at

    async def set_notify_settings(
        self, domain: str, settings: NotifySettings, now: datetime
    ) -> None:
        t = notify_settings
        values = {"settings": settings.model_dump(mode="json"), "updated_at": now}
        stmt = self._insert_ignore(t, ["domain"]).values(domain=domain, **values)

        def upsert(c: Connection) -> None:
            if not c.execute(stmt).rowcount:
                c.execute(t.update().where(t.c.domain == domain).values(**values))

        await self.runner.write(upsert)

    async def set_snooze(self, snooze: Snooze) -> None:
        t = notify_snoozes
        values = snooze.model_dump()
        stmt = self._insert_ignore(t, ["domain", "job_id"]).values(**values)

        def upsert(c: Connection) -> None:
            if not c.execute(stmt).rowcount:
                c.execute(
                    t.update()
                    .where(t.c.domain == snooze.domain, t.c.job_id == snooze.job_id)
                    .values(**values)
                )

        await self.runner.write(upsert)

    async def clear_snooze(self, domain: str, job_id: str) -> bool:
        t = notify_snoozes
        stmt = t.delete().where(t.c.domain == domain, t.c.job_id == job_id)
        return bool(await self.runner.write(lambda c: c.execute(stmt).rowcount))

    async def list_snoozes(self, domain: str) -> list[Snooze]:
        t = notify_snoozes
        query = t.select().where(t.c.domain == domain).order_by(t.c.job_id)
        rows = await self.runner.read(lambda c: c.execute(query).fetchall())
        return [Snooze.model_validate(dict(r._mapping)) for r in rows]

    @staticmethod
    def delete_notify_of_domain(c: Connection, domain: str) -> None:
        """Part of deleting a domain (`SqlTenancy.delete_domain`)."""
        for table in (notify_channels, notify_deliveries, notify_settings, notify_snoozes):
            c.execute(table.delete().where(table.c.domain == domain))
