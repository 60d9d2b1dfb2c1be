"""Dashboard numbers: counts by status, runs per hour, success rate, slow and failing jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from hydra_jobs.models import Stats
from hydra_jobs.scheduler.api.deps import PrincipalDep, RuntimeDep, needs
from hydra_jobs.tenancy import Role

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=Stats, openapi_extra=needs(Role.viewer))
async def stats(
    who: PrincipalDep,
    rt: RuntimeDep,
    hours: Annotated[int, Query(ge=1, le=24 * 31, description="Window size.")] = 24,
) -> Stats:
    now = rt.clock.now()
    return await rt.store.stats(who.domain, now - timedelta(hours=hours), now)
