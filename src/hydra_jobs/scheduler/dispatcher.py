"""Dispatcher: moves due pending runs to their queues while honouring each job's `max_running`.

Runs only on the leader, as one task, so its view of active counts cannot race with itself.
Each cycle is two statements for any number of runs (select due, then one batch of CAS updates).
"""

from __future__ import annotations

import asyncio
import logging

from hydra_jobs.lifecycle import concurrency_cap
from hydra_jobs.models import Run, RunStatus
from hydra_jobs.scheduler.runtime import Runtime
from hydra_jobs.store.base import SetStatus

log = logging.getLogger(__name__)

DISPATCH_BATCH = 1000
IDLE_RECHECK_SECONDS = 5.0
COALESCE_SECONDS = 0.002  # latency traded for batching when woken by new work


class Dispatcher:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.dispatched = 0
        self._cycle_time = rt.clock.now()

    async def run_forever(self) -> None:
        await self.requeue_queued()
        while True:
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
        """After a start or a broker loss, queued runs are put back on their queues."""
        queued = await self.rt.store.runs_with_status([RunStatus.QUEUED])
        await self.rt.enqueue(queued)
        if queued:
            log.info("re-enqueued %d queued runs", len(queued), extra={"action": "requeue"})

    async def dispatch_once(self) -> int:
        """Queue every due run that fits under its job's cap; returns how many were queued."""
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
        if not chosen:
            return 0
        now = self.rt.clock.now()
        ops = [
            SetStatus(r.id, frozenset({RunStatus.PENDING}), RunStatus.QUEUED, {"queued_at": now})
            for r in chosen
        ]
        results = await self.rt.store.apply(ops)
        queued = [r for r in results if isinstance(r, Run)]
        await self.rt.enqueue(queued)
        await self.rt.publish_runs(queued)
        self.dispatched += len(queued)
        return len(queued)
