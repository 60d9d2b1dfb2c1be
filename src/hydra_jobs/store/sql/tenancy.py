"""The SQL store's domains, tokens and audit records (mixed into `SqlStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hydra_jobs.clock import utcnow
from hydra_jobs.errors import Conflict, NotFound
from hydra_jobs.models import Page
from hydra_jobs.store.base import AuditFilter, AuditRecord
from hydra_jobs.store.sql.notify import SqlNotify
from hydra_jobs.store.sql.tables import (
    analyses,
    audit,
    domains,
    job_versions,
    jobs,
    log_chunks,
    runs,
    tokens,
    workers,
)
from hydra_jobs.store.sql.transactions import Runner
from hydra_jobs.tenancy import Domain, Role
from hydra_jobs.tokens import TokenRecord


def _token_from(row: Any) -> TokenRecord:
    fields = dict(row._mapping)
    return TokenRecord(**{**fields, "role": Role(fields["role"])})


def _audit_row(record: AuditRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "domain": record.domain,
        "actor": record.actor,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "at": record.at,
        "details": record.details,
    }


class SqlTenancy:
    runner: Runner

    def _insert_ignore(self, table: sa.Table, keys: list[str]) -> Any:
        raise NotImplementedError  # SqlStore's, per dialect

    # domains ---------------------------------------------------------------------------------

    async def ensure_domain(self, name: str) -> None:
        stmt = self._insert_ignore(domains, ["name"]).values(name=name, created_at=utcnow())
        await self.runner.write(lambda c: c.execute(stmt))

    async def create_domain(self, name: str, description: str | None, now: datetime) -> None:
        stmt = domains.insert().values(name=name, description=description, created_at=now)
        try:
            await self.runner.write(lambda c: c.execute(stmt))
        except IntegrityError as exc:
            raise Conflict(f"domain '{name}' already exists") from exc

    @staticmethod
    def _domains(c: Connection, name: str | None) -> list[Domain]:
        job_count = (
            sa.select(sa.func.count())
            .where(jobs.c.domain == domains.c.name)
            .correlate(domains)
            .scalar_subquery()
        )
        token_count = (
            sa.select(sa.func.count())
            .where(tokens.c.domain == domains.c.name, tokens.c.revoked_at.is_(None))
            .correlate(domains)
            .scalar_subquery()
        )
        query = sa.select(
            domains.c.name,
            domains.c.description,
            domains.c.created_at,
            domains.c.ai_enabled,
            job_count.label("jobs"),
            token_count.label("tokens"),
        ).order_by(domains.c.name)
        if name is not None:
            query = query.where(domains.c.name == name)
        return [Domain.model_validate(dict(r._mapping)) for r in c.execute(query)]

    async def has_domain(self, name: str) -> bool:
        query = sa.select(domains.c.name).where(domains.c.name == name)
        return await self.runner.read(lambda c: c.execute(query).first() is not None)

    async def get_domain(self, name: str) -> Domain:
        found = await self.runner.read(lambda c: self._domains(c, name))
        if not found:
            raise NotFound(f"domain '{name}' not found")
        return found[0]

    async def list_domains(self) -> list[Domain]:
        return await self.runner.read(lambda c: self._domains(c, None))

    async def set_domain_ai(self, name: str, enabled: bool) -> None:
        stmt = domains.update().where(domains.c.name == name).values(ai_enabled=enabled)
        changed = await self.runner.write(lambda c: c.execute(stmt).rowcount)
        if not changed:
            raise NotFound(f"domain '{name}' not found")

    async def update_domain(self, name: str, description: str | None) -> Domain:
        stmt = domains.update().where(domains.c.name == name).values(description=description)

        def update(c: Connection) -> list[Domain]:
            c.execute(stmt)
            return self._domains(c, name)

        found = await self.runner.write(update)
        if not found:
            raise NotFound(f"domain '{name}' not found")
        return found[0]

    async def delete_domain(self, name: str, *, batch: int = 1000) -> None:
        # Runs go in batches, each its own transaction, so a large domain never holds the
        # database (SQLite's single writer) for long; the rest is small.
        page = sa.select(runs.c.id).where(runs.c.domain == name).limit(batch)

        def delete_runs(c: Connection) -> int:
            ids = [r[0] for r in c.execute(page)]
            if ids:
                c.execute(log_chunks.delete().where(log_chunks.c.run_id.in_(ids)))
                c.execute(runs.delete().where(runs.c.id.in_(ids)))
            return len(ids)

        while await self.runner.write(delete_runs) == batch:
            pass

        def delete_rest(c: Connection) -> int:
            for table in (jobs, job_versions, workers, tokens, audit, analyses):
                c.execute(table.delete().where(table.c.domain == name))
            SqlNotify.delete_notify_of_domain(c, name)
            return int(c.execute(domains.delete().where(domains.c.name == name)).rowcount)

        if not await self.runner.write(delete_rest):
            raise NotFound(f"domain '{name}' not found")

    # tokens ----------------------------------------------------------------------------------

    async def create_token(self, token: TokenRecord) -> None:
        stmt = tokens.insert().values(
            id=token.id,
            domain=token.domain,
            name=token.name,
            secret_hash=token.secret_hash,
            worker_key=token.worker_key,
            created_at=token.created_at,
            created_by=token.created_by,
            role=token.role.value,
        )
        await self.runner.write(lambda c: c.execute(stmt))

    async def get_token(self, token_id: str) -> TokenRecord | None:
        query = tokens.select().where(tokens.c.id == token_id)
        row = await self.runner.read(lambda c: c.execute(query).first())
        return None if row is None else _token_from(row)

    async def list_tokens(self, domain: str) -> list[TokenRecord]:
        query = tokens.select().where(tokens.c.domain == domain).order_by(tokens.c.id)
        return await self.runner.read(lambda c: [_token_from(r) for r in c.execute(query)])

    async def revoke_token(self, domain: str, token_id: str, now: datetime) -> TokenRecord:
        mine = sa.and_(tokens.c.domain == domain, tokens.c.id == token_id)

        def revoke(c: Connection) -> Any:
            c.execute(
                tokens.update().where(mine, tokens.c.revoked_at.is_(None)).values(revoked_at=now)
            )
            return c.execute(tokens.select().where(mine)).first()

        row = await self.runner.write(revoke)
        if row is None:
            raise NotFound(f"token '{token_id}' not found")
        return _token_from(row)

    async def set_token_role(self, domain: str, token_id: str, role: Role) -> TokenRecord:
        mine = sa.and_(tokens.c.domain == domain, tokens.c.id == token_id)

        def update(c: Connection) -> Any:
            c.execute(tokens.update().where(mine).values(role=role.value))
            return c.execute(tokens.select().where(mine)).first()

        row = await self.runner.write(update)
        if row is None:
            raise NotFound(f"token '{token_id}' not found")
        return _token_from(row)

    async def touch_token(self, token_id: str, now: datetime) -> None:
        stmt = tokens.update().where(tokens.c.id == token_id).values(last_used_at=now)
        await self.runner.write(lambda c: c.execute(stmt))

    async def active_tokens(self) -> list[TokenRecord]:
        query = tokens.select().where(tokens.c.revoked_at.is_(None)).order_by(tokens.c.id)
        return await self.runner.read(lambda c: [_token_from(r) for r in c.execute(query)])

    # audit -----------------------------------------------------------------------------------

    async def add_audit(self, record: AuditRecord) -> None:
        await self.add_audits([record])

    async def add_audits(self, records: Sequence[AuditRecord]) -> None:
        if not records:
            return
        rows = [_audit_row(r) for r in records]
        await self.runner.write(lambda c: c.execute(audit.insert(), rows))

    async def list_audit(
        self,
        domain: str,
        *,
        limit: int,
        cursor: str | None,
        where: AuditFilter | None = None,
    ) -> Page[AuditRecord]:
        query = audit.select().where(audit.c.domain == domain)
        f = where or AuditFilter()
        for column, value in (
            (audit.c.actor, f.actor),
            (audit.c.action, f.action),
            (audit.c.object_type, f.object_type),
            (audit.c.object_id, f.object_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if f.since is not None:
            query = query.where(audit.c.at >= f.since)
        if f.until is not None:
            query = query.where(audit.c.at < f.until)
        if cursor:
            query = query.where(audit.c.id < cursor)
        query = query.order_by(audit.c.id.desc()).limit(limit + 1)
        rows = await self.runner.read(lambda c: c.execute(query).fetchall())
        items = [AuditRecord(**dict(r._mapping)) for r in rows[:limit]]
        return Page[AuditRecord](
            items=items, next_cursor=items[-1].id if len(rows) > limit else None
        )
