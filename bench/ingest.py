"""Ingest throughput alone: worker events of many short runs through the broker into the store.

    .venv/bin/python bench/ingest.py [--runs 5000] [--repeat 3] [--redis]

N queued runs are put in a fresh SQLite store; their `started`, one `output` and `finished`
events (3N) are emitted into the broker as a fleet of workers would, and ingest (the loop every
replica runs) applies them; the time is from the first event read to the last run stored as
ended. No processes are spawned, so this isolates what ingest costs: reading, checking and
decoding events, the store's batched writes, the live fan-out. `--redis` goes through a private
redis-server and the Redis broker (signed events, JSON on the wire) instead of the in-process
broker. Prints events/s and the CPU time
of the process per event (steadier on a shared machine) per repeat, and their medians.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hydra_jobs.broker.base import Broker
from hydra_jobs.broker.memory import MemoryBroker
from hydra_jobs.clock import SystemClock
from hydra_jobs.config import Settings
from hydra_jobs.ids import new_id
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job, Run, RunStatus, Trigger
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.loops.ingest import Ingest
from hydra_jobs.store.sql.store import SqlStore

ADMIN = "bench-admin-token-" + "b" * 32
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def worker_events(domain: str, run_id: str) -> list[Any]:
    """The three events of one short run, as the worker of this version emits them."""
    base = {"domain": domain, "run_id": run_id, "worker_id": "bench-worker"}
    at = T0.isoformat()
    raw = [
        {**base, "type": "started", "pid": 4242, "at": at},
        {**base, "type": "output", "offset": 0, "data": "hello from the bench\n"},
        {
            **base,
            "type": "finished",
            "status": "succeeded",
            "exit_code": 0,
            "error": None,
            "resource_usage": {"cpu_user_seconds": 0.001, "peak_rss_bytes": 4096.0},
            "at": at,
            "log_truncated": False,
            "log_size": 21,
        },
    ]
    try:
        from hydra_jobs.events import parse_worker_event  # typed events (issue 16)
    except ImportError:
        return raw
    return [parse_worker_event(event) for event in raw]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(
    runs: int, tmp: Path, make_brokers: Callable[[], tuple[Broker, Broker]]
) -> tuple[float, float]:
    """(events/s, CPU microseconds of this process per event)."""
    store = SqlStore(f"sqlite+aiosqlite:///{tmp / f'ingest-{new_id()}.db'}")
    await store.open()
    await store.ensure_domain("default")
    executor = {"type": "shell", "script": "true"}
    spec = JobSpec.model_validate({"name": "bench", "executor": executor})
    job = Job(**spec.model_dump(), id=new_id(), domain="default", created_at=T0, updated_at=T0)
    await store.create_job(job)
    queued = [
        Run(
            id=new_id(),
            job_id=job.id,
            job_name=job.name,
            domain="default",
            status=RunStatus.QUEUED,
            trigger=Trigger.API,
            created_at=T0,
            spec=spec.model_dump(mode="json"),
        )
        for _ in range(runs)
    ]
    for start in range(0, runs, 1000):
        await store.insert_runs(queued[start : start + 1000])
    worker_side, scheduler_side = make_brokers()
    await worker_side.start()
    if scheduler_side is not worker_side:
        await scheduler_side.start()
    settings = Settings(ADMIN_TOKEN=ADMIN, HYDRA_DATA_DIR=tmp)
    rt = Runtime(store=store, broker=scheduler_side, clock=SystemClock(), settings=settings)
    ingest = Ingest(rt)
    events = [e for run in queued for e in worker_events("default", run.id)]
    hand_out_tickets(worker_side, [run.id for run in queued])
    emitter = asyncio.create_task(worker_side.emit(events))  # type: ignore[arg-type]
    start, cpu = time.perf_counter(), time.process_time()
    loop = asyncio.create_task(ingest.run_forever())
    while sum(ingest.ended.values()) < runs:
        await asyncio.sleep(0.005)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    loop.cancel()
    await asyncio.gather(loop, emitter, return_exceptions=True)
    if scheduler_side is not worker_side:
        await scheduler_side.close()
    await worker_side.close()
    await store.close()
    return len(events) / seconds, cpu * 1e6 / len(events)


def hand_out_tickets(broker: Broker, run_ids: list[str]) -> None:
    """What claiming the runs would have left with a Redis worker: each run's ticket, which its
    events carry (without a claim, the scheduler would refuse them)."""
    from hydra_jobs.broker.signing import ticket

    keys = getattr(broker, "ring", None)
    if keys is None:
        return  # the in-process broker needs none
    for run_id in run_ids:
        broker._tickets[run_id] = ticket(keys.scheduler_key, "default", run_id)  # type: ignore[attr-defined]


def redis_brokers(url: str) -> Callable[[], tuple[Broker, Broker]]:
    from hydra_jobs.broker.redis.broker import RedisBroker
    from hydra_jobs.broker.signing import SchedulerKeys

    def make() -> tuple[Broker, Broker]:
        # The scheduler's keys sign for every domain: one broker both emits and reads.
        broker = RedisBroker(url, SchedulerKeys(ADMIN), prefix=f"bench-{new_id()}")
        return broker, broker

    return make


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        server: subprocess.Popen[bytes] | None = None
        if args.redis:
            binary = shutil.which("redis-server")
            if binary is None:
                sys.exit("--redis needs redis-server on PATH")
            port = free_port()
            server = subprocess.Popen(
                [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
            await asyncio.sleep(0.5)
            make = redis_brokers(f"redis://127.0.0.1:{port}/0")
        else:

            def make() -> tuple[Broker, Broker]:
                broker = MemoryBroker()
                return broker, broker

        try:
            results = [await measure(args.runs, tmp, make) for _ in range(args.repeat)]
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
    kind = "redis" if args.redis else "memory"
    print(f"ingest ({kind} broker, {args.runs} runs, 3 events each):")
    for rate, cpu in results:
        print(f"  {rate:10.0f} events/s  {cpu:8.1f} CPU us/event")
    rate = statistics.median(r for r, _ in results)
    cpu = statistics.median(c for _, c in results)
    print(f"  median {rate:.0f} events/s, {cpu:.1f} CPU us/event")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis", action="store_true")
    asyncio.run(main(parser.parse_args()))
