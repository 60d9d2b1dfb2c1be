"""End-to-end throughput of trivial shell jobs, beside the raw spawn rate and a peer (RQ).

    .venv/bin/python bench/throughput.py [--runs 2000] [--concurrency 8] [--repeat 1] [--no-peer]

Measures, in one run on this machine:
  1. raw: /bin/true spawned from asyncio, `concurrency` at a time (the ceiling for any runner);
  2. hydra: `hydra-jobs up` (embedded: SQLite + in-process broker + local worker); N triggers of a
     `true` job through the HTTP API, from the first submit to the last run persisted as
     succeeded; trigger-to-process-start p50/p99 (created_at -> started_at); idle RSS of `up`;
     then the same N submitted through the batch endpoint (500 per request);
  3. rq (if installed: pip install rq): the same N jobs, each `subprocess.run(["true"])`, through
     a real redis-server and `concurrency` RQ workers in burst mode.

On a machine shared with other work, wall numbers swing from run to run; CPU ms per run of `up`
swings less. `--repeat K` measures each hydra mode K times and reports the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import psutil

TOKEN = "bench-admin-token-" + "b" * 32
PACED_RUNS = 200
PACED_RATE = 50.0  # runs/s: well under what `up` sustains
HYDRA = str(Path(sys.executable).parent / "hydra-jobs")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def raw_spawn_rate(n: int, concurrency: int, argv: tuple[str, ...] = ("/bin/true",)) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            proc = await asyncio.create_subprocess_exec(*argv)
            await proc.wait()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - start)


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


async def submit_batches(url: str, job_id: str, n: int, size: int = 500) -> float:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        start = time.perf_counter()
        for first in range(0, n, size):
            body = {"runs": [{"params": {}} for _ in range(min(size, n - first))]}
            response = await client.post(f"/api/v1/jobs/{job_id}/runs/batch", json=body)
            response.raise_for_status()
        return start


async def submit_all(url: str, job_id: str, n: int, parallel: int = 8) -> float:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=httpx.Limits(max_connections=parallel)
    ) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(i)

        async def sender() -> None:
            while not queue.empty():
                queue.get_nowait()
                response = await client.post(f"/api/v1/jobs/{job_id}/run", json={})
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(parallel)))
        return start


async def submit_paced(url: str, job_id: str, n: int, rate: float) -> None:
    """`n` single triggers, one every 1/`rate` s: a load `up` keeps up with."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        start = time.perf_counter()
        for i in range(n):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            response = await client.post(f"/api/v1/jobs/{job_id}/run", json={})
            response.raise_for_status()


def start_latencies_ms(client: httpx.Client, job_id: str) -> list[float]:
    """Trigger (created_at) to process start (started_at) of each run of the job, sorted."""
    return sorted(
        (
            datetime.fromisoformat(str(r["started_at"]))
            - datetime.fromisoformat(str(r["created_at"]))
        ).total_seconds()
        * 1000
        for r in fetch_runs(client, job_id)
        if r["started_at"]
    )


def count_succeeded(client: httpx.Client) -> int:
    return int(
        client.get("/api/v1/stats", params={"hours": 1}).json()["counts"].get("succeeded", 0)
    )


def any_active(client: httpx.Client, job_id: str) -> bool:
    """True while a run of the job is not finished: an index probe, unlike the dashboard stats
    (which read every run of the window, so polling them cost `up` CPU growing with N)."""
    params = {"job_id": job_id, "status": ["pending", "queued", "running"], "limit": 1}
    return bool(client.get("/api/v1/runs", params=params).json()["items"])


def fetch_runs(client: httpx.Client, job_id: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        params: dict[str, object] = {"job_id": job_id, "limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/runs", params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def create_true_job(client: httpx.Client, name: str) -> str:
    job = client.post(
        "/api/v1/jobs", json={"name": name, "executor": {"type": "shell", "script": "true"}}
    )
    job.raise_for_status()
    return str(job.json()["id"])


def percentile(values: list[float], pct: int) -> float:
    """Of sorted `values`."""
    return values[max(0, int(len(values) * pct / 100) - 1)]


def bench_hydra(n: int, concurrency: int, batch: bool = False) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="hydra-bench-"))
    port = free_port()
    # No cap on runs per minute: measuring how many runs `up` takes is the point.
    env = {
        **os.environ,
        "ADMIN_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
        "HYDRA_MAX_RUNS_PER_MINUTE": "0",
    }
    proc = subprocess.Popen(
        [
            HYDRA,
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--concurrency",
            str(concurrency),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/readyz")
        time.sleep(2.0)
        idle_rss = psutil.Process(proc.pid).memory_info().rss
        client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        )
        paced: dict[str, float] = {}
        if not batch and PACED_RUNS:
            # Latency when `up` is not saturated: what a trigger waits for in normal operation.
            paced_job = create_true_job(client, "bench-paced")
            asyncio.run(submit_paced(url, paced_job, PACED_RUNS, PACED_RATE))
            while any_active(client, paced_job):
                time.sleep(0.05)
            light = start_latencies_ms(client, paced_job)
            paced = {
                "paced_p50_ms": statistics.median(light),
                "paced_p99_ms": percentile(light, 99),
            }
        job_id = create_true_job(client, "bench-true")
        cpu_before = psutil.Process(proc.pid).cpu_times()
        submit = submit_batches if batch else submit_all
        start = asyncio.run(submit(url, job_id, n))
        submitted = time.perf_counter()
        # Every run is stored once its request returned: none active means all have ended.
        while any_active(client, job_id):
            if time.perf_counter() - start > 600:
                raise SystemExit("hydra did not finish in 10 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        cpu_after = psutil.Process(proc.pid).cpu_times()
        expected = n + (0 if batch or not paced else PACED_RUNS)
        if (succeeded := count_succeeded(client)) < expected:
            raise SystemExit(f"only {succeeded} of {expected} runs succeeded")
        latencies = start_latencies_ms(client, job_id)
        busy_rss = psutil.Process(proc.pid).memory_info().rss
        return {
            "runs": n,
            "rate": n / elapsed,
            "submit_rate": n / (submitted - start),
            "p50_ms": statistics.median(latencies),
            "p99_ms": percentile(latencies, 99),
            "idle_rss_mb": idle_rss / 2**20,
            "rss_after_mb": busy_rss / 2**20,
            # CPU of the `up` process itself (not its jobs): robust to a noisy machine.
            "cpu_ms_per_run": 1000
            * ((cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system))
            / n,
            **paced,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        shutil.rmtree(data, ignore_errors=True)


def bench_rq(n: int, concurrency: int) -> float | None:
    try:
        import redis
        import rq
    except ImportError:
        return None
    server = shutil.which("redis-server")
    if server is None:
        return None
    port = free_port()
    redis_proc = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    try:
        conn = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        queue = rq.Queue("bench", connection=conn)
        start = time.perf_counter()
        with conn.pipeline() as pipe:
            for _ in range(n):
                queue.enqueue("rq_tasks.run_true", pipeline=pipe)
            pipe.execute()
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
        workers = [
            subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "rq"),
                    "worker",
                    "--burst",
                    "--url",
                    f"redis://127.0.0.1:{port}",
                    "bench",
                    "-q",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(concurrency)
        ]
        for worker in workers:
            worker.wait(600)
        finished = rq.registry.FinishedJobRegistry("bench", connection=conn).count
        elapsed = time.perf_counter() - start
        if finished < n:
            print(f"  rq finished only {finished}/{n}")
        return finished / elapsed
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)


def median_of(measure: Callable[[], dict[str, float]], repeat: int) -> dict[str, float]:
    """Each metric's median over `repeat` measurements."""
    results = [measure() for _ in range(repeat)]
    if repeat > 1:
        cpu = ", ".join(f"{r['cpu_ms_per_run']:.2f}" for r in results)
        rate = ", ".join(f"{r['rate']:.0f}" for r in results)
        print(f"  {repeat} measurements: CPU ms/run {cpu}; runs/s {rate}")
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def report(label: str, result: dict[str, float], raw: float) -> None:
    print(
        f"{label:38s}{result['rate']:8.0f} runs/s ({result['rate'] / raw:.0%} of raw /bin/true; "
        f"API accepted {result['submit_rate']:.0f} /s)"
    )
    print(
        f"  CPU of `up` per run                 {result['cpu_ms_per_run']:.2f} ms "
        f"(ceiling {1000 / result['cpu_ms_per_run']:.0f} runs/s per core)"
    )
    print(
        f"  trigger -> process start            p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms (the {result['runs']:.0f} sent flat out)"
    )
    if "paced_p50_ms" in result:
        print(
            f"  ... with {PACED_RUNS} sent at {PACED_RATE:.0f}/s      "
            f"p50 {result['paced_p50_ms']:.1f} ms, p99 {result['paced_p99_ms']:.1f} ms"
        )
    print(
        f"  RSS of `up`                         idle {result['idle_rss_mb']:.0f} MiB, "
        f"after the runs {result['rss_after_mb']:.0f} MiB"
    )


def isolation() -> str:
    """Who `up` runs its jobs as and whether it confines them, from the environment it inherits
    (the two settings that change the cost per run most; README, Performance)."""
    confine = os.environ.get("HYDRA_CONFINE", "auto")
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return f"not root: jobs run as this user; HYDRA_CONFINE={confine}"
    run_as = os.environ.get("HYDRA_RUN_AS") or "hydra-job, else nobody (the default)"
    return f"root: jobs run as {run_as}; HYDRA_CONFINE={confine}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1, help="measure each hydra mode K times")
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; runs={args.runs}; concurrency={args.concurrency}")
    print(f"up: {isolation()}")
    raw = asyncio.run(raw_spawn_rate(args.runs, args.concurrency))
    print(f"{'raw asyncio spawn of /bin/true':38s}{raw:8.0f} /s")
    # A shell job runs its script with /bin/sh -c, so this is the ceiling for a `true` shell job.
    sh = asyncio.run(raw_spawn_rate(args.runs, args.concurrency, ("/bin/sh", "-c", "true")))
    print(f"{'raw asyncio spawn of /bin/sh -c true':38s}{sh:8.0f} /s")
    for label, batch in (("one request per run", False), ("batches of 500", True)):
        measure = functools.partial(bench_hydra, args.runs, args.concurrency, batch)
        result = median_of(measure, args.repeat)
        report(f"hydra-jobs up, {label}", result, raw)
    if args.no_peer:
        return
    rq_rate = bench_rq(args.runs, args.concurrency)
    if rq_rate is None:
        print("rq: skipped (needs the rq package and redis-server)")
    else:
        label = f"rq, {args.concurrency} burst workers"
        print(f"{label:38s}{rq_rate:8.0f} runs/s ({rq_rate / raw:.0%} of raw)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
