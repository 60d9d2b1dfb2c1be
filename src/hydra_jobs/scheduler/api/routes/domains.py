"""Domains and their tokens (admin token only), the caller (`/me`) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from hydra_jobs.models import Page
from hydra_jobs.scheduler.api.deps import (
    AdminDep,
    CursorQuery,
    LimitQuery,
    PrincipalDep,
    RuntimeDep,
)
from hydra_jobs.scheduler.services.domains import TenancyService
from hydra_jobs.tenancy import (
    DOMAIN_PATTERN,
    AuditEntry,
    Domain,
    DomainCreate,
    DomainUpdate,
    Me,
    TokenCreate,
    TokenCreated,
    TokenInfo,
)

router = APIRouter()

DomainName = Annotated[str, Path(pattern=DOMAIN_PATTERN, description="The domain's name.")]


async def get_tenancy(request: Request) -> TenancyService:
    return TenancyService(request.app.state.engine.rt)


TenancyDep = Annotated[TenancyService, Depends(get_tenancy)]


@router.get("/me", response_model=Me, tags=["auth"])
async def me(who: PrincipalDep) -> Me:
    """Who the token is, and the domain calls act on (for the admin: the one selected)."""
    return Me(domain=who.domain, actor=who.actor, is_admin=who.is_admin, token_id=who.token_id)


@router.get("/audit", response_model=Page[AuditEntry], tags=["auth"])
async def audit_log(
    who: PrincipalDep, rt: RuntimeDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[AuditEntry]:
    """Every mutating call made in the caller's domain, newest first (never holding secrets)."""
    await rt.audit.flush()
    page = await rt.store.list_audit(who.domain, limit=limit, cursor=cursor)
    items = [AuditEntry.model_validate(r, from_attributes=True) for r in page.items]
    return Page[AuditEntry](items=items, next_cursor=page.next_cursor)


@router.post(
    "/domains", status_code=status.HTTP_201_CREATED, response_model=Domain, tags=["domains"]
)
async def create_domain(body: DomainCreate, who: AdminDep, tenancy: TenancyDep) -> Domain:
    """A new tenant. 409 if the name is taken."""
    return await tenancy.create_domain(body)


@router.get("/domains", response_model=Page[Domain], tags=["domains"])
async def list_domains(who: AdminDep, rt: RuntimeDep) -> Page[Domain]:
    return Page[Domain](items=await rt.store.list_domains())


@router.get("/domains/{name}", response_model=Domain, tags=["domains"])
async def get_domain(name: DomainName, who: AdminDep, rt: RuntimeDep) -> Domain:
    return await rt.store.get_domain(name)


@router.patch("/domains/{name}", response_model=Domain, tags=["domains"])
async def update_domain(
    name: DomainName, body: DomainUpdate, who: AdminDep, tenancy: TenancyDep
) -> Domain:
    return await tenancy.update_domain(name, body)


@router.delete("/domains/{name}", status_code=status.HTTP_204_NO_CONTENT, tags=["domains"])
async def delete_domain(
    name: DomainName,
    who: AdminDep,
    tenancy: TenancyDep,
    force: Annotated[
        bool, Query(description="Also delete its jobs, runs and logs (409 without it).")
    ] = False,
) -> Response:
    """Delete a domain, its tokens (revoked at once), workers and, with `force`, its jobs."""
    await tenancy.delete_domain(name, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/domains/{name}/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreated,
    tags=["domains"],
)
async def create_token(
    name: DomainName, body: TokenCreate, who: AdminDep, tenancy: TenancyDep
) -> TokenCreated:
    """A new token of the domain (256 random bits). The secret is in this response only."""
    return await tenancy.create_token(who, name, body.name)


@router.get("/domains/{name}/tokens", response_model=Page[TokenInfo], tags=["domains"])
async def list_tokens(name: DomainName, who: AdminDep, tenancy: TenancyDep) -> Page[TokenInfo]:
    """The domain's tokens, revoked ones included; never their secrets."""
    return Page[TokenInfo](items=await tenancy.list_tokens(name))


@router.delete("/domains/{name}/tokens/{token_id}", response_model=TokenInfo, tags=["domains"])
async def revoke_token(
    name: DomainName,
    token_id: Annotated[str, Path(max_length=64)],
    who: AdminDep,
    tenancy: TenancyDep,
) -> TokenInfo:
    """Revoke a token: calls with it fail at once, its workers stop. Idempotent."""
    return await tenancy.revoke_token(name, token_id)
