"""Domains (admin token only) and the caller (`/me`); tokens are in tokens.py, audit in audit.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from hydra_jobs.models import Page
from hydra_jobs.scheduler.api.deps import ADMIN, PrincipalDep, RuntimeDep, needs
from hydra_jobs.scheduler.services.domains import TenancyService
from hydra_jobs.tenancy import (
    DOMAIN_PATTERN,
    Domain,
    DomainCreate,
    DomainUpdate,
    Me,
    Role,
)

router = APIRouter()

DomainName = Annotated[str, Path(pattern=DOMAIN_PATTERN, description="The domain's name.")]


async def get_tenancy(request: Request) -> TenancyService:
    return TenancyService(request.app.state.engine.rt)


TenancyDep = Annotated[TenancyService, Depends(get_tenancy)]


@router.get("/me", response_model=Me, tags=["auth"], openapi_extra=needs(Role.viewer))
async def me(who: PrincipalDep) -> Me:
    """Who the token is, its role, and the domain calls act on (for the admin: the one selected)."""
    return Me(
        domain=who.domain,
        actor=who.actor,
        is_admin=who.is_admin,
        token_id=who.token_id,
        role=who.role,
    )


@router.post(
    "/domains",
    status_code=status.HTTP_201_CREATED,
    response_model=Domain,
    tags=["domains"],
    openapi_extra=needs(ADMIN),
)
async def create_domain(body: DomainCreate, who: PrincipalDep, tenancy: TenancyDep) -> Domain:
    """A new tenant. 409 if the name is taken."""
    return await tenancy.create_domain(body)


@router.get("/domains", response_model=Page[Domain], tags=["domains"], openapi_extra=needs(ADMIN))
async def list_domains(who: PrincipalDep, rt: RuntimeDep) -> Page[Domain]:
    return Page[Domain](items=await rt.store.list_domains())


@router.get("/domains/{name}", response_model=Domain, tags=["domains"], openapi_extra=needs(ADMIN))
async def get_domain(name: DomainName, who: PrincipalDep, rt: RuntimeDep) -> Domain:
    return await rt.store.get_domain(name)


@router.patch(
    "/domains/{name}", response_model=Domain, tags=["domains"], openapi_extra=needs(ADMIN)
)
async def update_domain(
    name: DomainName, body: DomainUpdate, who: PrincipalDep, tenancy: TenancyDep
) -> Domain:
    return await tenancy.update_domain(name, body)


@router.delete(
    "/domains/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["domains"],
    openapi_extra=needs(ADMIN),
)
async def delete_domain(
    name: DomainName,
    who: PrincipalDep,
    tenancy: TenancyDep,
    force: Annotated[
        bool, Query(description="Also delete its jobs, runs and logs (409 without it).")
    ] = False,
) -> Response:
    """Delete a domain, its tokens (revoked at once), workers and, with `force`, its jobs."""
    await tenancy.delete_domain(name, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
