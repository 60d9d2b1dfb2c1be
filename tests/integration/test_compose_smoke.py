"""The Compose files, run without Docker: each service's command with that service's environment
(as the files and the Dockerfile's ENV give it) as a real process here, so the variables and
commands in the files are proven to be the ones the product reads.

What differs from a container, and only that: service host names become 127.0.0.1 and a free port
(`redis` is a real redis-server started from the redis service's own command; `postgres` is a
fresh database on the local PostgreSQL server, in place of the postgres service, and so also of
MongoDB: the stack runs with docker-compose.postgres.yml, as MongoDB cannot run here); the
container's port 8000 is a free port on 127.0.0.1; /data is a directory of the test's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from hydra_jobs.client import Client
from tests import compose
from tests.cluster import Proc
from tests.conftest import ADMIN, TERMINAL, free_port, wait_for
from tests.contract.backends import PgDatabases, run_sync
from tests.redis_server import require_redis

pytestmark = [pytest.mark.deploy, pytest.mark.postgres]

STACK = ["docker-compose.yml", "docker-compose.postgres.yml"]
VENV_BIN = str(Path(sys.executable).parent)


@dataclass
class Stack:
    root: Path
    addresses: dict[str, str] = field(default_factory=dict)  # service -> URL or host:port
    procs: list[Proc] = field(default_factory=list)
    url: str = ""

    def service_env(self, service: dict[str, Any], target: str, name: str) -> dict[str, str]:
        """The process environment of `service`: the image's ENV, then the service's, mapped."""
        image = {k: v for k, v in compose.dockerfile_env(target).items() if k != "PATH"}
        env = {**image, **compose.environment(service)}
        data = self.root / name / "data"
        data.mkdir(parents=True, exist_ok=True)
        assert env["HYDRA_DATA_DIR"] == "/data"
        env["HYDRA_DATA_DIR"] = str(data)
        mapped = {k: self.map_url(v) for k, v in env.items()}
        home = self.root / name / "home"
        home.mkdir(parents=True, exist_ok=True)
        # The container's PATH starts with the venv (/opt/hydra/bin): here, this test's venv.
        base = {
            "PATH": f"{VENV_BIN}{os.pathsep}/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
        }
        return {**base, **mapped}

    def map_url(self, value: str) -> str:
        """A URL naming a service by its host name -> the same service here."""
        if "://" not in value:
            return value
        parts = urlsplit(value)
        if parts.hostname not in self.addresses:
            return value
        target = self.addresses[parts.hostname]
        if "://" in target:  # the whole URL is replaced (a fresh local database)
            assert parts.scheme.startswith("postgres")
            return target
        return urlunsplit(parts._replace(netloc=target))

    def start(self, argv: list[str], env: dict[str, str], name: str) -> Proc:
        proc = Proc(argv, env, self.root / f"{name}.log")
        self.procs.append(proc)
        proc.spawn()
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


def _run_ok(argv: list[str], env: dict[str, str]) -> bool:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10)
    return done.returncode == 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """docker-compose.yml + docker-compose.postgres.yml: redis, postgres, scheduler, worker."""
    redis_server = require_redis()
    root = tmp_path_factory.mktemp("compose")
    project = compose.load(STACK, {"ADMIN_TOKEN": ADMIN, "POSTGRES_PASSWORD": "smoke-test-pw"})
    services = project["services"]
    assert compose.enabled_services(project) == {"redis", "postgres", "scheduler", "worker"}
    pg = PgDatabases()
    st = Stack(root)
    try:
        # redis: the service's own command (AOF on), on a free port in a directory of ours.
        redis_port = free_port()
        argv = compose.command(services["redis"])
        assert argv[0] == "redis-server"
        extra = ["--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(root)]
        st.start([redis_server, *argv[1:], *extra], {"PATH": "/usr/bin:/bin"}, "redis")
        check = compose.healthcheck(services["redis"])
        probe = [shutil.which(check[0]) or check[0], "-p", str(redis_port), *check[1:]]
        wait_for(lambda: _run_ok(probe, {}), 15, 0.05, message="the redis healthcheck")
        aof = subprocess.run(
            [probe[0], "-p", str(redis_port), "config", "get", "appendonly"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert aof.stdout.split() == ["appendonly", "yes"], aof
        st.addresses["redis"] = f"127.0.0.1:{redis_port}"
        # postgres: a fresh, empty database on the local server (the scheduler migrates it).
        st.addresses["postgres"] = run_sync(pg.empty).replace(
            "postgresql+asyncpg://", "postgresql://", 1
        )

        scheduler = services["scheduler"]
        env = st.service_env(scheduler, scheduler["build"]["target"], "scheduler")
        assert env["HYDRA_HOST"] == "0.0.0.0" and env["HYDRA_PORT"] == "8000"
        port = free_port()  # the published 8000, on loopback only here
        env.update(HYDRA_HOST="127.0.0.1", HYDRA_PORT=str(port))
        proc = st.start(compose.command(scheduler), env, "scheduler")
        check = compose.healthcheck(scheduler)

        def healthy() -> bool:
            if not proc.alive():
                raise AssertionError(f"scheduler exited:\n{proc.output()}")
            return _run_ok(check, env)

        wait_for(healthy, 60, 0.1, message="the scheduler's healthcheck")
        st.url = f"http://127.0.0.1:{port}"
        yield st
    finally:
        st.close()
        pg.drop_all()


def test_compose_stack_runs_a_job_on_its_worker(stack: Stack) -> None:
    project = compose.load(STACK, {"ADMIN_TOKEN": ADMIN, "POSTGRES_PASSWORD": "smoke-test-pw"})
    worker = project["services"]["worker"]
    env = stack.service_env(worker, worker["build"]["target"], "worker")
    proc = stack.start(compose.command(worker), env, "worker")
    with Client(stack.url, ADMIN) as admin:
        wait_for(_alive_then([proc], admin.workers), 30, 0.1, message="the worker to register")
        job = admin.create_job(
            {"name": "compose-smoke", "executor": {"type": "shell", "script": "echo via-compose"}}
        )
        run = _run_to_end(admin, job["id"])
        assert run["status"] == "succeeded", run
        assert run["worker_id"] in {w["id"] for w in admin.workers()}
        assert "via-compose" in admin.full_log(run["id"])
    assert _rows_in_postgres(stack.addresses["postgres"], job["id"]) == 1


def test_worker_file_scales_and_ignores_mongo_url(stack: Stack) -> None:
    """docker-compose.worker.yml, two replicas (--scale worker=2), for a domain of their own."""
    with Client(stack.url, ADMIN) as admin:
        admin.create_domain("remote")
        token = admin.create_token("remote", "worker-host", "operator")["token"]
    variables = {
        "API_TOKEN": token,
        "WORKER_DOMAIN": "remote",
        "REDIS_URL": f"redis://{stack.addresses['redis']}/0",
        "MONGO_URL": "mongodb://mongo:27017/hydra",  # a .env shared with the schedulers
    }
    project = compose.load(["docker-compose.worker.yml"], variables)
    assert compose.enabled_services(project) == {"worker"}
    worker = project["services"]["worker"]
    assert "ADMIN_TOKEN" not in compose.environment(worker)
    procs = [
        stack.start(
            compose.command(worker),
            stack.service_env(worker, worker["build"]["target"], f"remote-{i}"),
            f"remote-{i}",
        )
        for i in range(2)
    ]
    with Client(stack.url, ADMIN, domain="remote") as remote:

        def replicas() -> list[dict[str, Any]] | None:
            found = remote.workers()
            return found if len(found) >= 2 else None

        workers = wait_for(_alive_then(procs, replicas), 30, 0.1, message="both replicas")
        assert len({w["id"] for w in workers}) == 2
        job = remote.create_job(
            {"name": "remote-smoke", "executor": {"type": "shell", "script": "echo remote-ok"}}
        )
        runs = [_run_to_end(remote, job["id"]) for _ in range(3)]
        assert all(r["status"] == "succeeded" for r in runs), runs
        assert {r["worker_id"] for r in runs} <= {w["id"] for w in workers}
    for proc in procs:
        assert "MONGO_URL is set and ignored" in proc.output(), proc.output()


def test_compose_files_refuse_to_start_without_their_secrets() -> None:
    with pytest.raises(compose.MissingVariable, match="ADMIN_TOKEN"):
        compose.load(["docker-compose.yml"], {})
    with pytest.raises(compose.MissingVariable, match="POSTGRES_PASSWORD"):
        compose.load(STACK, {"ADMIN_TOKEN": ADMIN})
    with pytest.raises(compose.MissingVariable, match="API_TOKEN"):
        compose.load(["docker-compose.worker.yml"], {"REDIS_URL": "redis://r:6379/0"})
    with pytest.raises(compose.MissingVariable, match="REDIS_URL"):
        compose.load(["docker-compose.worker.yml"], {"API_TOKEN": "hjt_x"})


def _alive_then(procs: list[Proc], fetch: Callable[[], Any]) -> Callable[[], Any]:
    """A predicate for wait_for: fail at once if one of `procs` died, else what `fetch` returns."""

    def check() -> Any:
        for proc in procs:
            if not proc.alive():
                raise AssertionError(f"{proc.argv} exited:\n{proc.output()}")
        return fetch()

    return check


def _run_to_end(client: Client, job_id: str) -> dict[str, Any]:
    run = client.trigger(job_id)
    done: dict[str, Any] = wait_for(
        lambda: (r := client.get_run(run["id"]))["status"] in TERMINAL and r,
        30,
        0.05,
        message=f"run {run['id']} to end",
    )
    return done


def _rows_in_postgres(url: str, job_id: str) -> int:
    async def count() -> int:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM runs WHERE job_id = $1", job_id))
        finally:
            await conn.close()

    return run_sync(count)


def test_healthcheck_fails_when_the_scheduler_is_down(tmp_path: Path) -> None:
    """The scheduler's healthcheck is a real check: it fails with nothing listening."""
    project = compose.load(STACK, {"ADMIN_TOKEN": ADMIN, "POSTGRES_PASSWORD": "x"})
    check = compose.healthcheck(project["services"]["scheduler"])
    env = {"PATH": f"{VENV_BIN}{os.pathsep}/usr/bin:/bin", "HYDRA_PORT": str(free_port())}
    assert not _run_ok(check, env)  # with a live scheduler's port it passes: see `stack`
