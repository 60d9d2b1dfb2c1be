"""The Alembic migrations build exactly the tables the code queries (no drift)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hydra_jobs.store.sql.tables import metadata
from hydra_jobs.store.sql.transactions import run_migrations


def test_migrated_schema_matches_metadata(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as conn:
        run_migrations(conn)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"jobs", "runs", "log_chunks", "workers", "audit", "domains", "tokens"} <= tables


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    for _ in range(2):
        with engine.begin() as conn:
            run_migrations(conn)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert version == "0008"
