"""Failure analysis use case: build the evidence, ask an analyser, store the answer with the run.

The server decides what is certain (the run's facts, the fingerprint, the earlier runs that failed
the same way, whether a suggested patch validates); an analyser (the built-in rules, or a model)
only interprets the redacted bundle. An answer is stored with the run: asking again returns it
(its recurrence refreshed) unless `force`, or unless another provider is asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hydra_jobs.errors import Conflict
from hydra_jobs.models import Run
from hydra_jobs.scheduler.ai.bundle import Bundle, build_bundle, run_redactor
from hydra_jobs.scheduler.ai.heuristics import analyse
from hydra_jobs.scheduler.ai.patch import merge_patch
from hydra_jobs.scheduler.ai.recurring import recurrence
from hydra_jobs.scheduler.ai.schema import (
    Analysis,
    AnalysisProvider,
    AnalyzeRequest,
    Finding,
    ProviderName,
    Usage,
)
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services.jobs import Principal, validate_spec
from hydra_jobs.status import FAILURE
from hydra_jobs.store.base import Store, StoredAnalysis

log = logging.getLogger(__name__)

ANALYSABLE = FAILURE


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    finding: Finding
    model: str | None  # None: the built-in rules
    usage: Usage | None


# Asks a model about a bundle; chosen per request (see `hydra_jobs.scheduler.ai.providers`).
ModelAnalyser = Callable[[Bundle], Awaitable[ModelAnswer]]
# Picks the analyser: None for the built-in rules, else (provider name, the call).
Chooser = Callable[[Principal, AnalysisProvider | None], tuple[ProviderName, ModelAnalyser] | None]


async def stored_analysis(store: Store, domain: str, run: Run) -> Analysis | None:
    """The analysis stored with the run, marked `cached`; None if it was never analysed."""
    found = await store.get_analysis(domain, run.id)
    if found is None:
        return None
    return Analysis.model_validate({**found.body, "cached": True})


def server_secrets(rt: Runtime) -> tuple[str, ...]:
    """The server's own secrets, masked wherever they appear in what leaves it."""
    settings = rt.settings
    found = (
        settings.admin_token,
        settings.api_token,
        settings.gemini_api_key,
        settings.openai_api_key,
    )
    return tuple(s.get_secret_value() for s in found if s is not None)


class AnalysisService:
    def __init__(self, rt: Runtime, choose: Chooser) -> None:
        self.rt = rt
        self.choose = choose

    async def analyze(self, who: Principal, run: Run, request: AnalyzeRequest) -> Analysis:
        if run.status not in ANALYSABLE:
            raise Conflict(
                f"run '{run.id}' is {run.status.value}: only failed, timed out or lost runs "
                "are analysed"
            )
        secrets = server_secrets(self.rt)
        if not request.force:
            kept = await stored_analysis(self.rt.store, who.domain, run)
            if kept is not None and request.provider in (None, kept.provider):
                return kept.model_copy(update=await self._recurring(who, run, secrets))
        chosen = self.choose(who, request.provider)
        bundle = await build_bundle(self.rt.store, who.domain, run, run_redactor(run, secrets))
        if chosen is None:
            provider: AnalysisProvider = "heuristic"
            answer = ModelAnswer(analyse(bundle.facts()).finding, model=None, usage=None)
        else:
            provider, ask = chosen
            answer = await ask(bundle)
        valid, errors = self._check_patch(run, answer.finding.suggested_spec_patch)
        analysis = Analysis(
            **answer.finding.model_dump(),
            **await self._recurring(who, run, secrets),
            run_id=run.id,
            job_id=run.job_id,
            provider=provider,
            model=answer.model,
            created_at=self.rt.clock.now(),
            duration_seconds=bundle.duration_seconds,
            usual_duration_seconds=bundle.usual_seconds,
            since_last_success=bundle.last_success,
            patch_valid=valid,
            patch_errors=errors,
            usage=answer.usage,
        )
        await self._store(who, analysis)
        return analysis

    async def _recurring(
        self, who: Principal, run: Run, secrets: tuple[str, ...]
    ) -> dict[str, Any]:
        """The server's facts about recurrence, refreshed on every answer (stored or new)."""
        again = await recurrence(self.rt.store, who.domain, run, secrets)
        return {
            "fingerprint": again.fingerprint,
            "same_failures": again.count,
            "same_failures_since": again.since.created_at if again.since else None,
            "similar_runs": again.similar,
        }

    async def _store(self, who: Principal, analysis: Analysis) -> None:
        await self.rt.store.save_analysis(
            StoredAnalysis(
                run_id=analysis.run_id,
                domain=who.domain,
                job_id=analysis.job_id,
                fingerprint=analysis.fingerprint,
                provider=analysis.provider,
                created_at=analysis.created_at,
                body=analysis.model_dump(mode="json", exclude={"cached"}),
            )
        )
        log.info(
            "run %s analysed by %s: %s",
            analysis.run_id,
            analysis.provider,
            analysis.category.value,
            extra={"action": "run_analysed", "run_id": analysis.run_id, "job_id": analysis.job_id},
        )

    def _check_patch(
        self, run: Run, patch: dict[str, Any] | None
    ) -> tuple[bool | None, list[dict[str, Any]]]:
        if patch is None:
            return None, []
        report = validate_spec(merge_patch(run.spec, patch), self.rt.clock.now())
        return report.valid, report.errors
