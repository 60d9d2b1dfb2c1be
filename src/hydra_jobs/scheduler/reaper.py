"""Reaper: runs whose worker stopped renewing its lease become `lost`, then follow retry policy.

Runs on the leader. A worker kills its own jobs before its lease can expire (self-fencing), so by
the time a run is declared lost nothing of it is still running, and its retry cannot overlap it.
"""

from __future__ import annotations

import logging

from hydra_jobs.models import Run, RunStatus, Worker, WorkerStatus
from hydra_jobs.scheduler.followup import after_terminal
from hydra_jobs.scheduler.runtime import Runtime
from hydra_jobs.store.base import SetStatus, UpsertWorker

log = logging.getLogger(__name__)


class Reaper:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.reaped = 0

    @property
    def interval_seconds(self) -> float:
        return max(0.2, self.rt.settings.lease_seconds / 4)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("reaper sweep failed", extra={"action": "reap"})
            await self.rt.clock.sleep(self.interval_seconds)

    async def sweep(self) -> list[Run]:
        live = await self.rt.broker.live_workers()
        running = await self.rt.store.runs_with_status([RunStatus.RUNNING])
        orphans = [r for r in running if r.worker_id not in live]
        lost: list[Run] = []
        now = self.rt.clock.now()
        for run in orphans:
            done = await self.rt.store.set_status(
                SetStatus(
                    run.id,
                    frozenset({RunStatus.RUNNING}),
                    RunStatus.LOST,
                    {
                        "finished_at": now,
                        "lost_count": run.lost_count + 1,
                        "error": f"worker {run.worker_id} stopped renewing its lease",
                    },
                    worker_id=run.worker_id,
                )
            )
            if done is not None:
                lost.append(done)
                log.warning(
                    "run %s lost with worker %s",
                    run.id,
                    run.worker_id,
                    extra={"action": "run_lost", "run_id": run.id, "job_id": run.job_id},
                )
        if lost:
            self.reaped += len(lost)
            await self.rt.publish_runs(lost)
            await after_terminal(self.rt, lost)
        await self._mark_offline(live)
        return lost

    async def _mark_offline(self, live: set[str]) -> None:
        stale: list[Worker] = []
        for worker in await self.rt.store.list_workers(None):
            if worker.id not in live and worker.status is not WorkerStatus.OFFLINE:
                stale.append(
                    worker.model_copy(update={"status": WorkerStatus.OFFLINE, "running": []})
                )
        if stale:
            await self.rt.store.apply([UpsertWorker(w) for w in stale])
            for worker in stale:
                await self.rt.broker.publish(
                    worker.domain, [{"type": "worker", "worker": worker.model_dump(mode="json")}]
                )
