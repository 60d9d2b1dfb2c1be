"""Shared fixtures: a real scheduler (uvicorn on a free port, SQLite in a temp dir, its worker).

`HYDRA_TEST_STORE=postgres` (or `mongo`, with `HYDRA_TEST_MONGO_URL`) puts every `make_server` on a
fresh database of that store instead of SQLite, so the whole API suite runs on it.
`HYDRA_TEST_BROKER=redis` likewise puts every `make_server` on a real redis-server (one per test
session, flushed before each test that makes servers) instead of the in-process broker.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hydra_jobs import status
from hydra_jobs.cli.embedded import create_embedded_app
from hydra_jobs.client import Client
from hydra_jobs.config import Settings
from hydra_jobs.scheduler.api.serving import StreamEndingServer
from tests.contract.backends import MongoDatabases, PgDatabases
from tests.redis_server import RedisServer

# The suite runs as root here, and a root worker runs jobs as nobody unless told otherwise
# (HYDRA_RUN_AS): most tests' jobs write into pytest's root-only tmp_path, so they run as root,
# which the operator may allow explicitly. tests/integration/test_run_as.py tests the default.
os.environ.setdefault("HYDRA_RUN_AS", "root")

ADMIN = "test-admin-token-" + "x" * 32
TERMINAL = frozenset(s.value for s in status.TERMINAL)  # as the API returns them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 10.0,
    interval: float = 0.02,
    message: str = "condition",
) -> Any:
    """Poll `predicate` until it returns something truthy; fail with `message` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@dataclass
class Server:
    url: str
    client: Client
    app: Any
    data_dir: Path

    def wait_run(
        self, run_id: str, timeout: float = 15.0, statuses: Collection[str] = TERMINAL
    ) -> dict[str, Any]:
        return dict(
            wait_for(
                lambda: (r := self.client.get_run(run_id))["status"] in statuses and r,
                timeout,
                message=f"run {run_id} to reach {statuses}",
            )
        )

    def job(self, name: str, script: str, **spec: Any) -> dict[str, Any]:
        body = {"name": name, "executor": {"type": spec.pop("type", "shell"), "script": script}}
        body.update(spec)
        return self.client.create_job(body)


TEST_STORE = os.environ.get("HYDRA_TEST_STORE", "sqlite")
TEST_BROKER = os.environ.get("HYDRA_TEST_BROKER", "memory")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session (tests that restart Redis start their own)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    databases = PgDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def mongo_databases() -> Iterator[MongoDatabases]:
    databases = MongoDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture
def store_settings(request: pytest.FixtureRequest) -> Callable[[], dict[str, Any]]:
    """Settings that put a new server on a fresh database of the store HYDRA_TEST_STORE names."""

    def make() -> dict[str, Any]:
        if TEST_STORE == "postgres":
            pg: PgDatabases = request.getfixturevalue("pg_databases")
            return {"DATABASE_URL": pg.clone_sync()}
        if TEST_STORE == "mongo":
            mongo: MongoDatabases = request.getfixturevalue("mongo_databases")
            return {"MONGO_URL": mongo.new_url()}
        assert TEST_STORE == "sqlite", f"unknown HYDRA_TEST_STORE={TEST_STORE!r}"
        return {}

    return make


@pytest.fixture
def make_server(
    tmp_path: Path, store_settings: Callable[[], dict[str, Any]], request: pytest.FixtureRequest
) -> Iterator[Callable[..., Server]]:
    servers: list[tuple[uvicorn.Server, threading.Thread, Client]] = []
    redis_url = None
    if TEST_BROKER == "redis":
        shared: RedisServer = request.getfixturevalue("redis_server")
        shared.flush()
        redis_url = shared.url

    def start(**overrides: Any) -> Server:
        data_dir = tmp_path / f"data{len(servers)}"
        # Backends come from the test, never from the developer's environment.
        fixed: dict[str, Any] = {"MONGO_URL": None, "DATABASE_URL": None, "REDIS_URL": redis_url}
        fixed.update(store_settings())
        base: dict[str, Any] = {
            "ADMIN_TOKEN": ADMIN,
            "HYDRA_DATA_DIR": data_dir,
            "HYDRA_KILL_GRACE_SECONDS": 1.0,
            "HYDRA_DRAIN_GRACE_SECONDS": 0.5,
        }
        settings = Settings(**{**base, **fixed, **overrides})
        app = create_embedded_app(settings)  # what `up` serves: the app and its worker
        port = free_port()
        # The server `up` runs: a stop ends the open live streams at once.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        server = StreamEndingServer(config, app)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_for(lambda: server.started, 15.0, message="server start")
        url = f"http://127.0.0.1:{port}"
        client = Client(url, ADMIN)
        servers.append((server, thread, client))
        return Server(url, client, app, data_dir)

    yield start
    for server, thread, client in servers:
        client.close()
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    return make_server()
