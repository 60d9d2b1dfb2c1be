"""Dispatcher: moves due pending runs to their queues while honouring each job's `max_running`.

Runs only on the leader, as one task, so its view of active counts cannot race with itself.
Each cycle is two statements for any number of runs (select due, then one batch of CAS updates).

It also keeps the broker in step with the store: as it starts (a new leader, or the broker came
back empty) and every `REQUEUE_SECONDS`, queued runs the broker does not hold are enqueued again
(a scheduler that died between storing a run and enqueueing it loses nothing).
"""

from __future__ import annotations

import asyncio
import logging

from hydra_jobs.lifecycle import concurrency_cap
from hydra_jobs.models import Run
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.status import DISPATCH, RunStatus, transition

log = logging.getLogger(__name__)

DISPATCH_BATCH = 1000
IDLE_RECHECK_SECONDS = 5.0
REQUEUE_SECONDS = 30.0
FIND_ONE_BY_ONE = 100  # re-read at most this many runs one by one; beyond, one query
COALESCE_SECONDS = 0.002  # latency traded for batching when woken by new work


class Dispatcher:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.dispatched = 0
        self._cycle_time = rt.clock.now()

    async def run_forever(self) -> None:
        await self.requeue_queued()
        next_requeue = self.rt.clock.monotonic() + REQUEUE_SECONDS
        while True:
            if self.rt.clock.monotonic() >= next_requeue:
                next_requeue = self.rt.clock.monotonic() + REQUEUE_SECONDS
                await self.requeue_queued()
            moved = await self.dispatch_once()
            if moved >= DISPATCH_BATCH:
                continue
            if await self.rt.dispatch_wanted.wait(await self._idle_timeout()):
                # Woken by new work: let a burst of triggers land so one cycle takes them all.
                await asyncio.sleep(COALESCE_SECONDS)

    async def _idle_timeout(self) -> float:
        # From the time the last cycle looked: a run that became due while the cycle ran (under
        # load that can take longer than a short backoff) makes the delay zero, not a full recheck.
        nxt = await self.rt.store.next_pending_time(self._cycle_time)
        if nxt is None:
            return IDLE_RECHECK_SECONDS
        delay = (nxt - self.rt.clock.now()).total_seconds()
        return min(IDLE_RECHECK_SECONDS, max(0.0, delay))

    async def requeue_queued(self) -> None:
        """Queued runs the broker does not hold are put (back) on their queues.

        Runs are read twice: the broker is asked which of the queued runs it lacks, and only those
        still queued on a second read are enqueued, so a run that finished (and left the broker)
        between the two looks is not handed out again.
        """
        if not self.rt.leading():
            return
        queued = await self.rt.store.runs_with_status([RunStatus.QUEUED])
        if not queued:
            return
        absent = await self.rt.broker.absent_runs([r.id for r in queued])
        if not absent:
            return
        if len(absent) <= FIND_ONE_BY_ONE:
            again = [await self.rt.store.find_run(run_id) for run_id in sorted(absent)]
        else:
            again = list(await self.rt.store.runs_with_status([RunStatus.QUEUED]))
        still = [
            r for r in again if r is not None and r.id in absent and r.status is RunStatus.QUEUED
        ]
        await self.rt.enqueue(still)
        if still:
            log.info("re-enqueued %d queued runs", len(still), extra={"action": "requeue"})

    async def dispatch_once(self) -> int:
        """Queue every due run that fits under its job's cap; returns how many were queued."""
        if not self.rt.leading():
            return 0
        store = self.rt.store
        blocked: set[str] = set()
        active: dict[str, int] = {}
        moved = 0
        self._cycle_time = self.rt.clock.now()
        while moved < DISPATCH_BATCH:
            due = await store.due_pending(self._cycle_time, DISPATCH_BATCH, exclude_jobs=blocked)
            if not due:
                break
            unknown = {r.job_id for r in due if concurrency_cap(r.spec) is not None} - active.keys()
            active.update(await store.active_counts(unknown))
            chosen: list[Run] = []
            for run in due:
                cap = concurrency_cap(run.spec)
                if cap is not None:
                    if active.get(run.job_id, 0) >= cap:
                        blocked.add(run.job_id)
                        continue
                    active[run.job_id] = active.get(run.job_id, 0) + 1
                chosen.append(run)
            moved += await self._queue(chosen)
            if len(due) < DISPATCH_BATCH:
                break
        return moved

    async def _queue(self, chosen: list[Run]) -> int:
        if not chosen or not self.rt.leading():
            return 0  # checked again right before writing: the counts above may be stale
        now = self.rt.clock.now()
        ops = [transition(DISPATCH, r.id, fields={"queued_at": now}) for r in chosen]
        results = await self.rt.store.apply(ops)
        queued = [r for r in results if isinstance(r, Run)]
        await self.rt.enqueue(queued)
        await self.rt.publish_runs(queued)
        self.dispatched += len(queued)
        return len(queued)
