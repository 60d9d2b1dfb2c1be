"""Distributed mode as real processes: `hydra-jobs scheduler` and `hydra-jobs worker` on Redis.

Timings are shortened (2 s leases) so faults resolve in seconds; the product defaults are 10 s.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

from hydra_jobs.client import Client
from tests.conftest import ADMIN, TERMINAL, free_port, wait_for
from tests.procs import HYDRA, cli_env
from tests.redis_server import RedisServer

FAST = {
    "HYDRA_LEASE_SECONDS": "2",
    "HYDRA_HEARTBEAT_SECONDS": "0.4",
    "HYDRA_LEADER_LEASE_SECONDS": "2",
    "HYDRA_CONTROL_POLL_SECONDS": "1",
    "HYDRA_KILL_GRACE_SECONDS": "1",
    "HYDRA_DRAIN_GRACE_SECONDS": "2",
    "LOG_LEVEL": "INFO",
}


class Proc:
    """A child process in its own session with its output in a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv = argv
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def kill9(self) -> None:
        if self.alive():
            self.signal(signal.SIGKILL)
            assert self.proc is not None
            self.proc.wait(10)

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        with _suppress_lookup():
            os.kill(self.proc.pid, signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class _suppress_lookup:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, *_: object) -> bool:
        return kind is ProcessLookupError


class SchedulerProcess(Proc):
    def __init__(self, cluster: Cluster, index: int, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        base = {
            "ADMIN_TOKEN": ADMIN,
            "REDIS_URL": cluster.redis_url,
            "DATABASE_URL": cluster.database_url,
            "HYDRA_DATA_DIR": str(cluster.root / f"sched{index}"),
        }
        full = cli_env(**{**base, **FAST, **cluster.env, **env})
        argv = [HYDRA, "scheduler", "--port", str(self.port)]
        super().__init__(argv, full, cluster.root / f"scheduler{index}.log")

    def start(self) -> SchedulerProcess:
        self.spawn()
        wait_for(self._ready, 30, 0.05, message=f"scheduler on {self.port}")
        return self

    def _ready(self) -> bool:
        if not self.alive():
            raise AssertionError(f"scheduler exited: {self.output()}")
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self) -> dict[str, float]:
        text = httpx.get(self.url + "/metrics", timeout=5).text
        values: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.partition(" ")
                values[name] = float(value)
        return values

    def is_leader(self) -> bool:
        try:
            return bool(httpx.get(self.url + "/readyz", timeout=2).json().get("leader"))
        except (httpx.HTTPError, ValueError):
            return False


class WorkerProcess(Proc):
    def __init__(self, cluster: Cluster, name: str, concurrency: int = 4, **env: str) -> None:
        self.name = name
        domain = env.get("WORKER_DOMAIN", "default")
        base = {"REDIS_URL": cluster.redis_url, "WORKER_DOMAIN": domain}
        if "API_TOKEN" not in env:
            base["API_TOKEN"] = cluster.token(domain)
        full = cli_env(**{**base, **FAST, **cluster.env, **env})
        argv = [HYDRA, "worker", "--name", name, "--concurrency", str(concurrency)]
        super().__init__(argv, full, cluster.root / f"worker-{name}.log")
        self.cluster = cluster

    def start(self, wait: bool = True) -> WorkerProcess:
        self.spawn()
        if wait:
            wait_for(self.registered, 30, 0.05, message=f"worker {self.name} registered")
        return self

    def worker_ids(self) -> list[str]:
        members = self.cluster.redis().smembers("hydra:workers")
        return sorted(m.decode() for m in members if m.decode().startswith(self.name + "-"))

    def registered(self) -> bool:
        if not self.alive():
            raise AssertionError(f"worker exited: {self.output()}")
        return bool(self.worker_ids())


class Cluster:
    """Redis, a shared store (SQLite unless `database_url` names one), schedulers and workers."""

    def __init__(
        self,
        root: Path,
        redis_server: RedisServer | None = None,
        *,
        database_url: str | None = None,
        **env: str,
    ) -> None:
        self.root = root
        self.redis_server = redis_server or RedisServer(root / "redis").start()
        self.redis_url = self.redis_server.url
        self.database_url = database_url or f"sqlite+aiosqlite:///{root / 'hydra.db'}"
        self.env = env
        self.schedulers: list[SchedulerProcess] = []
        self.workers: list[WorkerProcess] = []
        self._redis: redis.Redis | None = None
        self._tokens: dict[str, str] = {}

    def token(self, domain: str = "default") -> str:
        """A token of `domain` for workers (created, with the domain, through a scheduler)."""
        if domain not in self._tokens:
            with self.client() as admin:
                if domain not in {d["name"] for d in admin.list_domains()}:
                    admin.create_domain(domain)
                self._tokens[domain] = admin.create_token(domain, "workers", "operator")["token"]
        return self._tokens[domain]

    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=5)
        return self._redis

    def scheduler(self, **env: str) -> SchedulerProcess:
        proc = SchedulerProcess(self, len(self.schedulers), **env)
        self.schedulers.append(proc)  # before it starts: a start that fails is still cleaned up
        return proc.start()

    def worker(self, name: str | None = None, concurrency: int = 4, **env: str) -> WorkerProcess:
        name = name or f"w{len(self.workers)}"
        proc = WorkerProcess(self, name, concurrency, **env)
        self.workers.append(proc)  # before it starts: a start that fails is still cleaned up
        return proc.start()

    def client(self, index: int = 0) -> Client:
        return Client(self.schedulers[index].url, ADMIN)

    def leader(self, timeout: float = 15) -> SchedulerProcess:
        return wait_for(
            lambda: next((s for s in self.schedulers if s.alive() and s.is_leader()), None),
            timeout,
            0.05,
            message="a leader",
        )

    def close(self) -> None:
        for proc in [*self.workers, *self.schedulers]:
            proc.stop()
        if self._redis is not None:
            self._redis.close()
        self.redis_server.stop()


def all_runs(client: Client, job_id: str | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.list_runs(job_id=job_id, limit=500, cursor=cursor)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def settled(client: Client, job_id: str, expect: int) -> list[dict[str, Any]] | None:
    """Every run of the job terminal and no retry still owed (the chain count is `expect`)."""
    runs = all_runs(client, job_id)
    if any(r["status"] not in TERMINAL for r in runs):
        return None
    roots = [r for r in runs if r["retry_of"] is None]
    return runs if len(roots) >= expect else None


def chain_outcomes(runs: list[dict[str, Any]]) -> dict[str, str]:
    """Root run id -> the status of the last attempt in its retry chain."""
    by_id = {r["id"]: r for r in runs}
    child = {r["retry_of"]: r for r in runs if r["retry_of"]}
    out: dict[str, str] = {}
    for run in runs:
        if run["retry_of"] is None:
            last = run
            while last["id"] in child:
                last = child[last["id"]]
            out[run["id"]] = by_id[last["id"]]["status"]
    return out


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead; it only waits for its parent
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def random_kills(
    procs: list[WorkerProcess], rng: random.Random, every: float, until: float
) -> Iterator[WorkerProcess]:
    """Yield a freshly killed (kill -9) worker every `every` seconds until `until`."""
    while time.monotonic() < until:
        time.sleep(every)
        victim = rng.choice([p for p in procs if p.alive()])
        victim.kill9()
        yield victim
