"""The leader's watch over what no event reports: runs not started on time, runs running too
long, the sweep that re-evaluates recently ended runs (so an alert owed by a run whose replica
died before it recorded the alert is still sent, N1), the outbox's retention, and the heartbeat
ping to an external monitor (N7).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

import httpx

from hydra_jobs import __version__
from hydra_jobs.alerts import NotifyEvent, NotifyRule
from hydra_jobs.clock import Clock
from hydra_jobs.config import Settings
from hydra_jobs.models import Run
from hydra_jobs.notify import rules as R
from hydra_jobs.notify.emit import Emitter
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import RunFilter, Store

log = logging.getLogger(__name__)

WATCH_SECONDS = 10.0  # not_started and running_too_long are noticed within this
SWEEP_SECONDS = 60.0
SWEEP_WINDOW_SECONDS = 3600.0  # runs created this recently are evaluated again by the sweep
SWEEP_MAX_RUNS = 1000  # per domain and sweep
MEDIAN_RUNS = 20  # successful runs the median duration is taken over
MEDIAN_TTL_SECONDS = 300.0
DELIVERY_RETENTION_DAYS = 30
RETENTION_SECONDS = 3600.0
WATCHED = (RunStatus.PENDING, RunStatus.QUEUED, RunStatus.RUNNING)  # not started, or running


class Watcher:
    def __init__(self, store: Store, clock: Clock, settings: Settings, emitter: Emitter) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.emitter = emitter
        self._medians: dict[str, tuple[float, float | None]] = {}
        self._next_sweep = 0.0
        self._next_retention = 0.0
        self.pings = 0
        self.ping_failures = 0

    async def run_forever(self) -> None:
        while True:
            await self.watch_once()
            mono = time.monotonic()
            if mono >= self._next_sweep:
                self._next_sweep = mono + SWEEP_SECONDS
                await self.sweep()
            if mono >= self._next_retention:
                self._next_retention = mono + RETENTION_SECONDS
                await self.forget_old()
            await self.clock.sleep(WATCH_SECONDS)

    # runs in progress ------------------------------------------------------------------------

    async def watch_once(self) -> None:
        now = self.clock.now()
        for run in await self.store.runs_with_status(WATCHED):
            rules = await self.emitter.rules_of(run)
            if not rules:
                continue
            alerts = R.alerts_for_late(run, rules, now) if run.trigger == "schedule" else []
            if run.status is RunStatus.RUNNING and _wants_duration(rules):
                median = await self._median(run) if _wants_median(rules) else None
                alerts += R.alerts_for_running(run, rules, now, median)
            if alerts:
                await self.emitter.record(run, alerts)

    async def _median(self, run: Run) -> float | None:
        mono = time.monotonic()
        cached = self._medians.get(run.job_id)
        if cached is not None and mono - cached[0] < MEDIAN_TTL_SECONDS:
            return cached[1]
        page = await self.store.list_runs(
            run.domain,
            RunFilter(job_id=run.job_id, status=[RunStatus.SUCCEEDED]),
            limit=MEDIAN_RUNS,
            cursor=None,
        )
        durations = [d for r in page.items if (d := R.duration_seconds(r)) is not None]
        median = R.median_duration(durations)
        self._medians[run.job_id] = (mono, median)
        return median

    # the sweep -------------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Evaluate the recent runs of every domain again: what was recorded is kept (same dedup
        keys); what was lost between a run's end and its replica's record is recorded now."""
        now = self.clock.now()
        since = now - timedelta(seconds=SWEEP_WINDOW_SECONDS)
        for domain in await self.store.list_domains():
            _, changed = await self.emitter.domain_settings(domain.name)
            page = await self.store.list_runs(
                domain.name,
                RunFilter(status=(*R.OUTCOMES, RunStatus.SKIPPED), since=since),
                limit=SWEEP_MAX_RUNS,
                cursor=None,
            )
            runs = [r for r in page.items if _ended_after(r, changed)]
            await self.emitter.on_ended([r for r in runs if r.status is not RunStatus.SKIPPED])
            await self.emitter.on_skipped([r for r in runs if r.status is RunStatus.SKIPPED])

    async def forget_old(self) -> None:
        cutoff = self.clock.now() - timedelta(days=DELIVERY_RETENTION_DAYS)
        while await self.store.delete_deliveries_before(cutoff, batch=1000) == 1000:
            pass

    # who watches the watcher -----------------------------------------------------------------

    async def heartbeat_forever(self) -> None:
        if self.settings.heartbeat_url is None:
            return
        url = self.settings.heartbeat_url.get_secret_value()
        interval = self.settings.heartbeat_ping_seconds
        async with httpx.AsyncClient(
            timeout=10.0, trust_env=False, headers={"User-Agent": f"hydra-jobs/{__version__}"}
        ) as client:
            while True:
                try:
                    answer = await client.get(url)
                    answer.raise_for_status()
                    self.pings += 1
                except Exception as exc:
                    self.ping_failures += 1
                    log.warning(
                        "heartbeat ping failed: %s",
                        type(exc).__name__,  # never the URL: it usually holds the check's key
                        extra={"action": "heartbeat_failed"},
                    )
                await asyncio.sleep(interval)


def _wants_duration(rules: list[NotifyRule]) -> bool:
    return any(NotifyEvent.RUNNING_TOO_LONG in r.events() for r in rules)


def _wants_median(rules: list[NotifyRule]) -> bool:
    return any(r.longer_than_median is not None for r in rules)


def _ended_after(run: Run, changed: datetime | None) -> bool:
    """A run that ended before the domain's rules last changed is judged by its replica's hook
    alone: a rule added now must not alert about the past hour."""
    if changed is None or run.finished_at is None:
        return True
    return run.finished_at >= changed
