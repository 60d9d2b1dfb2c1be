"""Distributed mode numbers: one `hydra-jobs scheduler` and N `hydra-jobs worker`s on Redis.

    .venv/bin/python bench/distributed.py [--runs 2000] [--concurrency 8] [--workers 1,2]

Prints, on this machine:
  1. raw: /bin/true spawned from asyncio, `concurrency` x workers at a time (the ceiling);
  2. throughput of N trivial shell runs (`true`), triggered through the API (HTTP trigger and
     batch trigger), with 1 and 2 worker processes: first submit to last run stored succeeded;
  3. trigger-to-start p50/p99 (created_at -> started_at) at a steady 50 runs/s;
  4. time from a worker's kill -9 to its run being declared lost and to its retry running, with the
     default 10 s lease and with a 2 s lease;
  5. idle RSS of a worker process (and of its guard helper).
Uses a private redis-server (no persistence) and a SQLite store in a temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from throughput import (
    TOKEN,
    fetch_runs,
    free_port,
    raw_spawn_rate,
    submit_all,
    submit_batches,
    wait_http,
)

HYDRA = str(Path(sys.executable).parent / "hydra-jobs")


class Stack:
    """redis-server + one scheduler + workers, all real processes."""

    def __init__(self, lease: float = 10.0, heartbeat: float = 2.0) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hydra-dist-bench-"))
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self._token: str | None = None
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MONGO_URL")},
            "REDIS_URL": self.redis_url,
            "LOG_LEVEL": "WARNING",
            "HYDRA_LEASE_SECONDS": str(lease),
            "HYDRA_HEARTBEAT_SECONDS": str(heartbeat),
            "HYDRA_DATA_DIR": str(self.dir / "data"),
            "HYDRA_MAX_RUNS_PER_MINUTE": "0",  # measuring throughput is the point
        }

    def _spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def start(self) -> Stack:
        redis = shutil.which("redis-server")
        if redis is None:
            raise SystemExit("redis-server is not installed")
        self._spawn(
            [redis, "--port", str(self.redis_port), "--save", "", "--appendonly", "no"], self.env
        )
        time.sleep(0.3)
        self._spawn(
            [HYDRA, "scheduler", "--port", str(self.port)], {**self.env, "ADMIN_TOKEN": TOKEN}
        )
        wait_http(self.url + "/readyz")
        return self

    def worker_token(self) -> str:
        """A domain token for the workers, created once through the scheduler's API."""
        if self._token is None:
            with self.client() as client:
                created = client.post(
                    "/api/v1/domains/default/tokens", json={"name": "bench", "role": "operator"}
                )
                created.raise_for_status()
                self._token = str(created.json()["token"])
        return self._token

    def worker(self, concurrency: int) -> subprocess.Popen[bytes]:
        env = {**self.env, "API_TOKEN": self.worker_token()}
        proc = self._spawn([HYDRA, "worker", "--concurrency", str(concurrency)], env)
        self.workers.append(proc)
        client = self.client()
        deadline = time.monotonic() + 30
        while len(
            [w for w in client.get("/api/v1/workers").json()["items"] if w["status"] == "online"]
        ) < len(self.workers):
            if time.monotonic() > deadline:
                raise SystemExit("worker did not register")
            time.sleep(0.05)
        return proc

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def make_job(client: httpx.Client, name: str, script: str, **spec: Any) -> str:
    body = {"name": name, "executor": {"type": "shell", "script": script}, **spec}
    response = client.post("/api/v1/jobs", json=body)
    response.raise_for_status()
    return str(response.json()["id"])


def succeeded(client: httpx.Client, job_id: str) -> int:
    runs = fetch_runs(client, job_id)
    return sum(1 for r in runs if r["status"] == "succeeded")


def latencies_ms(runs: list[dict[str, object]]) -> list[float]:
    return sorted(
        (
            datetime.fromisoformat(str(r["started_at"]))
            - datetime.fromisoformat(str(r["created_at"]))
        ).total_seconds()
        * 1000
        for r in runs
        if r["started_at"]
    )


def throughput(n: int, workers: int, concurrency: int, batch: bool) -> dict[str, float]:
    stack = Stack().start()
    try:
        for _ in range(workers):
            stack.worker(concurrency)
        client = stack.client()
        job_id = make_job(client, f"bench-{workers}", "true")
        submit = submit_batches if batch else submit_all
        start = asyncio.run(submit(stack.url, job_id, n))
        submitted = time.perf_counter()
        while (
            done := client.get("/api/v1/stats", params={"hours": 1})
            .json()["counts"]
            .get("succeeded", 0)
        ) < n:
            if time.perf_counter() - start > 600:
                raise SystemExit(f"only {done}/{n} finished in 10 minutes")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        lat = latencies_ms(fetch_runs(client, job_id))
        return {
            "rate": n / elapsed,
            "submit_rate": n / (submitted - start),
            "p50_ms": statistics.median(lat),
            "p99_ms": lat[int(len(lat) * 0.99) - 1],
        }
    finally:
        stack.stop()


def steady_latency(rate: float, seconds: float, concurrency: int) -> tuple[float, float, int]:
    stack = Stack().start()
    try:
        stack.worker(concurrency)
        client = stack.client()
        job_id = make_job(client, "steady", "true")
        n = int(rate * seconds)
        t0 = time.perf_counter()
        for i in range(n):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            client.post(f"/api/v1/jobs/{job_id}/run", json={}).raise_for_status()
        deadline = time.monotonic() + 60
        while succeeded(client, job_id) < n and time.monotonic() < deadline:
            time.sleep(0.1)
        lat = latencies_ms(fetch_runs(client, job_id))
        return statistics.median(lat), lat[int(len(lat) * 0.99) - 1], len(lat)
    finally:
        stack.stop()


def kill_to_retry(lease: float, heartbeat: float) -> tuple[float, float]:
    """Seconds from kill -9 of the worker running a run to (lost, retry running)."""
    stack = Stack(lease=lease, heartbeat=heartbeat).start()
    try:
        first = stack.worker(2)
        client = stack.client()
        script = 'if [ "$HYDRA_ATTEMPT" = 1 ]; then sleep 300; fi; sleep 5'
        job_id = make_job(
            client, "victim", script, retries={"max_attempts": 2, "backoff_seconds": 0}
        )
        run_id = client.post(f"/api/v1/jobs/{job_id}/run", json={}).json()["id"]
        while client.get(f"/api/v1/runs/{run_id}").json()["status"] != "running":
            time.sleep(0.02)
        stack.worker(2)
        killed = time.monotonic()
        first.kill()
        lost_at = retry_at = None
        while retry_at is None and time.monotonic() - killed < 120:
            runs = fetch_runs(client, job_id)
            if lost_at is None and any(r["status"] == "lost" for r in runs):
                lost_at = time.monotonic() - killed
            if any(r["attempt"] == 2 and r["status"] == "running" for r in runs):
                retry_at = time.monotonic() - killed
            time.sleep(0.02)
        return lost_at or float("nan"), retry_at or float("nan")
    finally:
        stack.stop()


def idle_worker_rss() -> tuple[float, float]:
    stack = Stack().start()
    try:
        worker = stack.worker(8)
        time.sleep(5)
        rss = psutil.Process(worker.pid).memory_info().rss / 2**20
        guards = [
            p
            for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"]
            and "-S" in p.info["cmdline"]
            and "HYDRA_WORKER_ID" in " ".join(p.info["cmdline"])
        ]
        guard = guards[0].memory_info().rss / 2**20 if guards else float("nan")
        return rss, guard
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    print(
        f"machine: {os.cpu_count()} cores; runs={args.runs}; concurrency={args.concurrency}/worker"
    )
    for w in counts:
        raw = asyncio.run(raw_spawn_rate(args.runs, args.concurrency * w))
        print(f"raw /bin/true spawn, {args.concurrency * w} at a time        {raw:8.0f} /s")
        for batch in (False, True):
            result = throughput(args.runs, w, args.concurrency, batch)
            how = "batch trigger" if batch else "HTTP trigger "
            print(
                f"distributed, {w} worker(s), {how}        {result['rate']:8.0f} runs/s "
                f"({result['rate'] / raw:.0%} of raw; API accepted {result['submit_rate']:.0f}/s; "
                f"trigger->start p50 {result['p50_ms']:.0f} ms p99 {result['p99_ms']:.0f} ms)"
            )
    p50, p99, n = steady_latency(50, 10, args.concurrency)
    print(f"trigger -> start at 50 runs/s ({n} runs)      p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    for lease, beat in ((10.0, 2.0), (2.0, 0.4)):
        lost, retry = kill_to_retry(lease, beat)
        print(f"kill -9 -> lost / retry running (lease {lease:g}s)   {lost:.2f} s / {retry:.2f} s")
    rss, guard = idle_worker_rss()
    print(f"idle worker RSS                            {rss:.0f} MiB (+ guard {guard:.0f} MiB)")


if __name__ == "__main__":
    main()
