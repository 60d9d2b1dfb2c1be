"""Workers: the fleet view of the caller's domain, and drain."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel

from hydra_jobs.models import Worker
from hydra_jobs.scheduler.api.deps import PrincipalDep, RuntimeDep, needs
from hydra_jobs.scheduler.services.jobs import drain_worker, visible_workers
from hydra_jobs.tenancy import Role

router = APIRouter(prefix="/workers", tags=["workers"])


class WorkerList(BaseModel):
    items: list[Worker]
    next_cursor: str | None = None


@router.get("", response_model=WorkerList, openapi_extra=needs(Role.viewer))
async def list_workers(who: PrincipalDep, rt: RuntimeDep) -> WorkerList:
    return WorkerList(items=await visible_workers(rt, who))


@router.post(
    "/{worker_id}/drain", status_code=status.HTTP_202_ACCEPTED, openapi_extra=needs(Role.operator)
)
async def drain(worker_id: str, who: PrincipalDep, rt: RuntimeDep) -> dict[str, str]:
    """The worker stops taking work and finishes what it runs."""
    # `up`'s embedded worker serves every domain: only the admin may drain it (services.py).
    await drain_worker(rt, who, worker_id)
    return {"status": "draining", "worker_id": worker_id}
