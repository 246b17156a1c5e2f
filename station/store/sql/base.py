"""What the shared statement modules need from a backend's connection.

The statements in :mod:`station.store.sql` are written once, in the SQL
both engines accept (``?`` placeholders, ``INSERT ... RETURNING id``,
``lower(x) = lower(?)``); each backend supplies a :class:`Transactions`
subclass that runs them (SQLite directly, PostgreSQL through an adapter that
turns ``?`` into ``%s``) and a :class:`Dialect` for the little that differs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from station.store.errors import NotFoundError


class Cursor(Protocol):
    """The part of a DB-API cursor the statements use."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class DbConnection(Protocol):
    """A connection inside one transaction (an ``sqlite3.Connection`` as it is)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Cursor: ...


class Dialect(Protocol):
    """What the shared statements cannot say the same way on every engine."""

    name: str
    insertion_order: str  # ORDER BY this gives rows in the order they were inserted
    compress_curves: bool  # curves as f4dz (smaller) rather than f4 (cheaper to send)

    def tables(self, conn: DbConnection) -> set[str]:
        """The names of the tables in the database."""
        ...

    def columns(self, conn: DbConnection, table: str) -> set[str]:
        """The column names of one table."""
        ...

    def guards_down(self, conn: DbConnection) -> AbstractContextManager[None]:
        """Inside this, the triggers that keep history append-only let an erasure
        through (in ``conn``'s transaction only)."""
        ...

    def after_explicit_ids(self, conn: DbConnection, table: str) -> None:
        """Rows were inserted with their ids given: the next generated id follows them."""
        ...


class Transactions:
    """A backend's transactions, as the shared statement classes call them.

    A backend's connection class overrides every method here; the mixins in
    :mod:`station.store.sql` only ever reach the database through them.
    """

    dialect: Dialect

    def _write(self) -> AbstractContextManager[DbConnection]:
        """One write transaction (serialised with every other writer; rolled back on error)."""
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[DbConnection]:
        """A consistent snapshot for reads made of several statements."""
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of one read statement (None when there is none)."""
        raise NotImplementedError

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of one read statement."""
        raise NotImplementedError

    @staticmethod
    def _require(conn: DbConnection, table: str, row_id: int, what: str) -> None:
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone() is None:
            raise NotFoundError(f"no {what} {row_id}")


def new_id(cursor: Cursor) -> int:
    """The id an ``INSERT ... RETURNING id`` made."""
    return int(cursor.fetchone()[0])
