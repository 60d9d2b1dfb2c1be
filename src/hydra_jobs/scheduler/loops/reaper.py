"""Reaper: runs whose worker stopped renewing its lease become `lost`, then follow retry policy.

Runs on the leader. A worker kills its own jobs before its lease can expire (self-fencing), so by
the time a run is declared lost nothing of it is still running, and its retry cannot overlap it.

Each sweep also
- takes back deliveries held by workers that died (a kill between dequeue and start): a run
  still `queued` goes back on its queue, unless its worker had begun starting it (then it may
  have run in part, so it is declared `lost` and retried as a new attempt); anything else is
  dropped, since the store already knows how it went;
- sets the cancel marker again for running runs whose cancel was requested, in case the broker
  lost it (it was unreachable when the cancel came, or restarted empty).
"""

from __future__ import annotations

import logging

from hydra_jobs.errors import BackendUnavailable
from hydra_jobs.events import WorkerStateEvent
from hydra_jobs.lifecycle import worker_died
from hydra_jobs.models import Run, Worker, WorkerStatus
from hydra_jobs.outage import Outage
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services.retry_policy import after_terminal
from hydra_jobs.status import LOST_WHILE_STARTING, WORKER_LOST, RunStatus, transition
from hydra_jobs.store.base import UpsertWorker

log = logging.getLogger(__name__)


class Reaper:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.reaped = 0

    @property
    def interval_seconds(self) -> float:
        return max(0.2, self.rt.settings.lease_seconds / 4)

    async def run_forever(self) -> None:
        waiting = Outage(log, action="reap", level=logging.INFO)
        failing = Outage(log, action="reap")
        while True:
            try:
                await self.sweep()
                waiting.ok()
                failing.ok()
            except BackendUnavailable as exc:
                waiting.failed("reaper waits: %s", exc)
            except Exception as exc:
                failing.failed_with("reaper sweep failed", exc)
            await self.rt.clock.sleep(self.interval_seconds)

    async def sweep(self) -> list[Run]:
        if not self.rt.leading():
            return []
        live = await self.rt.broker.live_workers()
        lost = await self._recover_deliveries(live)
        running = await self.rt.store.runs_with_status([RunStatus.RUNNING])
        await self._reassert_cancels([r for r in running if r.worker_id in live])
        orphans = [r for r in running if r.worker_id not in live]
        now = self.rt.clock.now()
        for run in orphans:
            status, poison = worker_died(run.lost_count + 1)
            done = await self.rt.store.set_status(
                transition(
                    WORKER_LOST,
                    run.id,
                    status,
                    {
                        "finished_at": now,
                        "lost_count": run.lost_count + 1,
                        "error": f"{poison}worker {run.worker_id} stopped renewing its lease",
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

    async def _recover_deliveries(self, live: set[str]) -> list[Run]:
        """Deliveries of dead workers: never started -> redelivered; maybe started -> lost."""
        lost: list[Run] = []
        for delivery in await self.rt.broker.orphaned_deliveries(live):
            run = await self.rt.store.find_run(delivery.run_id)
            if run is None or run.status is not RunStatus.QUEUED:
                await self.rt.broker.ack(delivery)  # it ran, or ended: the store knows
            elif not delivery.started:
                log.warning(
                    "run %s was claimed by a worker that died before starting it; redelivering",
                    delivery.run_id,
                    extra={"action": "redeliver", "run_id": delivery.run_id},
                )
                await self.rt.broker.redeliver(delivery)
            else:
                # Its worker died while starting it: it may have run in part, so it is not
                # handed out again as if fresh; it is lost, and retried as a new attempt.
                status, poison = worker_died(run.lost_count + 1)
                done = await self.rt.store.set_status(
                    transition(
                        LOST_WHILE_STARTING,
                        run.id,
                        status,
                        {
                            "finished_at": self.rt.clock.now(),
                            "lost_count": run.lost_count + 1,
                            "error": f"{poison}its worker died while starting it",
                        },
                    )
                )
                await self.rt.broker.ack(delivery)
                if done is not None:
                    lost.append(done)
        return lost

    async def _reassert_cancels(self, running: list[Run]) -> None:
        for run in running:
            if run.cancel_requested:
                await self.rt.broker.request_cancel(run.domain, run.id)

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
                await self.rt.broker.publish(worker.domain, [WorkerStateEvent(worker=worker)])
