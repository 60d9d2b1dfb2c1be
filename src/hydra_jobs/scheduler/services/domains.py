"""Domains and their tokens: the admin use cases behind `/domains` (routes/domains.py)."""

from __future__ import annotations

import logging

from hydra_jobs.errors import Conflict, Forbidden, NotFound
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services.credential_publisher import CredentialPublisher
from hydra_jobs.scheduler.services.jobs import Principal
from hydra_jobs.scheduler.services.runs import cancel_run
from hydra_jobs.status import NOT_ENDED
from hydra_jobs.store.base import RunFilter
from hydra_jobs.tenancy import (
    DEFAULT_DOMAIN,
    Domain,
    DomainCreate,
    DomainUpdate,
    Role,
    TokenCreated,
    TokenInfo,
)
from hydra_jobs.tokens import TokenRecord, mint

log = logging.getLogger(__name__)

PAGE = 500


def token_info(record: TokenRecord) -> TokenInfo:
    return TokenInfo.model_validate(record, from_attributes=True)  # takes no hash: not a field


class TenancyService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.credentials = CredentialPublisher(rt)

    async def create_domain(self, body: DomainCreate) -> Domain:
        await self.rt.store.create_domain(body.name, body.description, self.rt.clock.now())
        return await self.rt.store.get_domain(body.name)

    async def update_domain(self, name: str, body: DomainUpdate) -> Domain:
        given = body.model_fields_set
        if body.ai_enabled is not None:
            await self.rt.store.set_domain_ai(name, body.ai_enabled)
        if "description" in given or not given:
            return await self.rt.store.update_domain(name, body.description)
        return await self.rt.store.get_domain(name)

    async def delete_domain(self, name: str, *, force: bool) -> None:
        """Delete a domain; one that holds jobs needs `force`, which removes them with it.

        Its tokens stop working at once, its runs still going are cancelled (their processes
        killed), and its workers, seeing their tokens revoked, stop.
        """
        if name == DEFAULT_DOMAIN:
            raise Conflict("the default domain cannot be deleted")
        domain = await self.rt.store.get_domain(name)
        if domain.jobs and not force:
            raise Conflict(
                f"domain '{name}' holds {domain.jobs} job(s): delete them first, "
                "or pass force=true to delete the domain with everything in it"
            )
        tokens = [t for t in await self.rt.store.list_tokens(name) if t.revoked_at is None]
        now = self.rt.clock.now()
        for token in tokens:
            await self.rt.store.revoke_token(name, token.id, now)
        await self.credentials.revoke(tokens)
        # Jobs go first, and the ticker hears of it, so nothing fires while the rest goes.
        job_ids = await self._job_ids(name)
        for job_id in job_ids:
            await self.rt.store.delete_job(name, job_id)
            self.rt.job_changed(job_id)
        await self._cancel_runs(name)
        await self.rt.store.delete_domain(name)
        log.info(
            "deleted domain %s (%d job(s))", name, len(job_ids), extra={"action": "domain_delete"}
        )

    async def _cancel_runs(self, domain: str) -> None:
        cursor: str | None = None
        while True:
            page = await self.rt.store.list_runs(
                domain, RunFilter(status=NOT_ENDED), limit=PAGE, cursor=cursor
            )
            for run in page.items:
                try:
                    await cancel_run(self.rt, run, reason="its domain was deleted")
                except (Conflict, NotFound):
                    pass  # it ended (or went) meanwhile
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def _job_ids(self, domain: str) -> list[str]:
        ids: list[str] = []
        cursor: str | None = None
        while True:
            page = await self.rt.store.list_jobs(domain, limit=PAGE, cursor=cursor)
            ids += [j.id for j in page.items]
            if page.next_cursor is None:
                return ids
            cursor = page.next_cursor

    async def create_token(
        self, who: Principal, domain: str, name: str, role: Role
    ) -> TokenCreated:
        """A new token; a domain token may give no more than its own role (an owner's: any)."""
        _may_give(who, role)
        await self._need_domain(domain)
        minted = mint()
        record = TokenRecord(
            id=minted.token_id,
            domain=domain,
            name=name,
            secret_hash=minted.secret_hash,
            worker_key=minted.worker_key.hex(),
            created_at=self.rt.clock.now(),
            created_by=who.actor,
            role=role,
        )
        await self.rt.store.create_token(record)
        await self.credentials.put(record)
        return TokenCreated(**token_info(record).model_dump(), token=minted.value)

    async def list_tokens(self, domain: str) -> list[TokenInfo]:
        await self._need_domain(domain)
        return [token_info(t) for t in await self.rt.store.list_tokens(domain)]

    async def _need_domain(self, name: str) -> None:
        if not await self.rt.store.has_domain(name):
            raise NotFound(f"domain '{name}' not found")

    async def set_role(
        self, who: Principal, domain: str, token_id: str, role: Role
    ) -> tuple[Role, TokenInfo]:
        """Give a token of `domain` another role; returns the role it had and the token now.

        A token cannot change its own role (an owner cannot lock the domain out by mistake,
        nor does any token raise itself). Worker credentials follow: a token that may no longer
        run workers has its workers stopped, one that now may is published.
        """
        _may_give(who, role)
        if who.token_id == token_id:
            raise Conflict("a token cannot change its own role: use another owner token")
        before = next(
            (t for t in await self.rt.store.list_tokens(domain) if t.id == token_id), None
        )
        if before is None:
            raise NotFound(f"token '{token_id[:64]}' not found")
        after = await self.rt.store.set_token_role(domain, token_id, role)
        if before.can_work and not after.can_work:
            await self.credentials.revoke([after])
        elif after.can_work and not before.can_work:
            await self.credentials.put(after)
        log.info(
            "token %s of %s: role %s -> %s",
            token_id,
            domain,
            before.role,
            after.role,
            extra={"action": "token_role"},
        )
        return before.role, token_info(after)

    async def revoke_token(self, domain: str, token_id: str) -> TokenInfo:
        record = await self.rt.store.revoke_token(domain, token_id, self.rt.clock.now())
        await self.credentials.revoke([record])
        return token_info(record)


def _may_give(who: Principal, role: Role) -> None:
    """Nobody hands out more than they hold (only owners reach the token routes, and they
    hold every role, so this guards a route that someday lets less than an owner in)."""
    if not who.is_admin and not who.role.allows(role):
        raise Forbidden(f"a {who.role} token cannot give the {role} role")
