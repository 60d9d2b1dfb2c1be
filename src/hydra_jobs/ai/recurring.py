"""Recurring failures: which earlier runs of a job failed the same way as this one.

Every run's fingerprint comes from the built-in rules over the tail of its log, whoever analyses
it, so the grouping is the same whether a model or the rules answered, and runs never analysed
are grouped too. Only the job's recent failures are looked at (a bounded amount of reading).
"""

from __future__ import annotations

from dataclasses import dataclass

from hydra_jobs.ai.bundle import FAILED_STATUSES, read_tail, run_redactor
from hydra_jobs.ai.fingerprint import fingerprint
from hydra_jobs.ai.heuristics import Facts, analyse
from hydra_jobs.ai.schema import SimilarRun
from hydra_jobs.models import Run
from hydra_jobs.store.base import RunFilter, Store

RECENT_FAILURES = 50  # earlier failed runs of the job compared
SIMILAR_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Recurrence:
    fingerprint: str
    count: int
    since: SimilarRun | None
    similar: list[SimilarRun]


async def run_fingerprint(store: Store, domain: str, run: Run, secrets: tuple[str, ...]) -> str:
    lines = await read_tail(store, domain, run, run_redactor(run, secrets))
    facts = Facts(status=run.status, exit_code=run.exit_code, error=run.error, lines=lines)
    verdict = analyse(facts)
    return fingerprint(verdict.finding.category, verdict.key)


async def recurrence(store: Store, domain: str, run: Run, secrets: tuple[str, ...]) -> Recurrence:
    mine = await run_fingerprint(store, domain, run, secrets)
    earlier = await store.list_runs(
        domain,
        RunFilter(job_id=run.job_id, status=FAILED_STATUSES, until=run.created_at),
        limit=RECENT_FAILURES + 1,
        cursor=None,
    )
    same: list[SimilarRun] = []
    for other in earlier.items:
        if other.id == run.id:
            continue
        if await run_fingerprint(store, domain, other, secrets) == mine:
            same.append(SimilarRun(id=other.id, status=other.status, created_at=other.created_at))
    return Recurrence(
        fingerprint=mine,
        count=len(same),
        since=same[-1] if same else None,
        similar=same[:SIMILAR_SHOWN],
    )
