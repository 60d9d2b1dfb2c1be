"""A hot statement run on SQLite's own cursor, typed by SQLAlchemy's processors.

Ingest runs an `UPDATE ... RETURNING` per run event. Through `Connection.execute` that costs
about as much Python (execution context, parameter and row objects) as SQLite takes to run it.
Compiled once here, the statement binds its values with the column types' own processors and
reads its row back the same way, so the values are exactly what `Connection.execute` gives. It
joins the connection's transaction: pysqlite opens one at the first write, the runner commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

Processor = Callable[[Any], Any] | None


class DirectStatement:
    """One compiled statement whose result columns are `columns` (its RETURNING list)."""

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

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """Execute with `params` (by bind name); the first returned row as {column: value}."""
        values = []
        for name, process in self._bind:
            value = params[name] if name in params else self._defaults[name]
            values.append(value if process is None else process(value))
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.execute(self.sql, values)
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
