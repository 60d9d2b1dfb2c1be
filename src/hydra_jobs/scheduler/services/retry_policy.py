"""What happens after runs end: retries per the job's policy, poison detection, dispatcher wake,
and the alerts the job's and its domain's notification rules owe (`hydra_jobs.notify`)."""

from __future__ import annotations

import logging
import random

from hydra_jobs.lifecycle import concurrency_cap, decide_retry
from hydra_jobs.models import Run, Trigger
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services.runs import new_run, submit_runs
from hydra_jobs.status import RETRYABLE, RunStatus

log = logging.getLogger(__name__)
_rng = random.Random()


async def after_terminal(rt: Runtime, ended: list[Run]) -> list[Run]:
    """Create the retries that `ended` runs are owed; returns the new runs."""
    try:
        await rt.broker.forget_runs([run.id for run in ended])
    except Exception as exc:  # only bookkeeping: an ended run is never requeued anyway
        log.warning("could not release ended runs in the broker: %s: %s", type(exc).__name__, exc)
    retries: list[Run] = []
    for run in ended:
        if run.status not in RETRYABLE:
            continue  # nothing to decide, so the job's spec is not parsed (most runs succeed)
        decision = decide_retry(
            run.job_spec().retries,
            attempt=run.attempt,
            status=run.status,
            lost_count=run.lost_count,
            rng=_rng,
        )
        if decision.final_status is RunStatus.FAILED:
            # Poison: the reaper ended it `failed` already (lifecycle.worker_died); no retry.
            log.warning("poison run %s", run.id, extra={"action": "poison", "run_id": run.id})
            continue
        if decision.retry:
            retries.append(
                new_run(
                    run,
                    trigger=Trigger.RETRY,
                    now=rt.clock.now(),
                    delay_seconds=decision.delay_seconds,
                )
            )
    if retries:
        # Owed to runs already admitted: counted against their domain's cap, never refused.
        for run in retries:
            rt.budget.charge(run.domain, 1, rt.clock.monotonic())
        await submit_runs(rt, retries)
    if any(concurrency_cap(run.spec) is not None for run in ended):
        rt.dispatch_wanted.set()  # slots freed: capped jobs may have pending runs
    # The one place every run's end passes (ingest and the reaper on any replica): alerts are
    # recorded in the store's outbox; the leader's sweep covers a crash before this line (N1).
    await rt.emitter.on_ended(ended)
    return retries
