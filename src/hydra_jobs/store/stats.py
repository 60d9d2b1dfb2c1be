"""Dashboard aggregation from plain run rows (pure; the store fetches the rows)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from hydra_jobs.models import HourBucket, JobStat, RunSummary, Stats
from hydra_jobs.status import FAILURE, RunStatus

FINISHED_OK = RunStatus.SUCCEEDED.value
TOP_JOBS = 5


def build_stats(
    rows: Iterable[tuple[str, str, str, datetime, datetime | None, datetime | None]],
    *,
    since: datetime,
    now: datetime,
    recent_failures: list[RunSummary],
    workers_online: int,
) -> Stats:
    """rows: (job_id, job_name, status, created_at, started_at, finished_at)."""
    counts: Counter[str] = Counter()
    hours: dict[datetime, Counter[str]] = defaultdict(Counter)
    per_job: dict[str, dict[str, object]] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    for job_id, job_name, status, created, started, finished in rows:
        counts[status] += 1
        hours[created.replace(minute=0, second=0, microsecond=0)][status] += 1
        stat = per_job.setdefault(job_id, {"name": job_name, "runs": 0, "failures": 0})
        stat["runs"] = int(str(stat["runs"])) + 1
        if status in FAILURE:
            stat["failures"] = int(str(stat["failures"])) + 1
        if started and finished:
            durations[job_id].append((finished - started).total_seconds())
    start_hour = since.replace(minute=0, second=0, microsecond=0)
    hourly = []
    hour = start_hour
    while hour <= now:
        hourly.append(HourBucket(hour=hour, counts=dict(hours.get(hour, {}))))
        hour += timedelta(hours=1)
    ended = counts[FINISHED_OK] + sum(counts[s] for s in FAILURE)
    jobs = [
        JobStat(
            job_id=job_id,
            job_name=str(info["name"]),
            runs=int(str(info["runs"])),
            failures=int(str(info["failures"])),
            avg_seconds=sum(d) / len(d) if (d := durations.get(job_id)) else None,
            max_seconds=max(d) if d else None,
        )
        for job_id, info in per_job.items()
    ]
    slowest = sorted(
        (j for j in jobs if j.avg_seconds is not None),
        key=lambda j: j.avg_seconds or 0.0,
        reverse=True,
    )[:TOP_JOBS]
    failing = sorted((j for j in jobs if j.failures), key=lambda j: j.failures, reverse=True)[
        :TOP_JOBS
    ]
    return Stats(
        since=since,
        counts=dict(counts),
        hourly=hourly,
        success_rate=counts[FINISHED_OK] / ended if ended else None,
        slowest_jobs=slowest,
        failing_jobs=failing,
        recent_failures=recent_failures,
        workers_online=workers_online,
    )
