"""Dashboard aggregation (pure; the store reads the groups).

A dashboard window can hold hundreds of thousands of runs, so a store does not hand over its runs:
it hands over `StatGroup`s, one per (job, status, hour), which SQL computes with one GROUP BY
(`store/sql/reports.py`). `group_runs` is the same grouping done in Python, for a store that reads
plain rows, and the reference the SQL is tested against (tests/contract/test_records.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hydra_jobs.models import HourBucket, JobStat, RunSummary, Stats
from hydra_jobs.status import FAILURE, RunStatus

FINISHED_OK = RunStatus.SUCCEEDED.value
TOP_JOBS = 5


@dataclass(slots=True)
class StatGroup:
    """The runs of one job with one status created in one hour."""

    job_id: str
    job_name: str
    status: str
    hour: datetime  # UTC, on the hour
    runs: int = 0
    timed: int = 0  # how many of them have both started_at and finished_at
    seconds: float = 0.0  # the sum of those runs' durations
    max_seconds: float | None = None


def on_the_hour(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def group_runs(
    rows: Iterable[tuple[str, str, str, datetime, datetime | None, datetime | None]],
) -> list[StatGroup]:
    """rows: (job_id, job_name, status, created_at, started_at, finished_at)."""
    groups: dict[tuple[str, str, datetime], StatGroup] = {}
    for job_id, job_name, status, created, started, finished in rows:
        hour = on_the_hour(created)
        group = groups.get((job_id, status, hour))
        if group is None:
            group = groups[job_id, status, hour] = StatGroup(job_id, job_name, status, hour)
        group.runs += 1
        if started and finished:
            seconds = (finished - started).total_seconds()
            group.timed += 1
            group.seconds += seconds
            group.max_seconds = max(seconds, group.max_seconds or seconds)
    return list(groups.values())


@dataclass(slots=True)
class _JobTotals:
    name: str
    runs: int = 0
    failures: int = 0
    timed: int = 0
    seconds: float = 0.0
    max_seconds: float | None = None

    def stat(self, job_id: str) -> JobStat:
        return JobStat(
            job_id=job_id,
            job_name=self.name,
            runs=self.runs,
            failures=self.failures,
            avg_seconds=self.seconds / self.timed if self.timed else None,
            max_seconds=self.max_seconds,
        )


@dataclass(slots=True)
class _Totals:
    counts: Counter[str] = field(default_factory=Counter)
    hours: dict[datetime, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    jobs: dict[str, _JobTotals] = field(default_factory=dict)

    def add(self, g: StatGroup) -> None:
        self.counts[g.status] += g.runs
        self.hours[g.hour][g.status] += g.runs
        job = self.jobs.get(g.job_id)
        if job is None:
            job = self.jobs[g.job_id] = _JobTotals(g.job_name)
        job.runs += g.runs
        if g.status in FAILURE:
            job.failures += g.runs
        if g.timed:
            job.timed += g.timed
            job.seconds += g.seconds
            if g.max_seconds is not None:
                job.max_seconds = max(g.max_seconds, job.max_seconds or g.max_seconds)


def build_stats(
    groups: Iterable[StatGroup],
    *,
    since: datetime,
    now: datetime,
    recent_failures: list[RunSummary],
    workers_online: int,
) -> Stats:
    totals = _Totals()
    for group in groups:
        totals.add(group)
    hourly = []
    hour = on_the_hour(since)
    while hour <= now:
        hourly.append(HourBucket(hour=hour, counts=dict(totals.hours.get(hour, {}))))
        hour += timedelta(hours=1)
    counts = totals.counts
    ended = counts[FINISHED_OK] + sum(counts[s] for s in FAILURE)
    jobs = [job.stat(job_id) for job_id, job in totals.jobs.items()]
    slowest = sorted(
        (j for j in jobs if j.avg_seconds is not None),
        key=lambda j: (-(j.avg_seconds or 0.0), j.job_id),
    )[:TOP_JOBS]
    failing = sorted((j for j in jobs if j.failures), key=lambda j: (-j.failures, j.job_id))
    return Stats(
        since=since,
        counts=dict(counts),
        hourly=hourly,
        success_rate=counts[FINISHED_OK] / ended if ended else None,
        slowest_jobs=slowest,
        failing_jobs=failing[:TOP_JOBS],
        recent_failures=recent_failures,
        workers_online=workers_online,
    )
