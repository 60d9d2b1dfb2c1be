"""How SQL statements reach the database: each store call is one transaction function.

SQLite runs on a sync engine, in process. Its statements take microseconds, far less than handing
work to a thread and back (which under load costs up to the GIL's 5 ms switch interval each way),
so transactions run inline on the event loop: writers are serialised by the loop itself and a
batch of hundreds of statements is one short, uninterrupted transaction. Inline calls, one at a
time by construction, share one connection kept open (a pool checkout and reset per call cost
more than most of the statements). A commit costs more than a small write (a run inserted alone:
206 us; four per commit: 91 us each), so small writes that may share one (`write_grouped`:
triggers of concurrent requests) are gathered over one turn of the loop and committed together.
Reads that can be large (`heavy=True`: dashboards, retention) go to a small thread pool so they
never stall the loop; WAL lets them read while the loop writes. PostgreSQL runs on asyncpg
through `AsyncConnection.run_sync`, the same sync functions.
"""

from __future__ import annotations

import asyncio
from asyncio import Future
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hydra_jobs.private_files import PRIVATE_DIR_MODE, private_file

T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_READERS = 2


class Runner(Protocol):
    dialect: str

    async def write(self, fn: Callable[[Connection], T], *, heavy: bool = False) -> T: ...
    async def write_grouped(self, fn: Callable[[Connection], T]) -> T: ...
    async def read(self, fn: Callable[[Connection], T], *, heavy: bool = False) -> T: ...
    async def close(self) -> None: ...


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# SQLite's primary result codes for a failure of the database, not of one statement: busy or
# locked (past the busy timeout), read-only, I/O error, corrupt, full, cannot open.
_DATABASE_FAILURES = frozenset({5, 6, 8, 10, 11, 13, 14})


def _database_failed(exc: BaseException) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _DATABASE_FAILURES


class SqliteRunner:
    dialect = "sqlite"

    def __init__(self, url: str, echo: bool = False) -> None:
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            # Every domain's jobs and env: only the server's user may read it (issue 13). A
            # directory that exists is the operator's; `up` tightens its own data dir itself.
            Path(path).parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
            private_file(Path(path))
        sync_url = "sqlite:///" + path
        self.engine: Engine = sa.create_engine(
            sync_url,
            echo=echo,
            pool_size=SQLITE_READERS + 1,
            max_overflow=0,
            connect_args={"check_same_thread": False},
            hide_parameters=True,  # errors and logs never carry values (job env, token hashes)
        )
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._heavy_writes = asyncio.Lock()
        self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="hydra-sqlite-r")
        self._inline: Connection | None = None  # the event loop's own connection
        self._group: list[tuple[Callable[[Connection], Any], Future[Any]]] = []

    def _tx(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.begin() as conn:
            return fn(conn)

    def _ro(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    def _loop_connection(self) -> Connection:
        if self._inline is None or self._inline.closed or self._inline.invalidated:
            self._inline = self.engine.connect()
        return self._inline

    def _inline_tx(self, fn: Callable[[Connection], T]) -> T:
        conn = self._loop_connection()
        with conn.begin():
            return fn(conn)

    def _inline_ro(self, fn: Callable[[Connection], T]) -> T:
        conn = self._loop_connection()
        try:
            return fn(conn)
        finally:
            conn.rollback()  # no snapshot kept open between calls: the next read sees new data

    async def write(self, fn: Callable[[Connection], T], *, heavy: bool = False) -> T:
        if not heavy:
            return self._inline_tx(fn)
        # A long write (retention) runs in a thread; busy_timeout makes inline writers wait.
        async with self._heavy_writes:
            return await asyncio.get_running_loop().run_in_executor(self._readers, self._tx, fn)

    async def write_grouped(self, fn: Callable[[Connection], T]) -> T:
        """`write`, in one transaction with the other grouped writes of this turn of the loop.

        `fn` must only write through its connection. If the shared transaction fails on one
        write's account (a constraint, a bug), it is rolled back and each write runs again
        alone, so that each caller gets its own outcome; if the database itself fails (locked
        past the busy timeout, disk full), every caller gets that error at once. A caller
        cancelled before the group is written has its write left out; one cancelled after it,
        like any caller cancelled while it awaits a write, may find its write committed.
        """
        loop = asyncio.get_running_loop()
        done: Future[T] = loop.create_future()
        self._group.append((fn, done))
        if len(self._group) == 1:
            loop.call_soon(self._write_group)  # after the callbacks already due in this turn
        return await done

    def _write_group(self) -> None:
        group = [(fn, done) for fn, done in self._group if not done.cancelled()]
        self._group = []
        try:
            if len(group) == 1:
                self._write_alone(*group[0])
            elif group:
                self._write_together(group)
        except BaseException as exc:  # never leave a caller waiting for an answer
            for _, done in group:
                if not done.done():
                    done.set_exception(exc)
            raise

    def _write_together(self, group: list[tuple[Callable[[Connection], Any], Future[Any]]]) -> None:
        try:
            results = self._inline_tx(lambda c: [fn(c) for fn, _ in group])
        except Exception as exc:
            if _database_failed(exc):  # no write of the group can succeed now
                for _, done in group:
                    done.set_exception(exc)
                return
            for fn, done in group:  # rolled back: each again alone, for its own outcome
                self._write_alone(fn, done)
            return
        for (_, done), result in zip(group, results, strict=True):
            done.set_result(result)

    def _write_alone(self, fn: Callable[[Connection], Any], done: Future[Any]) -> None:
        try:
            done.set_result(self._inline_tx(fn))
        except Exception as exc:
            done.set_exception(exc)

    async def read(self, fn: Callable[[Connection], T], *, heavy: bool = False) -> T:
        if not heavy:
            return self._inline_ro(fn)
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._ro, fn)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._readers.shutdown)
        if self._inline is not None:
            self._inline.close()
        self.engine.dispose()


class AsyncRunner:
    """PostgreSQL (asyncpg): the same sync functions, run through SQLAlchemy's greenlet bridge."""

    dialect = "postgresql"

    def __init__(self, url: str, echo: bool = False) -> None:
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        self.engine: AsyncEngine = create_async_engine(
            url,
            echo=echo,
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
            hide_parameters=True,
        )

    async def write(self, fn: Callable[[Connection], T], *, heavy: bool = False) -> T:
        async with self.engine.begin() as conn:
            return await conn.run_sync(fn)

    async def write_grouped(self, fn: Callable[[Connection], T]) -> T:
        return await self.write(fn)  # each transaction has its own pooled connection

    async def read(self, fn: Callable[[Connection], T], *, heavy: bool = False) -> T:
        async with self.engine.connect() as conn:
            return await conn.run_sync(fn)

    async def close(self) -> None:
        await self.engine.dispose()


def make_runner(url: str, echo: bool = False) -> Runner:
    if url.startswith("sqlite"):
        return SqliteRunner(url, echo)
    return AsyncRunner(url, echo)


def run_migrations(conn: Connection) -> None:
    """Bring the schema to the newest Alembic revision (no-op when it is current)."""
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("hydra_jobs.store.sql") / "migrations")
    )
    config.attributes["connection"] = conn
    script = ScriptDirectory.from_config(config)
    if MigrationContext.configure(conn).get_current_revision() == script.get_current_head():
        return

    def upgrade(rev: Any, context: Any) -> Any:
        return script._upgrade_revs("head", rev)

    with EnvironmentContext(config, script, fn=upgrade, destination_rev="head"):
        script.run_env()
