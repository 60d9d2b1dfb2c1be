"""Dashboard numbers: counts by status, runs per hour, success rate, slow and failing jobs.

Shared by every viewer of a domain (scheduler/services/shared_stats.py): many open dashboards
cost the store one reading per second, not one per viewer per change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hydra_jobs.models import Stats
from hydra_jobs.scheduler.api.deps import EngineDep, PrincipalDep, needs
from hydra_jobs.tenancy import Role

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=Stats, openapi_extra=needs(Role.viewer))
async def stats(
    who: PrincipalDep,
    engine: EngineDep,
    hours: Annotated[int, Query(ge=1, le=24 * 31, description="Window size.")] = 24,
) -> Stats:
    return await engine.stats.get(who.domain, hours)
