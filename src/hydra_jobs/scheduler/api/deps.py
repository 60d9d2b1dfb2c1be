"""FastAPI dependency aliases: routes declare what they need, never build it.

Authorization is one dependency on every `/api/v1` route (`get_principal`, set on the router in
app.py): it authenticates the caller and checks the role the route declares with
`openapi_extra=needs(...)` (shown in the OpenAPI schema as `x-hydra-role`). A route that declares
none is the admin's only: a route someone forgot is closed, not open.

Every dependency is `async def` even when it awaits nothing: FastAPI runs plain `def` dependencies
in a thread pool, a thread hop per dependency per request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request

from hydra_jobs.errors import Forbidden, NotFound
from hydra_jobs.models import Run
from hydra_jobs.scheduler.ai.providers import AiProviders
from hydra_jobs.scheduler.api.auth import Authenticator
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.loops.engine import Engine
from hydra_jobs.scheduler.services.jobs import JobService, Principal
from hydra_jobs.store.base import Store
from hydra_jobs.tenancy import Role

ROLE_KEY = "x-hydra-role"
ADMIN: Literal["admin"] = "admin"
Needed = Role | Literal["admin"]


def needs(role: Needed) -> dict[str, Any]:
    """A route's `openapi_extra`: the least role that may call it (`admin`: the admin token)."""
    return {ROLE_KEY: str(role)}


def needed_role(route: object) -> Needed:
    """What a route declared with `needs`; the admin's alone when it declared nothing."""
    extra = getattr(route, "openapi_extra", None) or {}
    value = extra.get(ROLE_KEY)
    return Role(value) if isinstance(value, str) and value in Role.__members__ else ADMIN


def authorize(who: Principal, needed: Needed) -> None:
    if who.is_admin:
        return
    if needed == ADMIN:
        raise Forbidden("this needs the admin token")
    if not who.role.allows(needed):
        article = "an" if who.role.value[0] in "aeiou" else "a"
        raise Forbidden(
            f"this needs the {needed} role or higher; this token is {article} {who.role} "
            f"(ask an owner of domain '{who.domain}' or the admin for another)"
        )


def own_domain(who: Principal, name: str) -> None:
    """A domain named in a path must be the caller's (the admin's: any); 404 otherwise."""
    if not who.is_admin and name != who.domain:
        raise NotFound(f"domain '{name[:64]}' not found")


async def get_engine(request: Request) -> Engine:
    return _engine(request)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_runtime(request: Request) -> Runtime:
    return _engine(request).rt


async def get_store(request: Request) -> Store:
    return _engine(request).rt.store


async def get_principal(request: Request) -> Principal:
    authenticator: Authenticator = request.app.state.auth
    who = await authenticator(request)
    request.state.principal = who  # for the audit log (scheduler/api/audit_middleware.py)
    authorize(who, needed_role(request.scope.get("route")))
    return who


async def get_auth(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.auth
    return authenticator


async def get_ai(request: Request) -> AiProviders:
    providers: AiProviders = request.app.state.ai
    return providers


async def get_jobs(request: Request) -> JobService:
    return JobService(_engine(request).rt)


async def get_scoped_run(
    run_id: str, request: Request, who: Annotated[Principal, Depends(get_principal)]
) -> Run:
    """The run, if it is in the caller's domain; resolved before any response (SSE) starts."""
    return await _engine(request).rt.store.get_run(who.domain, run_id)


EngineDep = Annotated[Engine, Depends(get_engine)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]
RunDep = Annotated[Run, Depends(get_scoped_run)]
AiDep = Annotated[AiProviders, Depends(get_ai)]
JobServiceDep = Annotated[JobService, Depends(get_jobs)]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Page size.")]
CursorQuery = Annotated[
    str | None, Query(max_length=64, description="`next_cursor` of the previous page.")
]
