"""Routes of the contract whose features arrive with their own issue (AI).

They exist now so the API shape is stable; they answer 501 with what is missing.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from hydra_jobs.scheduler.deps import PrincipalDep

router = APIRouter()

_NOT_YET = {"detail": "not available in this version of Hydra Jobs"}


def _not_implemented() -> JSONResponse:
    return JSONResponse(_NOT_YET, status_code=status.HTTP_501_NOT_IMPLEMENTED)


@router.post("/ai/generate", tags=["ai"], status_code=501)
async def ai_generate(who: PrincipalDep) -> JSONResponse:
    return _not_implemented()
