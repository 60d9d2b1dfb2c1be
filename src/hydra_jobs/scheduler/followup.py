"""What happens after runs end: retries per the job's policy, poison detection, dispatcher wake."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from hydra_jobs.ids import new_id
from hydra_jobs.lifecycle import decide_retry
from hydra_jobs.models import Run, RunStatus, Trigger
from hydra_jobs.scheduler.runtime import Runtime
from hydra_jobs.store.base import SetStatus

log = logging.getLogger(__name__)
_rng = random.Random()


def next_attempt(run: Run, *, delay_seconds: float, trigger: Trigger, rt: Runtime) -> Run:
    now = rt.clock.now()
    return Run(
        id=new_id(),
        job_id=run.job_id,
        job_name=run.job_name,
        domain=run.domain,
        queue=run.queue,
        status=RunStatus.PENDING,
        trigger=trigger,
        attempt=run.attempt + 1,
        retry_of=run.id,
        scheduled_for=run.scheduled_for,
        created_at=now,
        not_before=now + timedelta(seconds=delay_seconds) if delay_seconds > 0 else None,
        params=run.params,
        lost_count=run.lost_count,
        spec=run.spec,
    )


async def after_terminal(rt: Runtime, ended: list[Run]) -> list[Run]:
    """Create the retries that `ended` runs are owed; returns the new runs."""
    retries: list[Run] = []
    for run in ended:
        decision = decide_retry(
            run.spec.retries, attempt=run.attempt, status=run.status, lost_count=run.lost_count,
            rng=_rng,
        )
        if decision.final_status is RunStatus.FAILED:
            # Poison: the lost run is marked failed so nobody mistakes it for an infrastructure blip.
            poisoned = await rt.store.set_status(
                SetStatus(run.id, frozenset({RunStatus.LOST}), RunStatus.FAILED,
                          {"error": decision.reason})
            )
            if poisoned:
                await rt.publish_runs([poisoned])
            log.warning("poison run %s", run.id, extra={"action": "poison", "run_id": run.id})
            continue
        if decision.retry:
            retries.append(next_attempt(run, delay_seconds=decision.delay_seconds,
                                        trigger=Trigger.RETRY, rt=rt))
    if retries:
        inserted = await rt.store.insert_runs(retries)
        await rt.publish_runs(inserted)
    if ended or retries:
        rt.dispatch_wanted.set()
    return retries
