"""Throw-away databases for tests: PostgreSQL on the local server, MongoDB when one is named.

PostgreSQL: a test session creates one migrated template database, and every test that wants a
store gets its own clone of it (`CREATE DATABASE ... TEMPLATE`, about 0.1 s), so no test ever sees
another's rows and no test pays for migrations. Everything created is dropped at the end of the
session. MongoDB: a fresh database name per test on the server `HYDRA_TEST_MONGO_URL` names.

A missing PostgreSQL server skips locally with the reason, and fails under `CI=true`.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

PG_ADMIN_URL = os.environ.get(
    "HYDRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
).replace("postgresql+asyncpg://", "postgresql://")
MONGO_URL = os.environ.get("HYDRA_TEST_MONGO_URL") or None
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CONNECT_TIMEOUT_SECONDS = 5.0


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, whether or not a loop runs in this thread."""
    box: dict[str, T] = {}
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box["value"] = asyncio.run(_call(make))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="test-db-admin")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return box["value"]


async def _call(make: Callable[[], Awaitable[T]]) -> T:
    return await make()


def unavailable(what: str, reason: str) -> None:
    """Skip (locally) or fail (under CI=true) a test that needs a server that is not there."""
    message = f"{what} is not reachable ({reason})"
    if IN_CI:
        pytest.fail(f"{message}; CI must run against it", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {message}; start it to run these tests")


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    hosts = rest.split("/", 1)[0]
    return f"{scheme}://{hosts}/{name}" + (f"?{query}" if query else "")


class PgDatabases:
    """Per-test clones of one migrated template database on the local PostgreSQL server."""

    def __init__(self, admin_url: str = PG_ADMIN_URL) -> None:
        self.admin_url = admin_url
        self.prefix = f"hydra_test_{secrets.token_hex(4)}"
        self.created: list[str] = []
        self._template: str | None = None
        self._error: str | None = None
        self._lock = threading.Lock()

    def url_of(self, name: str) -> str:
        return _with_database(self.admin_url, name).replace(
            "postgresql://", "postgresql+asyncpg://", 1
        )

    async def _admin(self, *statements: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_url, timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def _make_template(self) -> str:
        from hydra_jobs.store.sql.store import SqlStore

        name = f"{self.prefix}_tpl"
        await self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        store = SqlStore(self.url_of(name))
        await store.open()
        await store.close()
        return name

    def template(self) -> str:
        """The migrated template (made once, on first use); skips or fails if PG is down."""
        with self._lock:
            if self._template is None and self._error is None:
                try:
                    self._template = run_sync(self._make_template)
                except (OSError, ImportError) as exc:
                    self._error = f"{type(exc).__name__}: {exc}"
            if self._error is not None:
                unavailable(f"PostgreSQL at {self.admin_url}", self._error)
            assert self._template is not None
            return self._template

    async def clone(self) -> str:
        """A fresh, migrated database; returns its SQLAlchemy URL."""
        template = self.template()
        name = f"{self.prefix}_{len(self.created)}"
        self.created.append(name)
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url_of(name)

    async def empty(self) -> str:
        """A fresh database with no tables at all (for migration tests)."""
        self.template()
        name = f"{self.prefix}_{len(self.created)}"
        self.created.append(name)
        await self._admin(f'CREATE DATABASE "{name}"')
        return self.url_of(name)

    def clone_sync(self) -> str:
        self.template()  # outside the worker thread, so a skip or fail reaches pytest
        return run_sync(self.clone)

    def drop_all(self) -> None:
        if not self.created:
            return
        drops = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in reversed(self.created)]
        self.created = []
        run_sync(lambda: self._admin(*drops))


class MongoDatabases:
    """Fresh database names on the MongoDB server named by HYDRA_TEST_MONGO_URL."""

    def __init__(self, url: str | None = MONGO_URL) -> None:
        self.url = url
        self.prefix = f"hydra_test_{secrets.token_hex(4)}"
        self.created: list[str] = []

    def new_url(self) -> str:
        if self.url is None:
            pytest.skip("MongoDB tests need HYDRA_TEST_MONGO_URL (no MongoDB server is set)")
        name = f"{self.prefix}_{len(self.created)}"
        self.created.append(name)
        return _with_database(self.url, name)

    async def drop(self, url: str) -> None:
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
        try:
            await client.drop_database(client.get_default_database().name)
        finally:
            await client.close()

    def drop_all(self) -> None:
        for name in self.created:
            assert self.url is not None
            url = _with_database(self.url, name)
            run_sync(functools.partial(self.drop, url))
        self.created = []
