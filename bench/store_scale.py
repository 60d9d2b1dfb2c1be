"""Run listing at scale: the newest 50 runs of a domain, a job, a status, with 200,000 runs stored.

    .venv/bin/python bench/store_scale.py [--runs 200000] [--repeat 30] [--stores sqlite,postgres]

Each store gets a fresh database (SQLite: a temp file; PostgreSQL: a new database on
HYDRA_BENCH_PG_URL, default the local server, dropped afterwards; MongoDB: a new database on
HYDRA_TEST_MONGO_URL, when set). Runs are inserted in bulk through the store's own `insert_runs`,
spread over 2 domains and 200 jobs, mostly succeeded, as a busy installation's history looks: one
cron job every 10 s holds a quarter of them (scheduled slots), the rest are API triggers.
Every query goes through the store API (SQL + row decoding + model validation), and is timed as
the median of `--repeat` calls after one warm-up call. The target is < 20 ms for each listing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hydra_jobs.ids import new_id
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job, Run, Trigger
from hydra_jobs.scheduler.loops.retention import DELETE_BATCH as RETENTION_BATCH
from hydra_jobs.status import RunStatus
from hydra_jobs.store import open_store
from hydra_jobs.store.base import RunFilter, Store

TARGET_MS = 20.0
PAGE = 50
DOMAINS = ("default", "team-b")
JOBS = 200
HOT_SHARE = 0.25  # of all runs, belong to jobs[0], a cron job
INSERT_BATCH = 5_000
STATUS_WEIGHTS = {
    RunStatus.SUCCEEDED: 90,
    RunStatus.FAILED: 7,
    RunStatus.TIMED_OUT: 1,
    RunStatus.CANCELLED: 1,
    RunStatus.SKIPPED: 1,
}
PG_ADMIN_URL = os.environ.get("HYDRA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=10)  # between two runs' creation


def make_jobs() -> list[Job]:
    spec = JobSpec.model_validate(
        {"name": "x", "executor": {"type": "shell", "script": "./run.sh --all"}}
    )
    return [
        Job(
            **spec.model_dump() | {"name": f"job-{i}"},
            id=new_id(),
            domain=DOMAINS[i % len(DOMAINS)],
            created_at=START,
            updated_at=START,
        )
        for i in range(JOBS)
    ]


def make_runs(jobs: list[Job], count: int, rng: random.Random) -> Iterator[list[Run]]:
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    specs = {j.id: j.spec().model_dump(mode="json") for j in jobs}
    batch: list[Run] = []
    for i in range(count):
        hot = rng.random() < HOT_SHARE
        job = jobs[0] if hot else jobs[rng.randrange(1, len(jobs))]
        created = START + i * STEP
        batch.append(
            Run(
                id=new_id(),
                job_id=job.id,
                job_name=job.name,
                domain=job.domain,
                status=rng.choices(statuses, weights)[0],
                trigger=Trigger.SCHEDULE if hot else Trigger.API,
                scheduled_for=created if hot else None,
                created_at=created,
                queued_at=created,
                started_at=created + timedelta(seconds=1),
                finished_at=created + timedelta(seconds=3),
                exit_code=0,
                worker_id=f"worker-{rng.randrange(8)}",
                params={},
                spec=specs[job.id],
            )
        )
        if len(batch) == INSERT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float]:
    """(median ms, max ms) over `repeat` calls, after one warm-up."""
    await call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


async def populate(store: Store, count: int) -> tuple[list[Job], float]:
    jobs = make_jobs()
    for job in jobs:
        await store.create_job(job)
    start = time.perf_counter()
    for batch in make_runs(jobs, count, random.Random(7)):
        await store.insert_runs(batch)
    return jobs, time.perf_counter() - start


async def queries(
    store: Store, jobs: list[Job], end: datetime
) -> dict[str, Callable[[], Awaitable[Any]]]:
    domain = DOMAINS[0]
    hot, job = jobs[0], jobs[2]
    first = await store.list_runs(domain, RunFilter(), limit=PAGE, cursor=None)

    def listing(flt: RunFilter, cursor: str | None = None) -> Callable[[], Awaitable[Any]]:
        return lambda: store.list_runs(domain, flt, limit=PAGE, cursor=cursor)

    return {
        "newest 50 of a domain": listing(RunFilter()),
        "newest 50 of a job": listing(RunFilter(job_id=job.id)),
        "newest 50 of the busiest job": listing(RunFilter(job_id=hot.id)),
        "newest 50 of a status (failed)": listing(RunFilter(status=[RunStatus.FAILED])),
        "newest 50 of a rare status (timed_out)": listing(RunFilter(status=[RunStatus.TIMED_OUT])),
        "newest 50 of 2 statuses": listing(
            RunFilter(status=[RunStatus.FAILED, RunStatus.TIMED_OUT])
        ),
        "newest 50 of a job and a status": listing(
            RunFilter(job_id=job.id, status=[RunStatus.SUCCEEDED])
        ),
        "newest 50 of the busiest job, rare status": listing(
            RunFilter(job_id=hot.id, status=[RunStatus.TIMED_OUT])
        ),
        "newest 50 of the busiest job, absent status": listing(
            RunFilter(job_id=hot.id, status=[RunStatus.LOST])
        ),
        "newest 50 created in a day": listing(
            RunFilter(since=START + timedelta(days=10), until=START + timedelta(days=11))
        ),
        "page 2 of a domain (cursor)": listing(RunFilter(), first.next_cursor),
        "newest 50 of a worker": listing(RunFilter(worker_id="worker-3")),
        "last scheduled slot of the busiest job": lambda: store.last_scheduled_slot(hot.id),
        "list jobs (50, with last runs)": lambda: store.list_jobs(domain, limit=PAGE, cursor=None),
        "dashboard stats, last 24 h": lambda: store.stats(domain, end - timedelta(days=1), end),
        # 31 days, the widest window the API allows: every run of the domain is in it.
        "dashboard stats, last 31 days": lambda: store.stats(domain, end - timedelta(days=31), end),
        "retention sweep, nothing due": lambda: store.delete_runs_before(
            START, job_id=None, batch=RETENTION_BATCH
        ),
        "retention sweep of one job, nothing due": lambda: store.delete_runs_before(
            START, job_id=hot.id, batch=RETENTION_BATCH
        ),
    }


async def retention_batches(store: Store, repeat: int) -> tuple[float, float]:
    """Deleting real batches (destructive: runs last). The write lock is held this long."""
    cutoff = START + timedelta(days=365)
    return await timed(
        lambda: store.delete_runs_before(cutoff, job_id=None, batch=RETENTION_BATCH), repeat
    )


async def bench_store(
    name: str, url: str, count: int, repeat: int
) -> list[tuple[str, float, float]]:
    store = open_store(url)
    await store.open()
    try:
        jobs, seconds = await populate(store, count)
        print(f"[{name}] inserted {count:,} runs in {seconds:.1f} s ({count / seconds:,.0f}/s)")
        await settle(url)
        results = []
        for label, call in (await queries(store, jobs, START + count * STEP)).items():
            median, worst = await timed(call, repeat)
            results.append((label, median, worst))
        median, worst = await retention_batches(store, min(repeat, 10))
        results.append((f"retention: delete a batch of {RETENTION_BATCH}", median, worst))
        return results
    finally:
        await store.close()


async def settle(url: str) -> None:
    """PostgreSQL as it runs day to day: autovacuum has vacuumed and analyzed after a bulk load."""
    if not url.startswith("postgresql"):
        return
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("VACUUM (ANALYZE) runs")
    finally:
        await conn.close()


async def pg_database() -> tuple[str, Callable[[], Awaitable[None]]]:
    import asyncpg

    name = f"hydra_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}", drop


async def run(stores: list[str], count: int, repeat: int) -> int:
    table: dict[str, list[tuple[str, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in stores:
            if name == "sqlite":
                table[name] = await bench_store(
                    name, f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", count, repeat
                )
            elif name == "postgres":
                url, drop = await pg_database()
                try:
                    table[name] = await bench_store(name, url, count, repeat)
                finally:
                    await drop()
            elif name == "mongo":
                mongo = os.environ.get("HYDRA_TEST_MONGO_URL")
                if not mongo:
                    print("[mongo] skipped: set HYDRA_TEST_MONGO_URL to include it")
                    continue
                url = with_database(mongo, f"hydra_bench_{secrets.token_hex(4)}")
                table[name] = await bench_store(name, url, count, repeat)
                await drop_mongo(url)
    return print_table(table, count, repeat)


def with_database(url: str, name: str) -> str:
    """`url` (mongodb://user@host1,host2/db?opts) naming database `name` instead."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    hosts = rest.split("/", 1)[0]
    return f"{scheme}://{hosts}/{name}" + (f"?{query}" if query else "")


async def drop_mongo(url: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    await client.drop_database(client.get_default_database().name)
    await client.close()


def print_table(table: dict[str, list[tuple[str, float, float]]], count: int, repeat: int) -> int:
    names = list(table)
    print(f"\n{count:,} runs; median (max) of {repeat} calls, ms; target < {TARGET_MS:.0f} ms")
    print(f"{'query':<46}" + "".join(f"{n:>16}" for n in names))
    labels = [label for label, _, _ in next(iter(table.values()), [])]
    over = 0
    for i, label in enumerate(labels):
        cells = ""
        for name in names:
            _, median, worst = table[name][i]
            over += label.startswith("newest 50 of a ") and median >= TARGET_MS
            cells += f"{f'{median:.2f} ({worst:.1f})':>16}"
        print(f"{label:<46}{cells}")
    print("all listings under target" if not over else f"{over} listing(s) over target")
    return 1 if over else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--stores", default="sqlite,postgres,mongo")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    sys.exit(asyncio.run(run(stores, args.runs, args.repeat)))


if __name__ == "__main__":
    main()
