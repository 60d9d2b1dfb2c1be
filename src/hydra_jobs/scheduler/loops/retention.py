"""Retention: deletes old finished runs and their logs, in small batches, on the leader; and
forgets workers that have been offline for long.

`HYDRA_RUN_RETENTION_DAYS` is the default; a job's `retention_days` overrides it either way
(a job may keep its history longer or shorter than the rest). Only terminal runs go: a run still
waiting or running is never deleted, however old. Age is counted from `created_at`.

Each batch is one short transaction, and the loop pauses between batches, so a first sweep over
millions of old runs never holds the store's write lock for long (SQLite has one writer): ingest,
the dispatcher and the API keep writing between batches. No TTL index is used, so every store
behaves the same and per-job overrides work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from hydra_jobs.scheduler.context import Runtime

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 10 * 60.0
DELETE_BATCH = 200  # runs per transaction, with their log chunks: ~20 ms on SQLite
BATCH_PAUSE_SECONDS = 0.02  # between batches, so other writers get the store


class Retention:
    def __init__(
        self,
        rt: Runtime,
        *,
        interval_seconds: float = SWEEP_INTERVAL_SECONDS,
        batch: int = DELETE_BATCH,
        pause_seconds: float = BATCH_PAUSE_SECONDS,
    ) -> None:
        self.rt = rt
        self.interval_seconds = interval_seconds
        self.batch = batch
        self.pause_seconds = pause_seconds
        self.deleted = 0
        self.workers_forgotten = 0
        self.sweeps = 0

    async def run_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("retention sweep failed", extra={"action": "retention"})
            await self.rt.clock.sleep(self.interval_seconds)

    async def sweep(self) -> int:
        """Delete every run that is past its retention; returns how many went."""
        now = self.rt.clock.now()
        overrides = await self.rt.store.job_retention_days()
        deleted = 0
        default_days = self.rt.settings.run_retention_days
        if default_days is not None:
            deleted += await self._drain(_cutoff(now, default_days), None, overrides.keys())
        for job_id, days in overrides.items():
            deleted += await self._drain(_cutoff(now, days), job_id, ())
        if deleted:
            self.deleted += deleted
            log.info("retention deleted %d runs", deleted, extra={"action": "retention"})
        await self._forget_offline_workers(now)
        self.sweeps += 1
        return deleted

    async def _forget_offline_workers(self, now: datetime) -> None:
        """Workers offline for longer than HYDRA_WORKER_RETENTION_HOURS leave the fleet view
        (every restart of a worker is a new worker id: they piled up for ever)."""
        before = now - timedelta(hours=self.rt.settings.worker_retention_hours)
        forgotten = await self.rt.store.delete_offline_workers(before)
        if forgotten:
            self.workers_forgotten += forgotten
            log.info("forgot %d offline workers", forgotten, extra={"action": "retention"})

    async def _drain(self, cutoff: datetime, job_id: str | None, exclude: Collection[str]) -> int:
        total = 0
        while True:
            count = await self.rt.store.delete_runs_before(
                cutoff, job_id=job_id, batch=self.batch, exclude_jobs=exclude
            )
            total += count
            if count < self.batch:
                return total
            await asyncio.sleep(self.pause_seconds)


def _cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
