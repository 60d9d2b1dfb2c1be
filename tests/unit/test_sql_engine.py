"""SQLite's grouped writes: one commit for the writes of one event-loop turn, each caller its own
outcome (real SQLite files)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job, Trigger
from hydra_jobs.scheduler.services.runs import new_run
from hydra_jobs.store.sql.store import SqlStore
from hydra_jobs.store.sql.transactions import SqliteRunner


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[SqliteRunner]:
    the_runner = SqliteRunner(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await the_runner.write(lambda c: c.execute(sa.text("CREATE TABLE t (k INTEGER PRIMARY KEY)")))
    yield the_runner
    await the_runner.close()


def insert(key: int) -> sa.TextClause:
    return sa.text(f"INSERT INTO t (k) VALUES ({int(key)})")


def write_key(key: int) -> Callable[[Connection], int]:
    def write(c: Connection) -> int:
        c.execute(insert(key))
        return key * 10

    return write


async def stored(runner: SqliteRunner) -> list[int]:
    query = sa.text("SELECT k FROM t ORDER BY k")
    return await runner.read(lambda c: list(c.execute(query).scalars()))


def count_commits(runner: SqliteRunner) -> list[int]:
    commits: list[int] = []
    sa.event.listen(runner.engine, "commit", lambda _conn: commits.append(1))
    return commits


async def test_writes_of_one_loop_turn_share_one_commit(runner: SqliteRunner) -> None:
    commits = count_commits(runner)
    results = await asyncio.gather(*(runner.write_grouped(write_key(k)) for k in range(1, 6)))
    assert results == [10, 20, 30, 40, 50]  # each caller gets its own function's result
    assert len(commits) == 1
    assert await stored(runner) == [1, 2, 3, 4, 5]


async def test_writes_of_later_turns_are_not_held_back(runner: SqliteRunner) -> None:
    commits = count_commits(runner)
    for k in (1, 2, 3):
        assert await runner.write_grouped(write_key(k)) == k * 10
    assert len(commits) == 3
    assert await stored(runner) == [1, 2, 3]


async def test_a_failing_write_fails_alone(runner: SqliteRunner) -> None:
    await runner.write(lambda c: c.execute(insert(2)))
    outcomes = await asyncio.gather(
        runner.write_grouped(write_key(1)),
        runner.write_grouped(write_key(2)),  # the key exists: IntegrityError
        runner.write_grouped(write_key(3)),
        return_exceptions=True,
    )
    assert outcomes[0] == 10 and outcomes[2] == 30
    assert isinstance(outcomes[1], sa.exc.IntegrityError)
    assert await stored(runner) == [1, 2, 3]


async def test_a_caller_cancelled_before_the_commit_writes_nothing(runner: SqliteRunner) -> None:
    kept = asyncio.ensure_future(runner.write_grouped(write_key(1)))
    dropped = asyncio.ensure_future(runner.write_grouped(write_key(2)))
    await asyncio.sleep(0)  # both have joined the group; it is written in the next turn
    dropped.cancel()
    assert await kept == 10
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert await stored(runner) == [1]


async def test_a_locked_database_fails_the_whole_group_at_once(
    runner: SqliteRunner, tmp_path: Path
) -> None:
    """Not once per write: each retry alone would wait out the busy timeout again."""
    await runner.write(lambda c: c.exec_driver_sql("PRAGMA busy_timeout=50"))
    holder = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        outcomes = await asyncio.gather(
            *(runner.write_grouped(write_key(k)) for k in (1, 2, 3)), return_exceptions=True
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert all(isinstance(o, sa.exc.OperationalError) for o in outcomes), outcomes
    assert "locked" in str(outcomes[0])
    assert outcomes[0] is outcomes[1] is outcomes[2]  # one attempt, one error for all
    assert await stored(runner) == []


class Abort(BaseException):
    """Not an Exception: what an unexpected BaseException does to a group."""


async def test_no_caller_is_left_waiting_when_a_write_raises_a_base_exception(
    runner: SqliteRunner,
) -> None:
    def abort(_c: Connection) -> int:
        raise Abort

    outcomes = await asyncio.wait_for(
        asyncio.gather(
            runner.write_grouped(write_key(1)), runner.write_grouped(abort), return_exceptions=True
        ),
        timeout=10,
    )
    assert [type(o) for o in outcomes] == [Abort, Abort]
    assert await stored(runner) == []  # the group was rolled back


async def test_runs_triggered_by_concurrent_requests_share_a_commit(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'hydra.db'}")
    await store.open()
    try:
        now = datetime.now(UTC)
        spec = JobSpec.model_validate({"name": "j", "executor": {"type": "shell", "script": ":"}})
        job = Job(**spec.model_dump(), id="job-1", domain="default", created_at=now, updated_at=now)
        await store.create_job(job)
        assert isinstance(store.runner, SqliteRunner)
        commits = count_commits(store.runner)
        batches = [[new_run(job, trigger=Trigger.API, params={}, now=now)] for _ in range(4)]
        stored_batches = await asyncio.gather(*(store.insert_runs(b) for b in batches))
        assert stored_batches == batches
        assert len(commits) == 1
        for batch in batches:
            assert (await store.get_run("default", batch[0].id)).id == batch[0].id
    finally:
        await store.close()
