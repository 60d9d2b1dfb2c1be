"""The store fixtures: every store contract test runs once per store (SQLite, PostgreSQL,
MongoDB); and the broker fixture: every broker contract test runs once per broker.

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
from tests.contract.brokers import BrokerPair, open_pair
from tests.redis_server import RedisServer

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


BROKER_KINDS = ("memory", "redis")


@pytest.fixture(params=BROKER_KINDS)
async def brokers(request: pytest.FixtureRequest) -> AsyncIterator[BrokerPair]:
    """Every broker contract test runs once per broker: in-process and Redis."""
    url = None
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        url = server.url
    pair = await open_pair(request.param, url)
    yield pair
    await pair.close()
