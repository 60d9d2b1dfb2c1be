"""First starts that go wrong say what to do in one line (issue 17): a database that does not
exist, a database server or Redis that is not there, credentials that are refused. Real
`hydra-jobs scheduler` processes against the local PostgreSQL server and a port nobody holds."""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

import pytest

from hydra_jobs.cli.preflight import shown
from tests.conftest import ADMIN, free_port
from tests.contract.backends import PG_ADMIN_URL, PgDatabases
from tests.procs import HYDRA, cli_env
from tests.redis_server import RedisServer


def scheduler(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HYDRA, "scheduler", "--port", str(free_port())],
        env=cli_env(ADMIN_TOKEN=ADMIN, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and 'File "' not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def pg(pg_databases: PgDatabases) -> str:
    pg_databases.template()  # skips (or fails under CI) when PostgreSQL is not there
    parts = urlsplit(PG_ADMIN_URL)
    return f"postgresql://{parts.hostname}:{parts.port or 5432}"


def test_a_database_that_does_not_exist_says_how_to_create_it(pg: str, redis_url: str) -> None:
    line = one_line_error(scheduler(DATABASE_URL=f"{pg}/hydra_no_such_db", REDIS_URL=redis_url))
    assert "the database 'hydra_no_such_db' does not exist" in line
    assert "createdb" in line and "CREATE DATABASE" in line


def test_refused_credentials_name_the_user_and_never_the_password(pg: str, redis_url: str) -> None:
    host = pg.removeprefix("postgresql://")
    url = f"postgresql://no_such_role:pw-very-secret@{host}/postgres"
    line = one_line_error(scheduler(DATABASE_URL=url, REDIS_URL=redis_url))
    assert "refused the user 'no_such_role'" in line and "pw-very-secret" not in line


def test_a_database_server_that_is_not_there(redis_url: str) -> None:
    url = f"postgresql://127.0.0.1:{free_port()}/hydra"
    line = one_line_error(scheduler(DATABASE_URL=url, REDIS_URL=redis_url))
    assert "cannot reach the store" in line and "is the database server running" in line


def test_redis_that_is_not_there_is_named_without_its_password() -> None:
    url = f"redis://:redis-secret@127.0.0.1:{free_port()}/0"
    line = one_line_error(scheduler(REDIS_URL=url))
    assert "cannot reach Redis at redis://127.0.0.1:" in line and "redis-server running" in line
    assert "redis-secret" not in line


def test_urls_are_shown_without_passwords() -> None:
    assert (
        shown("postgresql://u:secret@db:5433/hydra?sslpassword=x") == "postgresql://u@db:5433/hydra"
    )
    assert shown("redis://:secret@r:6379/2") == "redis://r:6379/2"
