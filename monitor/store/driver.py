"""Statements a poll runs for every feed and every article, run through the driver's own cursor.

SQLAlchemy still writes them: each is a SQLAlchemy statement over the tables of ``monitor.store.tables``,
compiled once per dialect, and each value goes through its column type's own conversion (``bind_processor``),
so the stored rows are exactly those ``Connection.execute`` would store. What is skipped is SQLAlchemy's work
around each execution (the statement's cache key, a dictionary of parameters per row processed again, the
events and the result object): on SQLite it took as long as the database's own work on these statements.
A driver error comes up as the driver's own exception, inside the caller's transaction like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


class DriverStatement:
    """A statement compiled for one dialect, run with its parameters given as plain tuples in ``names`` order."""

    def __init__(self, statement: ClauseElement, names: Sequence[str], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        self.sql = compiled.string
        self.names = tuple(names)
        missing = sorted(set(compiled.binds) - set(self.names))
        if missing:  # (an INSERT leaving out a column with a default would run SQLAlchemy's default here)
            raise ValueError(f"parameters not given: {', '.join(missing)}")
        self._processors: tuple[Processor | None, ...] = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.names
        )
        self._converts = any(processor is not None for processor in self._processors)
        # qmark and format drivers (sqlite3) take a sequence in the order of the SQL's markers; the others
        # (psycopg's pyformat) a mapping by name.
        order = compiled.positiontup if compiled.positional else None
        self._order = None if order is None else tuple(self.names.index(name) for name in order)
        self._in_order = self._order == tuple(range(len(self.names)))

    def parameters(self, values: Sequence[Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for one row of values given in ``names`` order."""
        if self._converts:
            values = [
                value if processor is None else processor(value)
                for processor, value in zip(self._processors, values, strict=True)
            ]
        if self._order is None:
            return dict(zip(self.names, values, strict=True))
        if self._in_order:
            return values
        return [values[index] for index in self._order]

    def execute(self, conn: Connection, values: Sequence[Any]) -> None:
        """Run it once (a write; nothing comes back)."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, self.parameters(values))
        finally:
            cursor.close()

    def execute_each(self, conn: Connection, rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Run it once a row and return all the rows they gave back (those of RETURNING), in order. psycopg
        sends the rows together and hands back each one's result; sqlite3 runs one statement at a time (in this
        process: no round trip)."""
        parameters: Any = [self.parameters(row) for row in rows]
        found: list[tuple[Any, ...]] = []
        if not parameters:
            return found
        cursor: Any = conn.connection.cursor()
        try:
            if conn.dialect.driver == "psycopg":
                cursor.executemany(self.sql, parameters, returning=True)
                found.extend(cursor.fetchall())
                while cursor.nextset():
                    found.extend(cursor.fetchall())
            else:
                for one in parameters:
                    cursor.execute(self.sql, one)
                    found.extend(cursor.fetchall())
        finally:
            cursor.close()
        return found

    def executemany(self, conn: Connection, rows: Iterable[Sequence[Any]]) -> None:
        """Run it once a row (a write; nothing comes back)."""
        parameters: Any = [self.parameters(row) for row in rows]
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(self.sql, parameters)
        finally:
            cursor.close()


_COMPILED: dict[tuple[Any, ...], DriverStatement] = {}


def driver_statement(
    key: Any, dialect: Dialect, build: Callable[[], tuple[ClauseElement, Sequence[str]]]
) -> DriverStatement:
    """The statement ``build`` makes (with its parameter names), compiled once for each dialect and driver:
    ``key`` says which statement it is."""
    cache_key = (key, dialect.name, dialect.driver)
    statement = _COMPILED.get(cache_key)
    if statement is None:
        clause, names = build()
        statement = _COMPILED[cache_key] = DriverStatement(clause, names, dialect)
    return statement
