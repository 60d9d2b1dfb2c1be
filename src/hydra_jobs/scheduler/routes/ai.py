"""AI routes: failure analysis of a run (built-in rules, or a configured model)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hydra_jobs.ai.schema import Analysis, AnalyzeRequest
from hydra_jobs.ai.service import AnalysisService, rules_only
from hydra_jobs.scheduler.deps import PrincipalDep, RunDep, RuntimeDep

router = APIRouter(tags=["ai"])


@router.post("/runs/{run_id}/analyze", response_model=Analysis)
async def analyze_run(
    run: RunDep,
    who: PrincipalDep,
    rt: RuntimeDep,
    request: Request,
    body: AnalyzeRequest | None = None,
) -> Analysis:
    """Explain why a failed, timed out or lost run failed; the answer is stored with the run.

    Asking again returns the stored answer (`cached`) unless `force` or another `provider` is
    given. `provider: "heuristic"` (the built-in rules) needs no key.
    """
    ask = body or AnalyzeRequest()
    analysis = await AnalysisService(rt, rules_only).analyze(who, run, ask)
    request.state.audit_details = {
        "provider": analysis.provider,
        "model": analysis.model,
        "cached": analysis.cached,
        "input_tokens": analysis.usage.input_tokens if analysis.usage else 0,
        "output_tokens": analysis.usage.output_tokens if analysis.usage else 0,
    }
    return analysis


@router.get("/runs/{run_id}/analysis", response_model=Analysis | None)
async def get_analysis(run: RunDep, who: PrincipalDep, rt: RuntimeDep) -> Analysis | None:
    """The analysis stored with the run, or null if it was never analysed (reading it is free)."""
    return await AnalysisService(rt, rules_only).stored(who, run)
