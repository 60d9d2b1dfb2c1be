"""A hot statement run on SQLite's own cursor, typed by SQLAlchemy's processors.

Ingest changes a run's status per run event, and reads the changed row back. Through
`Connection.execute` that costs about as much Python (execution context, parameter and row
objects) as SQLite takes to run it. Compiled once here, a statement binds its values with the
column types' own processors and reads its row back the same way, so the values are exactly what
`Connection.execute` gives. It joins the connection's transaction: pysqlite opens one at the
first write, the runner commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

Processor = Callable[[Any], Any] | None


class DirectStatement:
    """One compiled statement whose result columns are `columns` (none for a plain write)."""

    def __init__(self, stmt: Any, columns: list[sa.Column[Any]], dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        if compiled.positiontup is None or "POSTCOMPILE" in compiled.string:
            raise ValueError("direct statements need positional parameters and no IN lists")
        self.sql = compiled.string
        self._defaults = compiled.params  # the statement's own literals
        binds = compiled.binds
        self._bind: list[tuple[str, Processor]] = [
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup
        ]
        self._names = [c.name for c in columns]
        self._result: list[Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]

    def _values(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, process in self._bind:
            value = params[name] if name in params else self._defaults[name]
            values.append(value if process is None else process(value))
        return values

    def _cursor(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        driver = conn.connection.driver_connection
        assert driver is not None
        return driver.execute(self.sql, self._values(params))

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute a write with `params` (by bind name); how many rows it changed."""
        cursor = self._cursor(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """Execute with `params` (by bind name); the first returned row as {column: value}."""
        cursor = self._cursor(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return {
            name: value if process is None else process(value)
            for name, process, value in zip(self._names, self._result, row, strict=True)
        }


class ChangeThenRead:
    """A write that changes at most one row, then that row read back by the same parameters:
    what `UPDATE ... RETURNING` gives, without SQLite's staging of returned rows (which made a
    status change 70 % slower: 121 against 70 us, read-back included)."""

    def __init__(self, change: DirectStatement, read: DirectStatement) -> None:
        self.change = change
        self.read = read

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The changed row as {column: value}; None when nothing changed."""
        if self.change.rowcount(conn, params) != 1:
            return None
        return self.read.first(conn, params)
