"""First starts that go wrong say what to do in one line (issue 17): a database that does not
exist, a database server or Redis that is not there, credentials that are refused; and the
database that does not exist is created when asked to (`--create-db`, or a yes on a terminal).
Real `hydra-jobs scheduler` and `up` processes against the local PostgreSQL server and a port
nobody holds."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from hydra_jobs.cli.preflight import maintenance_url, quote_identifier, shown
from hydra_jobs.errors import ConfigError
from tests.conftest import ADMIN, free_port, wait_for
from tests.contract.backends import PG_ADMIN_URL, PgDatabases
from tests.procs import HYDRA, UpProcess, cli_env
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
    assert "createdb" in line and "CREATE DATABASE" in line and "--create-db" in line


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


def test_identifiers_are_quoted_and_the_maintenance_db_keeps_the_server() -> None:
    assert quote_identifier('a"; DROP DATABASE x; --') == '"a""; DROP DATABASE x; --"'
    with pytest.raises(ConfigError):
        quote_identifier("bad\x00name")
    url = "postgresql+asyncpg://u:pw@db:5433/hydra?ssl=require"
    assert maintenance_url(url) == "postgresql://u:pw@db:5433/postgres?ssl=require"


async def _pg(statement: str, *args: str) -> list[object]:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        return list(await conn.fetch(statement, *args))
    finally:
        await conn.close()


def _exists(name: str) -> bool:
    return bool(asyncio.run(_pg("SELECT 1 FROM pg_database WHERE datname = $1", name)))


@pytest.fixture
def new_db(pg: str) -> Iterator[str]:
    """A database name nobody has, with a quote in it (so only a quoted name works), dropped
    after the test."""
    name = f'hydra_new_"q"_{uuid.uuid4().hex[:12]}'
    assert not _exists(name)
    yield name
    asyncio.run(_pg(f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)"))


def test_up_with_create_db_creates_the_database_and_starts(
    pg: str, new_db: str, tmp_path: Path
) -> None:
    url = f"{pg}/{quote(new_db)}"
    up = UpProcess(tmp_path / "data", args=("--create-db",), DATABASE_URL=url)
    try:
        up.start()
        assert _exists(new_db)
        assert httpx.get(up.url + "/readyz", timeout=5).json()["checks"]["store"] == "ok"
    finally:
        up.stop()
    assert f"created the database '{new_db}'" in up.log.read_text()
    # The second start finds it: no flag needed, nothing created.
    again = UpProcess(tmp_path / "data", port=up.port, DATABASE_URL=url)
    try:
        again.start()
    finally:
        again.stop()
    assert up.log.read_text().count("created the database") == 1


def test_a_terminal_is_asked_and_a_yes_creates_it(pg: str, new_db: str, redis_url: str) -> None:
    port = free_port()
    env = cli_env(ADMIN_TOKEN=ADMIN, DATABASE_URL=f"{pg}/{quote(new_db)}", REDIS_URL=redis_url)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [HYDRA, "scheduler", "--port", str(port)],
        env=env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        start_new_session=True,
    )
    os.close(secondary)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"Create it now?" not in seen:
            assert time.monotonic() < deadline and proc.poll() is None, seen.decode()
            ready, _, _ = select.select([primary], [], [], 1)
            if ready:
                seen += os.read(primary, 4096)
        assert b"does not exist" in seen and not _exists(new_db)
        os.write(primary, b"y\n")
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/readyz"), 60, message="the scheduler")
        assert _exists(new_db)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        os.close(primary)


def test_without_a_terminal_nothing_is_created(pg: str, new_db: str, redis_url: str) -> None:
    done = scheduler(DATABASE_URL=f"{pg}/{quote(new_db)}", REDIS_URL=redis_url)
    assert "--create-db" in one_line_error(done)
    assert not _exists(new_db)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
