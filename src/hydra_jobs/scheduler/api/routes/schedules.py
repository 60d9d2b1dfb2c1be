"""Schedule preview: the next fire times of a cron expression in a timezone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from hydra_jobs.errors import InvalidInput
from hydra_jobs.schedule import ScheduleError, preview_cron, validate_timezone
from hydra_jobs.scheduler.api.deps import PrincipalDep, RuntimeDep, needs
from hydra_jobs.tenancy import Role

router = APIRouter(prefix="/schedules", tags=["schedules"])


class Preview(BaseModel):
    cron: str
    timezone: str
    fires: list[datetime]


@router.get("/preview", response_model=Preview, openapi_extra=needs(Role.viewer))
async def preview(
    who: PrincipalDep,
    rt: RuntimeDep,
    cron: Annotated[str, Query(min_length=1, max_length=200)],
    timezone: Annotated[str, Query(max_length=64)] = "UTC",
    count: Annotated[int, Query(ge=1, le=100)] = 5,
) -> Preview:
    try:
        validate_timezone(timezone)
    except ScheduleError as exc:
        raise InvalidInput(str(exc), loc=("query", "timezone")) from exc
    try:
        fires = preview_cron(cron, timezone, rt.clock.now(), count)
    except ScheduleError as exc:
        raise InvalidInput(str(exc), loc=("query", "cron")) from exc
    return Preview(cron=cron, timezone=timezone, fires=fires)
