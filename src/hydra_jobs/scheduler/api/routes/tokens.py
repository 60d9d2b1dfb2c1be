"""A domain's tokens: made, listed, given another role and revoked by its owners (or the admin).

A domain token names only its own domain (another's answers 404, as for any object not its own).
Tagged `domains` so the audit log files these calls under the domain they change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from hydra_jobs.models import Page
from hydra_jobs.scheduler.api.deps import PrincipalDep, needs, own_domain
from hydra_jobs.scheduler.api.routes.domains import DomainName, TenancyDep
from hydra_jobs.tenancy import Role, TokenCreate, TokenCreated, TokenInfo, TokenUpdate

router = APIRouter(prefix="/domains/{name}/tokens", tags=["domains"])

TokenId = Annotated[str, Path(max_length=64)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreated,
    openapi_extra=needs(Role.owner),
)
async def create_token(
    name: DomainName, body: TokenCreate, who: PrincipalDep, tenancy: TenancyDep, request: Request
) -> TokenCreated:
    """A new token of the domain (256 random bits) with a role. The secret is in this response
    only."""
    own_domain(who, name)
    request.state.audit_details = {"role": body.role.value}
    return await tenancy.create_token(who, name, body.name, body.role)


@router.get("", response_model=Page[TokenInfo], openapi_extra=needs(Role.owner))
async def list_tokens(name: DomainName, who: PrincipalDep, tenancy: TenancyDep) -> Page[TokenInfo]:
    """The domain's tokens, revoked ones included; never their secrets."""
    own_domain(who, name)
    return Page[TokenInfo](items=await tenancy.list_tokens(name))


@router.patch("/{token_id}", response_model=TokenInfo, openapi_extra=needs(Role.owner))
async def update_token(
    name: DomainName,
    token_id: TokenId,
    body: TokenUpdate,
    who: PrincipalDep,
    tenancy: TenancyDep,
    request: Request,
) -> TokenInfo:
    """Give a token another role; it holds from the token's next call. A token cannot change
    its own role (409). Workers of a token made a viewer stop (a worker needs operator)."""
    own_domain(who, name)
    before, after = await tenancy.set_role(who, name, token_id, body.role)
    request.state.audit_details = {"role": after.role.value, "previous_role": before.value}
    return after


@router.delete("/{token_id}", response_model=TokenInfo, openapi_extra=needs(Role.owner))
async def revoke_token(
    name: DomainName, token_id: TokenId, who: PrincipalDep, tenancy: TenancyDep
) -> TokenInfo:
    """Revoke a token: calls with it fail at once, its workers stop. Idempotent."""
    own_domain(who, name)
    return await tenancy.revoke_token(name, token_id)
