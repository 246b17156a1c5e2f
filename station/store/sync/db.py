"""One small interface over the station's SQLite file and the server's connection.

Both speak SQLite's ``?`` placeholders (turned into ``%s`` for psycopg), so
push and pull are written once and run in either direction.  The server
side counts the bytes of every value it sends, for the figures of
bench/bench_sync.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

CHUNK = 500  # values per IN (...): well under SQLite's limit of host parameters


class Db(Protocol):
    """A connection inside the caller's transaction."""

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def run(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def columns(self, table: str) -> list[str]: ...


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def marks(count: int) -> str:
    return ", ".join("?" * count)


def lookup(db: Db, table: str, by: str, want: str, values: Iterable[Any]) -> dict[Any, Any]:
    """``{row[by]: row[want]}`` for the rows whose ``by`` is one of ``values``."""
    found: dict[Any, Any] = {}
    unique = sorted({v for v in values if v is not None}, key=str)
    for part in chunks(unique):
        sql = f"SELECT {by}, {want} FROM {table} WHERE {by} IN ({marks(len(part))})"
        found.update((row[0], row[1]) for row in db.all(sql, part))
    return found


def select_rows(
    db: Db, table: str, cols: Sequence[str], by: str, values: Sequence[Any]
) -> list[dict[str, Any]]:
    """The rows (as dicts of ``cols``) whose ``by`` is one of ``values``, in id order."""
    rows: list[dict[str, Any]] = []
    for part in chunks(list(values)):
        sql = (
            f"SELECT {', '.join(cols)} FROM {table} WHERE {by} IN ({marks(len(part))}) "
            "ORDER BY " + ("id" if by != "result_id" else "result_id, name")
        )
        rows.extend(dict(zip(cols, row, strict=True)) for row in db.all(sql, part))
    return rows


def insert_rows(db: Db, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``; a row already there (same key) is left as it is."""
    if not rows:
        return
    cols = list(rows[0])
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks(len(cols))}) "
        "ON CONFLICT DO NOTHING"
    )
    db.many(sql, [[row[c] for c in cols] for row in rows])


class LocalDb:
    """The station's SQLite file (one connection; transactions by the caller)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._columns: dict[str, list[str]] = {}

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, list(params)).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, list(params)).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            rows = self.conn.execute(f"PRAGMA table_info({table})").fetchall()
            self._columns[table] = [row[1] for row in rows]
        return self._columns[table]


def _size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bytes | bytearray | memoryview | str):
        return len(value)
    return 8


class ServerDb:
    """A psycopg connection to the server; counts the bytes of the values it sends."""

    def __init__(self, conn: Any) -> None:
        from station.store.postgres.connection import to_psycopg

        self.conn = conn
        self._sql = to_psycopg
        self._columns: dict[str, list[str]] = {}
        self.sent_bytes = 0

    def _count(self, params: Sequence[Any]) -> None:
        self.sent_bytes += sum(_size(v) for v in params)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._count(params)
        rows = self.conn.execute(self._sql(sql), list(params)).fetchall()
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._count(params)
        return int(self.conn.execute(self._sql(sql), list(params)).rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        for row in rows:
            self._count(row)
        with self.conn.cursor() as cursor:
            cursor.executemany(self._sql(sql), [list(r) for r in rows])

    def columns(self, table: str) -> list[str]:
        if table not in self._columns:
            rows = self.conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s "
                "ORDER BY ordinal_position",
                (table,),
            ).fetchall()
            self._columns[table] = [row[0] for row in rows]
        return self._columns[table]
