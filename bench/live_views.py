"""Live views under load: a burst of runs with 0/50/200 event-stream clients, and with dashboards.

    .venv/bin/python bench/live_views.py [--runs 2000] [--clients 0,50,200] [--dashboards 20]
                                         [--history 20000] [--concurrency 8]

Each measurement starts a fresh `hydra-jobs up` (embedded: SQLite, in-process broker, local
worker) on a data dir seeded with `--history` finished runs of the last 20 hours (what the
dashboard's 24-hour window reads), then submits `--runs` runs of a `true` job in batches of 500
and times the burst: from the first submit to the last run ended.

  1. Fan-out: the burst with N lightweight SSE clients on `GET /api/v1/events` (raw sockets that
     count events and do nothing else, so the cost measured is the server's, not a browser's).
     The target: 200 clients add at most 20 % to the burst.
  2. Dashboards: `--dashboards` clients that each hold a stream and refetch `GET /api/v1/stats`
     as the UI does (`ui/src/live/statsRefresh.ts`: at most one request in flight, at most one
     a second, one more after the last event). Printed: stats requests per second the clients
     sent, stats the server computed per second (the `hydra_stats_computed` metric, when the
     server has it), and the time from the burst's end until every dashboard shows the store's
     counts.

On a machine shared with other work the wall numbers swing from run to run: compare runs made
one after the other, and the ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from throughput import (
    HYDRA,
    TOKEN,
    any_active,
    create_true_job,
    free_port,
    submit_batches,
    wait_http,
)

from hydra_jobs.config import Settings
from hydra_jobs.ids import new_id
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job, Run, RunStatus, Trigger
from hydra_jobs.store import open_store

STATS_INTERVAL = 1.0  # seconds between two stats requests of one dashboard (the UI's)
CONVERGE_TIMEOUT = 30.0  # seconds after the burst to wait for every dashboard to be right
FANOUT_TARGET = 0.20  # 200 clients may add this much to the burst
HISTORY_SPAN = timedelta(hours=20)
SEED_BATCH = 5_000
EVENT_LINE = re.compile(rb"^event: (\w+)$", re.MULTILINE)
ID_LINE = re.compile(rb"^id: (\S+)$", re.MULTILINE)
METRIC = re.compile(r"^(hydra_stats_\w+) ([0-9.e+]+)$", re.MULTILINE)
ACTIVE = ("pending", "queued", "running")


@dataclass
class Viewer:
    """One client of the stream; a dashboard also refetches the stats."""

    events: int = 0
    resets: int = 0
    reconnects: int = 0
    last_id: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    counts: dict[str, int] = field(default_factory=dict)
    stats_requests: int = 0


async def seed_history(data: Path, count: int) -> None:
    """`count` finished runs of one job over the last 20 hours, written straight to the store."""
    store = open_store(Settings(HYDRA_DATA_DIR=data).store_url())
    await store.open()
    try:
        spec = JobSpec.model_validate(
            {"name": "history", "executor": {"type": "shell", "script": "true"}}
        )
        now = datetime.now(UTC)
        job = Job(
            **spec.model_dump(), id=new_id(), domain="default", created_at=now, updated_at=now
        )
        await store.create_job(job)
        step = HISTORY_SPAN / max(count, 1)
        start = now - HISTORY_SPAN
        job_spec = job.spec().model_dump(mode="json")
        for first in range(0, count, SEED_BATCH):
            batch = []
            for i in range(first, min(count, first + SEED_BATCH)):
                created = start + i * step
                batch.append(
                    Run(
                        id=new_id(),
                        job_id=job.id,
                        job_name=job.name,
                        domain=job.domain,
                        status=RunStatus.FAILED if i % 10 == 0 else RunStatus.SUCCEEDED,
                        trigger=Trigger.API,
                        created_at=created,
                        queued_at=created,
                        started_at=created + timedelta(seconds=1),
                        finished_at=created + timedelta(seconds=2),
                        exit_code=1 if i % 10 == 0 else 0,
                        worker_id="worker-0",
                        params={},
                        spec=job_spec,
                    )
                )
            await store.insert_runs(batch)
    finally:
        await store.close()


async def stream(port: int, viewer: Viewer, stop: asyncio.Event) -> None:
    """Reads the event stream over a raw socket (HTTP/1.0: no chunked framing to undo), counts
    events, and reconnects with Last-Event-ID if the server ends the stream."""
    while not stop.is_set():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        resume = f"Last-Event-ID: {viewer.last_id}\r\n" if viewer.last_id else ""
        writer.write(
            (
                "GET /api/v1/events?types=run,job,worker HTTP/1.0\r\nHost: bench\r\n"
                f"Authorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n{resume}\r\n"
            ).encode()
        )
        tail = b""
        try:
            while not stop.is_set():
                chunk = await reader.read(65536)
                if not chunk:
                    break
                text = tail + chunk
                cut = text.rfind(b"\n\n") + 2  # whole events only
                whole, tail = text[:cut], text[cut:]
                names = EVENT_LINE.findall(whole)
                if ids := ID_LINE.findall(whole):
                    viewer.last_id = ids[-1].decode()
                if b"reset" in names:
                    viewer.resets += 1
                if names:
                    viewer.events += len(names)
                    viewer.changed.set()
        finally:
            writer.close()
        viewer.reconnects += 1


async def dashboard(client: httpx.AsyncClient, viewer: Viewer, stop: asyncio.Event) -> None:
    """The UI's stats refresh: fetch once, then after changes, at most once per interval."""
    viewer.changed.set()
    last = 0.0
    while not stop.is_set():
        await viewer.changed.wait()
        viewer.changed.clear()
        await asyncio.sleep(max(0.0, last + STATS_INTERVAL - time.monotonic()))
        last = time.monotonic()
        viewer.stats_requests += 1
        response = await client.get("/api/v1/stats", params={"hours": 24})
        if response.status_code == 200:
            viewer.counts = response.json()["counts"]


def server_metrics(client: httpx.Client) -> dict[str, float]:
    return {m: float(v) for m, v in METRIC.findall(client.get("/metrics").text)}


@dataclass
class Outcome:
    burst_s: float
    cpu_s: float
    events_per_client: float = 0.0
    stats_rps: float = 0.0
    computed_ps: float | None = None
    converge_s: float | None = None


async def measure(
    port: int, pid: int, n: int, clients: int, dashboards: int, history: int
) -> Outcome:
    url = f"http://127.0.0.1:{port}"
    sync = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    job_id = create_true_job(sync, "bench-burst")
    stop = asyncio.Event()
    viewers = [Viewer() for _ in range(clients + dashboards)]
    tasks = [asyncio.create_task(stream(port, v, stop)) for v in viewers]
    api = httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
        limits=httpx.Limits(max_connections=max(dashboards, 1)),
    )
    tasks += [asyncio.create_task(dashboard(api, v, stop)) for v in viewers[clients:]]
    await asyncio.sleep(1.0)  # streams are up, dashboards have their first numbers
    proc = psutil.Process(pid)
    cpu_before = sum(proc.cpu_times()[:2])
    before = server_metrics(sync)
    requests_before = sum(v.stats_requests for v in viewers)
    start = await submit_batches(url, job_id, n)
    while await asyncio.to_thread(any_active, sync, job_id):
        await asyncio.sleep(0.05)
    burst = time.perf_counter() - start
    cpu = sum(proc.cpu_times()[:2]) - cpu_before
    requests = sum(v.stats_requests for v in viewers) - requests_before
    after = server_metrics(sync)
    outcome = Outcome(burst_s=burst, cpu_s=cpu)
    if clients + dashboards:
        outcome.events_per_client = statistics.mean(v.events for v in viewers)
    if dashboards:
        expected = history + n
        deadline = time.monotonic() + CONVERGE_TIMEOUT
        ended = time.monotonic()
        while time.monotonic() < deadline:
            if all(_converged(v.counts, expected) for v in viewers[clients:]):
                outcome.converge_s = time.monotonic() - ended
                break
            await asyncio.sleep(0.02)
        outcome.stats_rps = requests / burst
        if "hydra_stats_computed" in after:
            computed = after["hydra_stats_computed"] - before.get("hydra_stats_computed", 0.0)
            outcome.computed_ps = computed / burst
        else:
            outcome.computed_ps = None  # the server does not count: each request is a computation
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await api.aclose()
    sync.close()
    return outcome


def _converged(counts: dict[str, int], expected: int) -> bool:
    return sum(counts.values()) == expected and not any(counts.get(s) for s in ACTIVE)


def run_one(args: argparse.Namespace, clients: int, dashboards: int) -> Outcome:
    data = Path(tempfile.mkdtemp(prefix="hydra-live-bench-"))
    asyncio.run(seed_history(data, args.history))
    port = free_port()
    env = {
        **os.environ,
        "ADMIN_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
        "HYDRA_MAX_RUNS_PER_MINUTE": "0",
    }
    argv = [HYDRA, "up", "--port", str(port), "--data-dir", str(data)]
    argv += ["--concurrency", str(args.concurrency)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz")
        time.sleep(1.0)
        return asyncio.run(measure(port, proc.pid, args.runs, clients, dashboards, args.history))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--clients", default="0,50,200", help="SSE client counts to measure")
    parser.add_argument("--dashboards", type=int, default=20)
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; runs={args.runs}; "
        f"history={args.history:,} runs in the window; concurrency={args.concurrency}"
    )
    base: float | None = None
    for clients in counts:
        out = run_one(args, clients, 0)
        base = out.burst_s if clients == 0 else base
        extra = f" (+{out.burst_s / base - 1:.0%} over none)" if base and clients else ""
        verdict = ""
        if clients >= 200 and base:
            verdict = (
                "  ok" if out.burst_s <= base * (1 + FANOUT_TARGET) else "  OVER the 20 % target"
            )
        print(
            f"burst of {args.runs} with {clients:3d} SSE clients   {out.burst_s:6.2f} s{extra}; "
            f"CPU of up {out.cpu_s:.1f} s; {out.events_per_client:.0f} events per client{verdict}"
        )
    if args.dashboards:
        out = run_one(args, 0, args.dashboards)
        computed = (
            f"{out.computed_ps:.1f}/s computed by the server"
            if out.computed_ps is not None
            else "each one computed (the server does not share them)"
        )
        converge = f"{out.converge_s:.2f} s" if out.converge_s is not None else "NEVER (30 s)"
        print(
            f"burst of {args.runs} with {args.dashboards} dashboards       {out.burst_s:6.2f} s; "
            f"CPU of up {out.cpu_s:.1f} s"
        )
        print(f"  stats requests                      {out.stats_rps:.1f}/s sent; {computed}")
        print(f"  counts right on every dashboard     {converge} after the burst ended")


if __name__ == "__main__":
    main()
