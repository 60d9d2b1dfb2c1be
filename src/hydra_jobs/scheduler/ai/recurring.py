"""Recurring failures: which earlier runs of a job failed the same way as this one.

Every run's fingerprint comes from the built-in rules over the tail of its log, whoever analyses
it, so the grouping is the same whether a model or the rules answered, and runs never analysed
are grouped too. Only the job's recent failures are looked at (a bounded amount of reading).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from hydra_jobs.models import Run
from hydra_jobs.scheduler.ai.bundle import read_tail, run_redactor
from hydra_jobs.scheduler.ai.fingerprint import fingerprint
from hydra_jobs.scheduler.ai.heuristics import Facts, Verdict, analyse
from hydra_jobs.scheduler.ai.schema import Category, SimilarRun
from hydra_jobs.status import FAILURE
from hydra_jobs.store.base import RunFilter, Store

RECENT_FAILURES = 50  # earlier failed runs of the job compared
SIMILAR_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Recurrence:
    fingerprint: str
    count: int
    since: SimilarRun | None
    similar: list[SimilarRun]


class FailureGroup(BaseModel):
    """Recent runs of a job that failed the same way: "failed the same way N times since ..."."""

    fingerprint: str
    category: Category
    summary: str = Field(description="The built-in rules' summary of the newest of them.")
    count: int
    since: datetime = Field(description="When the oldest of them (among the recent) was created.")
    latest_run_id: str
    latest_at: datetime


class FailureGroups(BaseModel):
    items: list[FailureGroup] = Field(description="Newest failure first.")
    examined: int = Field(description=f"Failed runs looked at (the job's last {RECENT_FAILURES}).")


async def judge(store: Store, domain: str, run: Run, secrets: tuple[str, ...]) -> Verdict:
    lines = await read_tail(store, domain, run, run_redactor(run, secrets))
    return analyse(Facts(status=run.status, exit_code=run.exit_code, error=run.error, lines=lines))


async def run_fingerprint(store: Store, domain: str, run: Run, secrets: tuple[str, ...]) -> str:
    verdict = await judge(store, domain, run, secrets)
    return fingerprint(verdict.finding.category, verdict.key)


async def failure_groups(
    store: Store, domain: str, job_id: str, secrets: tuple[str, ...]
) -> FailureGroups:
    failed = await store.list_runs(
        domain,
        RunFilter(job_id=job_id, status=FAILURE),
        limit=RECENT_FAILURES,
        cursor=None,
    )
    groups: dict[str, FailureGroup] = {}
    for run in failed.items:  # newest first
        verdict = await judge(store, domain, run, secrets)
        category = verdict.finding.category
        key = fingerprint(category, verdict.key)
        group = groups.get(key)
        if group is None:
            groups[key] = FailureGroup(
                fingerprint=key,
                category=category,
                summary=verdict.finding.summary,
                count=1,
                since=run.created_at,
                latest_run_id=run.id,
                latest_at=run.created_at,
            )
        else:
            group.count += 1
            group.since = run.created_at
    return FailureGroups(items=list(groups.values()), examined=len(failed.items))


async def recurrence(store: Store, domain: str, run: Run, secrets: tuple[str, ...]) -> Recurrence:
    mine = await run_fingerprint(store, domain, run, secrets)
    earlier = await store.list_runs(
        domain,
        RunFilter(job_id=run.job_id, status=FAILURE, until=run.created_at),
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
