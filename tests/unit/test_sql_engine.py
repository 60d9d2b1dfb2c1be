"""SQLite's grouped writes: one commit for the writes of one event-loop turn, each caller its own
outcome (real SQLite file)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hydra_jobs.store.sql_engine import SqliteRunner


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
