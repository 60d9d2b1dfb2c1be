"""`GET /audit`: the caller's domain's audit log, filtered on the server, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hydra_jobs.errors import InvalidInput
from hydra_jobs.limits import UtcTime
from hydra_jobs.models import Page
from hydra_jobs.scheduler.api.deps import CursorQuery, LimitQuery, PrincipalDep, RuntimeDep, needs
from hydra_jobs.store.base import AuditFilter
from hydra_jobs.tenancy import AuditEntry, Role

router = APIRouter(tags=["auth"])


@router.get("/audit", response_model=Page[AuditEntry], openapi_extra=needs(Role.viewer))
async def audit_log(
    who: PrincipalDep,
    rt: RuntimeDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    actor: Annotated[
        str | None,
        Query(max_length=200, description="Who made the calls: `admin` or `token:<name>`."),
    ] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="e.g. `jobs.create_job`, `runs.cancel`.")
    ] = None,
    object_type: Annotated[
        str | None, Query(max_length=32, description="e.g. `job`, `run`, `token`, `worker`.")
    ] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[UtcTime | None, Query(description="From this time on (included).")] = None,
    until: Annotated[UtcTime | None, Query(description="Before this time (excluded).")] = None,
) -> Page[AuditEntry]:
    """Every mutating call made in the caller's domain, newest first (never holding secrets).

    Each filter given must match exactly; a cursor pages through the filtered records only.
    """
    if since is not None and until is not None and since >= until:
        raise InvalidInput("'since' must be before 'until'", loc=("query", "since"))
    await rt.audit.flush()
    where = AuditFilter(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    page = await rt.store.list_audit(who.domain, limit=limit, cursor=cursor, where=where)
    items = [AuditEntry.model_validate(r, from_attributes=True) for r in page.items]
    return Page[AuditEntry](items=items, next_cursor=page.next_cursor)
