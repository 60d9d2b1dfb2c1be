"""AI routes: failure analysis of a run (built-in rules, or a model), job drafts, providers."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hydra_jobs.scheduler.ai.analyst import model_chooser
from hydra_jobs.scheduler.ai.generate import Context, GeneratedJob, GenerateRequest, generate
from hydra_jobs.scheduler.ai.providers import ProvidersAnswer
from hydra_jobs.scheduler.ai.recurring import FailureGroups, failure_groups
from hydra_jobs.scheduler.ai.redact import Redactor
from hydra_jobs.scheduler.ai.schema import Analysis, AnalyzeRequest
from hydra_jobs.scheduler.ai.service import AnalysisService, server_secrets, stored_analysis
from hydra_jobs.scheduler.api.deps import AiDep, PrincipalDep, RunDep, RuntimeDep, needs
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services.jobs import Principal
from hydra_jobs.tenancy import Role

router = APIRouter(tags=["ai"])
CONTEXT_JOBS = 500  # jobs of the domain whose queues and tags are offered to the model


@router.post("/ai/generate", response_model=GeneratedJob, openapi_extra=needs(Role.editor))
async def ai_generate(
    body: GenerateRequest, who: PrincipalDep, rt: RuntimeDep, ai: AiDep, request: Request
) -> GeneratedJob:
    """A draft job from one sentence: validated like `POST /jobs/validate`, with its next fire
    times, never saved. A draft that fails validation is sent back to the model with its errors
    (at most twice) and then returned with them."""
    provider = ai.pick(who.domain, body.provider, enabled=await _ai_enabled(rt, who))
    jobs = await rt.store.list_jobs(who.domain, limit=CONTEXT_JOBS, cursor=None)
    context = Context(
        queues=sorted({j.queue for j in jobs.items} | {"default"}),
        tags=sorted({t for j in jobs.items for t in j.tags}),
        now=rt.clock.now(),
        timezone=body.timezone or "UTC",
    )
    redactor = Redactor.of(server_secrets(rt))
    draft = await generate(provider, ai.policy, body, context, redactor)
    request.state.audit_details = {
        "provider": draft.provider,
        "model": draft.model,
        "attempts": draft.attempts,
        "input_tokens": draft.usage.input_tokens,
        "output_tokens": draft.usage.output_tokens,
    }
    return draft


@router.get("/ai/providers", response_model=ProvidersAnswer, openapi_extra=needs(Role.viewer))
async def ai_providers(who: PrincipalDep, rt: RuntimeDep, ai: AiDep) -> ProvidersAnswer:
    """The AI providers configured on this server (never their keys) and whether AI is enabled
    for the caller's domain. The built-in failure analyser needs no provider."""
    return ai.answer(await _ai_enabled(rt, who))


@router.get(
    "/jobs/{job_id}/failures", response_model=FailureGroups, openapi_extra=needs(Role.viewer)
)
async def job_failures(job_id: str, who: PrincipalDep, rt: RuntimeDep) -> FailureGroups:
    """The job's recent failures grouped by how they failed (the fingerprint `analyze` gives):
    what the job page shows as "failed the same way N times since ...". No model is asked."""
    job = await rt.store.get_job(who.domain, job_id, with_last_run=False)
    return await failure_groups(rt.store, who.domain, job.id, server_secrets(rt))


@router.post("/runs/{run_id}/analyze", response_model=Analysis, openapi_extra=needs(Role.operator))
async def analyze_run(
    run: RunDep,
    who: PrincipalDep,
    rt: RuntimeDep,
    ai: AiDep,
    request: Request,
    body: AnalyzeRequest | None = None,
) -> Analysis:
    """Explain why a failed, timed out or lost run failed; the answer is stored with the run.

    Asking again returns the stored answer (`cached`) unless `force` or another `provider` is
    given. Without `provider`, a configured model answers, else the built-in rules;
    `provider: "heuristic"` (the rules) needs no key. Only redacted data is sent to a model.
    """
    ask = body or AnalyzeRequest()
    choose = model_chooser(ai, enabled=await _ai_enabled(rt, who))
    analysis = await AnalysisService(rt, choose).analyze(who, run, ask)
    request.state.audit_details = {
        "provider": analysis.provider,
        "model": analysis.model,
        "cached": analysis.cached,
        "input_tokens": analysis.usage.input_tokens if analysis.usage else 0,
        "output_tokens": analysis.usage.output_tokens if analysis.usage else 0,
    }
    return analysis


@router.get(
    "/runs/{run_id}/analysis", response_model=Analysis | None, openapi_extra=needs(Role.viewer)
)
async def get_analysis(run: RunDep, who: PrincipalDep, rt: RuntimeDep) -> Analysis | None:
    """The analysis stored with the run, or null if it was never analysed (reading it is free)."""
    return await stored_analysis(rt.store, who.domain, run)


async def _ai_enabled(rt: Runtime, who: Principal) -> bool:
    """The domain's AI switch (set by the admin with `PATCH /domains/{name}`)."""
    return (await rt.store.get_domain(who.domain)).ai_enabled
