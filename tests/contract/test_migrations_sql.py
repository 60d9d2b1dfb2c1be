"""The Alembic migrations on both SQL dialects: upgrading a database that holds data, and no drift.

tests/unit/test_migrations.py checks a fresh SQLite file; this also upgrades an 0001 database that
already has jobs (0002 backfills `jobs.retention_days` from the specs), on PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from hydra_jobs.store.sql.store import SqlStore
from hydra_jobs.store.sql.tables import metadata
from tests.contract.backends import PgDatabases
from tests.contract.factories import T0, make_job

OLD_JOBS = sa.table(
    "jobs",
    *(sa.column(c) for c in ("id", "domain", "name", "paused", "has_schedule")),
    sa.column("spec", sa.JSON),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PgDatabases
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        yield await pg_databases.empty()


def _upgrade_to(revision: str) -> Callable[[Connection], None]:
    def upgrade(conn: Connection) -> None:
        config = Config()
        location = str(resources.files("hydra_jobs.store.sql") / "migrations")
        config.set_main_option("script_location", location)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)

    return upgrade


def _insert_old_jobs(conn: Connection, specs: list[dict[str, object]]) -> None:
    naive = T0.replace(tzinfo=None)
    for i, spec in enumerate(specs):
        conn.execute(
            OLD_JOBS.insert().values(
                id=f"{i:032d}",
                domain="default",
                name=str(spec["name"]),
                paused=False,
                has_schedule=False,
                spec=spec,
                created_at=naive,
                updated_at=naive,
            )
        )


def _drift(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_upgrading_an_0001_database_keeps_and_backfills_its_jobs(empty_url: str) -> None:
    store = SqlStore(empty_url)
    try:
        await store.runner.write(_upgrade_to("0001"))
        kept = make_job(name="kept", retention_days=7).spec().model_dump(mode="json")
        plain = make_job(name="plain").spec().model_dump(mode="json")
        plain["executor"]["script"] = "echo a\x00b"  # a NUL in one spec must not break the rest
        await store.runner.write(lambda c: _insert_old_jobs(c, [kept, plain]))

        await store.open()  # migrates to head

        assert await store.job_retention_days() == {f"{0:032d}": 7}
        assert (await store.get_job("default", f"{1:032d}")).name == "plain"
        assert await store.runner.read(_drift) == []
    finally:
        await store.close()


OLD_TOKENS = sa.table(
    "tokens",
    *(sa.column(c) for c in ("id", "domain", "name", "secret_hash", "worker_key", "created_by")),
    sa.column("created_at", sa.DateTime),
)


async def test_upgrading_an_0006_database_makes_its_tokens_owners(empty_url: str) -> None:
    """Tokens made before roles could do everything in their domain: they keep doing it."""
    store = SqlStore(empty_url)
    try:
        await store.runner.write(_upgrade_to("0006"))
        row = {
            "id": "0" * 32,
            "domain": "default",
            "name": "old-ci",
            "secret_hash": "a" * 64,
            "worker_key": "b" * 64,
            "created_by": "admin",
            "created_at": T0.replace(tzinfo=None),
        }
        await store.runner.write(lambda c: c.execute(OLD_TOKENS.insert().values(**row)))

        await store.open()  # migrates to head

        token = await store.get_token("0" * 32)
        assert token is not None and token.role == "owner" and token.can_work
        assert await store.runner.read(_drift) == []
    finally:
        await store.close()
