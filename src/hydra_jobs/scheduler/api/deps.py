"""FastAPI dependency aliases: routes declare what they need, never build it.

Every dependency is `async def` even when it awaits nothing: FastAPI runs plain `def` dependencies
in a thread pool, a thread hop per dependency per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from hydra_jobs.errors import Forbidden
from hydra_jobs.models import Run
from hydra_jobs.scheduler.ai.providers import AiProviders
from hydra_jobs.scheduler.api.auth import Authenticator
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.loops.engine import Engine
from hydra_jobs.scheduler.services.jobs import JobService, Principal
from hydra_jobs.store.base import Store


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
    return who


async def get_auth(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.auth
    return authenticator


async def get_admin(who: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not who.is_admin:
        raise Forbidden("this needs the admin token")
    return who


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
AdminDep = Annotated[Principal, Depends(get_admin)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]
RunDep = Annotated[Run, Depends(get_scoped_run)]
AiDep = Annotated[AiProviders, Depends(get_ai)]
JobServiceDep = Annotated[JobService, Depends(get_jobs)]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Page size.")]
CursorQuery = Annotated[
    str | None, Query(max_length=64, description="`next_cursor` of the previous page.")
]
