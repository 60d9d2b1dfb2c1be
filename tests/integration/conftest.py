"""Fixtures shared by the integration tests that drive scheduler parts directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hydra_jobs.broker.memory import MemoryBroker
from hydra_jobs.clock import SystemClock
from hydra_jobs.config import Settings
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.loops.ingest import Ingest
from hydra_jobs.store.sql.store import SqlStore


@pytest.fixture
async def ingest(tmp_path: Path) -> AsyncIterator[Ingest]:
    """An ingest over a fresh SQLite store and the in-process broker."""
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'ingest.db'}")
    await store.open()
    await store.ensure_domain("default")
    rt = Runtime(
        store=store,
        broker=MemoryBroker(),
        clock=SystemClock(),
        settings=Settings(ADMIN_TOKEN="x" * 32, HYDRA_DATA_DIR=tmp_path),
    )
    yield Ingest(rt)
    await store.close()
