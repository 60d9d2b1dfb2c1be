"""Ticker: turns schedules into runs, on the leader only.

It sleeps until the earliest next fire (or until a job changes), never polls. Cron and `at` slots
are wall-clock instants with an idempotency key in the store, so a restart or a second leader
collides instead of firing twice; intervals are measured on the monotonic clock, so a wall-clock
step neither re-fires nor bursts. Slots missed while no ticker ran follow the job's catch-up policy
and are recorded as `skipped` runs, never dropped silently.

A slot that finds its domain over its cap of runs per minute (`HYDRA_MAX_RUNS_PER_MINUTE`) is
skipped, not queued for later (a backlog would only flood later). One such slot per job and
minute is recorded as a `skipped` run saying why, the others only counted (`hydra_slots_over_cap`)
and logged with it, so a domain with runaway schedules cannot flood the store with skipped runs
either.

Job changes reach it as wake-ups (relayed from other replicas through the broker); since those are
hints, it also compares every job's `updated_at` with what it loaded every `RESYNC_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from hydra_jobs.errors import NotFound
from hydra_jobs.job_spec import Overlap
from hydra_jobs.models import Job, Run, Trigger
from hydra_jobs.schedule import CronSchedule, plan_due_slots
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.services.runs import cancel_active, new_run, submit_runs
from hydra_jobs.status import RunStatus

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 30.0  # a slot fired later than this counts as missed (catch-up rules)
MAX_SLEEP_SECONDS = 30.0  # re-read the wall clock at least this often (catches clock steps)
RESYNC_SECONDS = 30.0  # safety net for lost job-change nudges
OVER_CAP_NOTE_SECONDS = 60.0  # at most one skipped run per job this often for a domain's cap


@dataclass
class Entry:
    job: Job
    cron: CronSchedule | None = None
    next_wall: datetime | None = None  # cron and at
    next_mono: float | None = None  # interval

    def due_in(self, now: datetime, mono: float) -> float | None:
        if self.next_mono is not None:
            return self.next_mono - mono
        if self.next_wall is not None:
            return (self.next_wall - now).total_seconds()
        return None


class Ticker:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.entries: dict[str, Entry] = {}
        self.versions: dict[str, datetime] = {}  # updated_at of every job as loaded
        self.fired = 0
        self.attempts = 0  # slots this ticker tried to fire (collisions included)
        self.over_cap = 0  # slots skipped because their domain was over its cap
        self._over_cap_noted: dict[str, float] = {}  # job id -> monotonic time of its record
        self.resync_wanted = False
        self._next_resync = 0.0
        self.idle = asyncio.Event()  # set while sleeping: lets tests with a manual clock settle

    async def run_forever(self) -> None:
        await self.load_all(catch_up=True)
        self._next_resync = self.rt.clock.monotonic() + RESYNC_SECONDS
        while True:
            if self.resync_wanted or self.rt.clock.monotonic() >= self._next_resync:
                await self.resync()
            await self._reload_changed()
            await self.fire_due()
            await self._sleep(min(self._next_delay(), RESYNC_SECONDS))

    async def _sleep(self, delay: float) -> None:
        self.idle.set()
        try:
            await self._wait(delay)
        finally:
            self.idle.clear()

    async def _wait(self, delay: float) -> None:
        clock_sleep = asyncio.ensure_future(self.rt.clock.sleep(delay))
        changed = asyncio.ensure_future(self.rt.jobs_changed.wait(None))
        try:
            await asyncio.wait({clock_sleep, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (clock_sleep, changed):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _next_delay(self) -> float:
        now, mono = self.rt.clock.now(), self.rt.clock.monotonic()
        delays = [d for e in self.entries.values() if (d := e.due_in(now, mono)) is not None]
        return max(0.0, min([MAX_SLEEP_SECONDS, *delays]))

    # loading ---------------------------------------------------------------------------------

    async def load_all(self, *, catch_up: bool) -> None:
        self.entries.clear()
        self.versions.clear()
        self.rt.changed_job_ids.clear()
        for job in await self.rt.store.schedulable_jobs():
            await self._load(job, catch_up=catch_up)

    async def resync(self) -> None:
        """Queue a reload of every job whose stored version differs from the one loaded."""
        self.resync_wanted = False
        self._next_resync = self.rt.clock.monotonic() + RESYNC_SECONDS
        current = {job.id: job.updated_at for job in await self.rt.store.schedulable_jobs()}
        stale = {j for j, at in current.items() if self.versions.get(j) != at}
        stale |= self.versions.keys() - current.keys()
        if stale:
            log.info("resync: %d job(s) changed", len(stale), extra={"action": "ticker_resync"})
            self.rt.changed_job_ids.update(stale)

    async def _reload_changed(self) -> None:
        changed = list(self.rt.changed_job_ids)
        self.rt.changed_job_ids.clear()
        if not changed:
            return
        by_id = {job.id: job for job in await self.rt.store.schedulable_jobs()}
        for job_id in changed:
            self.entries.pop(job_id, None)
            self.versions.pop(job_id, None)
            job = by_id.get(job_id)
            if job is not None:
                await self._load(job, catch_up=False)

    async def _load(self, job: Job, *, catch_up: bool) -> None:
        self.versions[job.id] = job.updated_at
        if job.schedule is None or not job.enabled or job.paused:
            await self._set_next_fire(job, None)
            return
        entry = Entry(job=job, cron=job.schedule.cron_schedule())
        now = self.rt.clock.now()
        last = await self.rt.store.last_scheduled_slot(job.id)
        floor = max(t for t in (last, job.updated_at) if t is not None)
        kind = job.schedule.kind
        if kind == "interval":
            interval = job.schedule.every_seconds() or 0.0
            elapsed = (now - last).total_seconds() if last else 0.0
            wait = interval - elapsed if last else interval
            entry.next_mono = self.rt.clock.monotonic() + max(0.0, wait)
        elif kind == "at":
            at = job.schedule.at_utc()
            entry.next_wall = at if at is not None and (last is None or last < at) else None
        else:
            assert entry.cron is not None
            if catch_up:
                await self._catch_up(entry, floor, now)
            entry.next_wall = entry.cron.next_after(now)
        self.entries[job.id] = entry
        await self._store_next_fire(entry)

    def _next_fire_wall(self, entry: Entry) -> datetime | None:
        if entry.next_mono is not None:
            delta = entry.next_mono - self.rt.clock.monotonic()
            return self.rt.clock.now() + timedelta(seconds=max(0.0, delta))
        return entry.next_wall

    async def _set_next_fire(self, job: Job, when: datetime | None) -> None:
        if job.next_fire_at == when:
            return
        with contextlib.suppress(NotFound):
            await self.rt.store.set_job_fields(job.domain, job.id, next_fire_at=when)

    async def _store_next_fire(self, entry: Entry) -> None:
        """Store the entry's next fire, and remember it in the entry's job: compared with what
        the job held when it was loaded, a fire that cleared it (a one-off `at` already due at
        load) looked unchanged, and the stored time stayed in the past."""
        when = self._next_fire_wall(entry)
        await self._set_next_fire(entry.job, when)
        entry.job = entry.job.model_copy(update={"next_fire_at": when})

    # firing ----------------------------------------------------------------------------------

    async def _catch_up(self, entry: Entry, floor: datetime, now: datetime) -> None:
        """At start: the slots since the last one fired (at most the catch-up window back)."""
        assert entry.cron is not None
        window_start = now - timedelta(seconds=self.rt.settings.catchup_window_seconds)
        due = entry.cron.fires_between(max(floor, window_start), now)
        await self._fire_slots(entry.job, list(due), now)

    async def _fire_slots(self, job: Job, due: list[datetime], now: datetime) -> None:
        """Fire the cron slots due at `now`; those missed follow the job's catch-up policy, and
        the ones it does not fire are recorded in one `skipped` run."""
        plan = plan_due_slots(
            due,
            now,
            grace_seconds=MISFIRE_GRACE_SECONDS,
            policy=job.catchup,
            max_all=self.rt.settings.catchup_max_runs,
        )
        await self._record_skipped(job, plan.skipped, f"catchup={job.catchup.value}")
        for slot in plan.fire:
            await self.fire(job, slot)

    async def fire_due(self) -> None:
        now, mono = self.rt.clock.now(), self.rt.clock.monotonic()
        for job_id, entry in list(self.entries.items()):
            delay = entry.due_in(now, mono)
            if delay is None or delay > 0:
                continue
            job = entry.job
            if entry.next_mono is not None:
                await self.fire(job, now)
                interval = (job.schedule.every_seconds() or 0.0) if job.schedule else 0.0
                entry.next_mono += interval
                if entry.next_mono <= mono:  # fell behind (suspended): no burst, one interval on
                    entry.next_mono = mono + interval
            elif entry.cron is not None and entry.next_wall is not None:
                await self._fire_cron_slots(entry, now)
            else:  # one-off `at`
                if entry.next_wall is not None:
                    await self.fire(job, entry.next_wall)
                entry.next_wall = None
            if job_id in self.entries:
                await self._store_next_fire(entry)

    async def _fire_cron_slots(self, entry: Entry, now: datetime) -> None:
        assert entry.cron is not None and entry.next_wall is not None
        if (now - entry.next_wall).total_seconds() > MISFIRE_GRACE_SECONDS:
            # The wall clock jumped or the loop stalled: the gap follows the catch-up policy.
            gap = [entry.next_wall, *entry.cron.fires_between(entry.next_wall, now)]
            await self._fire_slots(entry.job, gap, now)
        else:
            await self.fire(entry.job, entry.next_wall)
        entry.next_wall = entry.cron.next_after(now)

    async def fire(self, job: Job, slot: datetime) -> Run | None:
        """Create the run of one slot, applying the job's overlap policy. Idempotent per slot."""
        if not self.rt.leading():
            return None  # the leader lease may have lapsed: another replica owns the slots now
        self.attempts += 1
        overlap = job.concurrency.overlap
        busy = 0
        if overlap in (Overlap.SKIP, Overlap.CANCEL_PREVIOUS):
            active = (await self.rt.store.active_counts([job.id])).get(job.id, 0)
            pending = await self.rt.store.runs_with_status([RunStatus.PENDING], job_id=job.id)
            busy = active + len(pending)
            cap = job.concurrency.max_running or 1
            if overlap is Overlap.SKIP and busy >= cap:
                why = f"skipped: {busy} run(s) still active (overlap=skip)"
                return await self._insert(self._slot_run(job, slot, skipped=why))
        if self.rt.budget.take(job.domain, 1, self.rt.clock.monotonic()) > 0:
            return await self._skip_over_cap(job, slot)
        if overlap is Overlap.CANCEL_PREVIOUS and busy:
            await cancel_active(self.rt, job, reason="cancelled by a newer run (overlap)")
        return await self._insert(self._slot_run(job, slot))

    async def _skip_over_cap(self, job: Job, slot: datetime) -> Run | None:
        """A slot of a domain over its cap: recorded once per job and minute, else counted."""
        self.over_cap += 1
        mono = self.rt.clock.monotonic()
        noted = self._over_cap_noted.get(job.id)
        if noted is not None and mono - noted < OVER_CAP_NOTE_SECONDS:
            return None
        self._over_cap_noted[job.id] = mono
        text = (
            f"skipped: domain '{job.domain}' has created the {self.rt.budget.per_minute} runs "
            "it may per minute (HYDRA_MAX_RUNS_PER_MINUTE); this job's slots are skipped "
            "until there is room, with one record like this one a minute"
        )
        log.warning("%s: %s", job.name, text, extra={"action": "over_cap", "job_id": job.id})
        return await self._insert(self._slot_run(job, slot, skipped=text))

    def _slot_run(self, job: Job, slot: datetime, *, skipped: str | None = None) -> Run:
        now = self.rt.clock.now()
        return new_run(job, trigger=Trigger.SCHEDULE, now=now, slot=slot, skipped=skipped)

    async def _insert(self, run: Run) -> Run | None:
        inserted = await submit_runs(self.rt, [run])
        if not inserted:
            return None  # another ticker (or a previous life of this one) fired this slot
        self.fired += 1
        if inserted[0].status is RunStatus.SKIPPED:
            await self.rt.emitter.on_skipped(inserted)  # a slot with no run: `missed` alerts
        return inserted[0]

    async def _record_skipped(self, job: Job, skipped: list[datetime], why: str) -> None:
        if not skipped:
            return
        first, last = skipped[0], skipped[-1]
        text = (
            f"missed {len(skipped)} slot(s) from {first.isoformat()} to {last.isoformat()} "
            f"while no scheduler was running ({why})"
        )
        log.warning("%s: %s", job.name, text, extra={"action": "missed_slots", "job_id": job.id})
        await self._insert(self._slot_run(job, last, skipped=text))
