"""Run use cases shared by the API, the ticker and the reaper: create, cancel, retry."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

from hydra_jobs.errors import Conflict, InvalidInput
from hydra_jobs.ids import new_id
from hydra_jobs.lifecycle import concurrency_cap
from hydra_jobs.limits import MAX_PARAMS_CHARS, params_too_big, vars_size
from hydra_jobs.models import Job, Run, Trigger
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.status import (
    CANCEL_WAITING,
    NOT_ENDED,
    REQUEST_CANCEL,
    TERMINAL,
    WAITING,
    RunStatus,
    transition,
)
from hydra_jobs.store.base import RunFilter

log = logging.getLogger(__name__)


def resolve_params(job: Job, given: dict[str, str]) -> dict[str, str]:
    """Fill defaults, refuse unknown and missing required parameters (422 with the field)."""
    unknown = sorted(set(given) - set(job.params))
    if unknown:
        raise InvalidInput(
            f"unknown parameter; this job takes {sorted(job.params) or 'no parameters'}",
            loc=("body", "params", unknown[0]),
        )
    values: dict[str, str] = {}
    for name, param in job.params.items():
        if name in given:
            values[name] = given[name]
        elif param.default is not None:
            values[name] = param.default
        elif param.required:
            raise InvalidInput("required parameter is missing", loc=("body", "params", name))
    if vars_size(values) > MAX_PARAMS_CHARS:
        raise InvalidInput(f"too big: {params_too_big(values)}", loc=("body", "params"))
    return values


def new_run(
    origin: Job | Run,
    *,
    trigger: Trigger,
    now: datetime,
    params: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
    slot: datetime | None = None,
    skipped: str | None = None,
    delay_seconds: float = 0.0,
) -> Run:
    """The one constructor of a run, born `pending` (or `skipped`, see below).

    Of a job: with `params`, for the schedule `slot` if it has one; `spec` is the job's snapshot
    when the caller made it already (a fan-out of hundreds of runs shares one). A slot that did
    not run is born `skipped`, ended, with `skipped` saying why.

    Of a run: its next attempt, in the same chain (same job, parameters, spec snapshot and slot,
    its lost workers counted on), not before `delay_seconds` from now.
    """
    if isinstance(origin, Run):
        return Run(
            id=new_id(),
            job_id=origin.job_id,
            job_name=origin.job_name,
            domain=origin.domain,
            queue=origin.queue,
            status=RunStatus.PENDING,
            trigger=trigger,
            attempt=origin.attempt + 1,
            retry_of=origin.id,
            scheduled_for=origin.scheduled_for,
            created_at=now,
            not_before=now + timedelta(seconds=delay_seconds) if delay_seconds > 0 else None,
            params=origin.params,
            lost_count=origin.lost_count,
            spec=origin.spec,
        )
    return Run(
        id=new_id(),
        job_id=origin.id,
        job_name=origin.name,
        domain=origin.domain,
        queue=origin.queue,
        status=RunStatus.PENDING if skipped is None else RunStatus.SKIPPED,
        trigger=trigger,
        scheduled_for=slot,
        created_at=now,
        finished_at=None if skipped is None else now,
        error=skipped,
        params=params or {},
        spec=origin.spec().model_dump(mode="json") if spec is None else spec,
    )


async def submit_runs(rt: Runtime, new_runs: list[Run]) -> list[Run]:
    """Store new runs and start them on their way.

    A run that has nothing to wait for (no `not_before`, no concurrency cap on its job) is stored
    directly as `queued` and handed to the broker here; the others are stored `pending` for the
    dispatcher. Returns the runs as stored (scheduled slots that already had a run are dropped).
    """
    now = rt.clock.now()
    ready = [
        run.model_copy(update={"status": RunStatus.QUEUED, "queued_at": now})
        if run.status is RunStatus.PENDING
        and run.not_before is None
        and concurrency_cap(run.spec) is None
        else run
        for run in new_runs
    ]
    stored = await rt.store.insert_runs(ready)
    queued = [r for r in stored if r.status is RunStatus.QUEUED]
    if queued:
        await rt.enqueue(queued)
    if len(queued) < len(stored):
        rt.dispatch_wanted.set()
    await rt.publish_runs(stored)
    return stored


async def cancel_run(rt: Runtime, run: Run, *, reason: str = "cancelled by request") -> Run:
    """Cancel a run in any non-terminal state; 409 if it already ended."""
    if run.status in TERMINAL:
        raise Conflict(f"run '{run.id}' already ended ({run.status.value})")
    now = rt.clock.now()
    if run.status in WAITING:
        done = await rt.store.set_status(
            transition(
                CANCEL_WAITING,
                run.id,
                fields={"finished_at": now, "error": reason, "cancel_requested": True},
            )
        )
        if done is not None:
            await tell_broker("purge", rt.broker.purge_run(run.domain, run.queue, run.id))
            # A worker may have claimed it a moment ago: the marker stops it before it starts.
            await tell_broker("cancel", rt.broker.request_cancel(run.domain, run.id))
            await rt.publish_runs([done])
            rt.dispatch_wanted.set()
            return done
    marked = await rt.store.set_status(
        transition(REQUEST_CANCEL, run.id, fields={"cancel_requested": True})
    )
    # If the broker is unreachable, the leader's reaper sets the marker again from the store.
    await tell_broker("cancel", rt.broker.request_cancel(run.domain, run.id))
    if marked is None:
        fresh = await rt.store.get_run(run.domain, run.id)
        if fresh.status in TERMINAL:
            raise Conflict(f"run '{run.id}' already ended ({fresh.status.value})")
        return fresh
    await rt.publish_runs([marked])
    return marked


async def tell_broker(what: str, call: Awaitable[None]) -> None:
    try:
        await call
    except Exception as exc:
        log.warning(
            "broker %s failed: %s: %s",
            what,
            type(exc).__name__,
            exc,
            extra={"action": "broker_" + what},
        )


async def cancel_active(rt: Runtime, job: Job, *, reason: str) -> int:
    """Cancel every waiting or running run of a job (overlap=cancel_previous)."""
    active = await rt.store.runs_with_status(NOT_ENDED, job_id=job.id)
    for run in active:
        try:
            await cancel_run(rt, run, reason=reason)
        except Conflict:
            continue
    return len(active)


async def retry_run(rt: Runtime, run: Run) -> Run:
    """A new attempt of a finished run, now (a person asked; no backoff).

    Attempts make one chain per original run, whichever of them is retried: the new attempt
    follows the chain's last one (retrying attempt 1 after the policy's attempts 2 and 3 makes
    attempt 4, not a second attempt 2 with a chain of its own). Its trigger is `manual`, with
    `retry_of` set; `retry` is left to the attempts the job's retry policy makes.
    """
    if run.status not in TERMINAL:
        raise Conflict(f"run '{run.id}' is still {run.status.value}; cancel it first")
    last = await chain_end(rt, run)
    if last.status not in TERMINAL:
        raise Conflict(
            f"attempt {last.attempt} of this run ('{last.id}') is still {last.status.value}; "
            "wait for it or cancel it"
        )
    rt.admit(run.domain, 1)
    retry = new_run(last, trigger=Trigger.MANUAL, now=rt.clock.now())
    return (await submit_runs(rt, [retry]))[0]


CHAIN_PAGE_RUNS = 500
CHAIN_PAGES = 20  # runs of the job since the retried one that are read at most, in pages


async def chain_end(rt: Runtime, run: Run) -> Run:
    """The last attempt of `run`'s chain: its retries, theirs, and so on (newest if ever two)."""
    retried_by: dict[str, Run] = {}
    flt = RunFilter(job_id=run.job_id, since=run.created_at)
    cursor: str | None = None
    for _ in range(CHAIN_PAGES):
        page = await rt.store.list_runs(run.domain, flt, limit=CHAIN_PAGE_RUNS, cursor=cursor)
        for later in page.items:  # newest first
            if later.retry_of is not None:
                retried_by.setdefault(later.retry_of, later)
        cursor = page.next_cursor
        if cursor is None:
            break
    last = run
    while (following := retried_by.get(last.id)) is not None:
        last = following
    return last
