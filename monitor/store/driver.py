"""Statements a poll runs for every feed and every article, run through the driver's own cursor.

SQLAlchemy still writes them: each is a SQLAlchemy statement over the tables of ``monitor.store.tables``,
compiled once per dialect, and each value goes through its column type's own conversion (``bind_processor``),
so the stored rows are exactly those ``Connection.execute`` would store. What is skipped is SQLAlchemy's work
around each execution (the statement's cache key, a dictionary of parameters per row processed again, the
events and the result object): on SQLite it took as long as the database's own work on these statements.
A driver error comes up as the driver's own exception, inside the caller's transaction like any other.

Rows a statement gives back (a SELECT's, or those of RETURNING) go through each column type's
``result_processor`` as SQLAlchemy's rows would, and come back as plain tuples. An IN over a list of values
is written with one marker a value (``driver_in_statement``): a statement is compiled for each length of list,
the lists made up to the next power of two so that a handful of lengths serve every poll.
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
        # The types of the columns it gives back; their conversions are looked up on the first rows, with the
        # driver's description of them.
        columns = getattr(statement, "exported_columns", ())
        self._result_types = tuple(column.type.dialect_impl(dialect) for column in columns)
        self._result_processors: tuple[Processor | None, ...] | None = None
        self._dialect = dialect

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

    def _rows(self, cursor: Any, rows: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows the driver gave back, each value through its column type's conversion."""
        processors = self._result_processors
        if processors is None:
            description = cursor.description or ()
            processors = self._result_processors = tuple(
                type_.result_processor(self._dialect, column[1])
                for type_, column in zip(self._result_types, description, strict=True)
            )
        if not rows or not any(processor is not None for processor in processors):
            return [tuple(row) for row in rows]
        # Column by column: one map over each column to convert rather than a loop over every value.
        columns = [
            values if processor is None else list(map(processor, values))
            for processor, values in zip(processors, zip(*rows, strict=True), strict=True)
        ]
        return list(zip(*columns, strict=True))

    def rows(self, conn: Connection, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run it once and return the rows it gives back (a read's, or those of RETURNING)."""
        cursor = conn.connection.cursor()
        try:
            cursor.execute(self.sql, self.parameters(values))
            return self._rows(cursor, cursor.fetchall())
        finally:
            cursor.close()

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
        found: list[Any] = []
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
            return self._rows(cursor, found) if found else []
        finally:
            cursor.close()

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


def in_list(values: Sequence[Any]) -> list[Any]:
    """The values of an IN list made up to the next power of two by repeating the last one (which adds no row):
    statements are then compiled for a handful of list lengths. At least one value."""
    size = 1 << (len(values) - 1).bit_length()
    return [*values, *[values[-1]] * (size - len(values))]


def driver_in_statement(
    key: Any,
    dialect: Dialect,
    values: Sequence[Any],
    build: Callable[[int], tuple[ClauseElement, Sequence[str]]],
) -> tuple[DriverStatement, list[Any]]:
    """A statement with an IN over ``values`` (at least one) and its parameters: ``build(size)`` makes the
    statement for a list of ``size`` values, each its own parameter, compiled once for each dialect and size;
    the values are made up to that size (``in_list``)."""
    padded = in_list(values)
    size = len(padded)
    return driver_statement((key, size), dialect, lambda: build(size)), padded
