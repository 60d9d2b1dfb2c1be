"""The store fixtures: every contract test runs once per store (SQLite, PostgreSQL, MongoDB).

Each test gets an empty, freshly migrated database. `twin` opens a second store on the same
database, like a second scheduler replica, for the tests about races between processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hydra_jobs.store import open_store
from hydra_jobs.store.base import Store
from tests.contract.backends import MongoDatabases, PgDatabases

STORE_KINDS = ("sqlite", "postgres", "mongo")


@pytest.fixture(params=STORE_KINDS)
async def store_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pg_databases: PgDatabases,
    mongo_databases: MongoDatabases,
) -> AsyncIterator[str]:
    kind = request.param
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hydra.db'}"
    elif kind == "postgres":
        yield await pg_databases.clone()
    else:
        url = mongo_databases.new_url()
        yield url
        await mongo_databases.drop(url)


@pytest.fixture
async def open_twin(store_url: str) -> AsyncIterator[Callable[[], Awaitable[Store]]]:
    opened: list[Store] = []

    async def make() -> Store:
        store = open_store(store_url)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in reversed(opened):
        await store.close()


@pytest.fixture
async def store(open_twin: Callable[[], Awaitable[Store]]) -> Store:
    return await open_twin()


@pytest.fixture
async def twin(store: Store, open_twin: Callable[[], Awaitable[Store]]) -> Store:
    """A second store on the same database (opened after `store`, so migrations are done)."""
    return await open_twin()
