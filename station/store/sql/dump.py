"""A store's tables as rows, read and written in key order (what ``db copy`` uses).

Portable SQL only (``?`` placeholders, plain SELECT/INSERT with explicit
columns, ``count``/``max``, ``ORDER BY``/``LIMIT``/``OFFSET``), so the same
mixin serves any backend whose connection runs that dialect: the SQLite
backend directly, the PostgreSQL one through its shared-SQL adapter.  It
relies only on the backend's ``_read``/``_write``/``_all``/``_one``.

Rows are copied with their ids, so a copy keeps every reference and a
person's test numbers; a table is read ``WHERE key > ? ORDER BY key`` in
batches, each batch written in one transaction, so a copy stopped at any
point resumes from the target's largest key.

What differs between engines stays out of the rows: the column standing in
for SQLite's rowid on a server (``Dialect.insertion_order``, curves' ``seq``)
is never read nor written, the target numbers the rows again in the order
they come, which is the source's insertion order; the meta rows an engine
keeps for itself (:data:`ENGINE_META`) are never copied; meta values are read
as bytes (text as UTF-8) and written in the type the target's row has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from station.store.errors import StoreError
from station.store.sql.base import Transactions


@dataclass(frozen=True)
class Table:
    """A table as the copy sees it: ``key`` orders and resumes it; with ``grouped``
    every row of one key value goes in the same batch (curves share their run's id)."""

    name: str
    key: str = "id"
    grouped: bool = False
    batch_rows: int = 2000


# Every table holding records, parents before children (each reference points
# to a table earlier in the list, or to an earlier row of the same table).
# ``meta`` (the pseudonym secret...) is copied apart: see dump_meta/load_meta.
# ``pending_tests`` is left out: a test in progress is a file in one station's
# data folder, recovered there, not a record to move.
TABLES: tuple[Table, ...] = (
    Table("athletes"),
    Table("body_mass"),
    Table("injuries"),
    Table("certificates"),
    Table("verifications"),
    Table("recordings", batch_rows=16),  # megabytes a row
    Table("tests"),
    Table("results", batch_rows=500),  # ~10 kB of JSON a row
    Table("curves", key="result_id", grouped=True, batch_rows=8),  # MBs a run
    Table("reps"),
    Table("audit_log"),
)
NOT_COPIED = ("pending_tests",)
# The engine's own meta rows: SQLite keeps them in its file header, a server in
# ``meta``; a target keeps its own.
ENGINE_META = ("application_id", "schema_version")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _checked(*names: str) -> None:
    """Names are interpolated into SQL: only plain identifiers get through."""
    for name in names:
        if not _NAME.match(name):
            raise StoreError(f"not a column or table name: {name!r}")


def table_named(name: str) -> Table:
    for table in TABLES:
        if table.name == name:
            return table
    if name in NOT_COPIED:
        return Table(name)
    raise StoreError(f"no table {name!r} in a store copy")


class Dump(Transactions):
    """Reading and writing whole tables in key order (see the module docstring).

    One of the shared statement classes: a backend's connection class (SQLite's,
    or a server's with its adapter turning ``?`` into its placeholders) runs
    them, so one set of statements serves both.
    """

    def dump_tables(self) -> tuple[Table, ...]:
        return TABLES

    def dump_columns(self, table: str) -> list[str]:
        """The table's columns in stored order (from the cursor's description,
        which every DB-API driver fills, so no catalogue query is needed), but
        the engine's insertion-order column, which the target fills itself."""
        spec = table_named(table)
        with self._read() as conn:
            cursor: Any = conn.execute(f"SELECT * FROM {spec.name} WHERE 1 = 0")
            names = [str(column[0]) for column in cursor.description]
        return [name for name in names if name != self.dialect.insertion_order]

    def _order(self, spec: Table) -> str:
        """Key order; a grouped table's rows of one key in the order they were stored."""
        return f"{spec.key}, {self.dialect.insertion_order}" if spec.grouped else spec.key

    def dump_count(self, table: str, up_to: int | None = None) -> int:
        """Rows in ``table`` (only those whose key is at most ``up_to`` when given)."""
        spec = table_named(table)
        if up_to is None:
            row = self._one(f"SELECT count(*) FROM {spec.name}")
        else:
            row = self._one(f"SELECT count(*) FROM {spec.name} WHERE {spec.key} <= ?", (up_to,))
        return int(row[0]) if row else 0

    def dump_max_key(self, table: str) -> int | None:
        spec = table_named(table)
        row = self._one(f"SELECT max({spec.key}) FROM {spec.name}")
        return None if row is None or row[0] is None else int(row[0])

    def dump_rows(
        self, table: str, columns: Sequence[str], after: int | None, limit: int
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows with a key above ``after`` (all when None), in key
        order; a grouped table never splits one key's rows between batches."""
        spec = table_named(table)
        _checked(*columns)
        where, params = ("", []) if after is None else (f"WHERE {spec.key} > ? ", [after])
        order = self._order(spec)
        select = f"SELECT {', '.join(columns)} FROM {spec.name} "
        with self._read() as conn:
            if not spec.grouped:
                rows = conn.execute(
                    select + where + f"ORDER BY {order} LIMIT ?", [*params, int(limit)]
                ).fetchall()
                return [tuple(row) for row in rows]
            keys = conn.execute(
                f"SELECT DISTINCT {spec.key} FROM {spec.name} {where}ORDER BY {spec.key} LIMIT ?",
                [*params, int(limit)],
            ).fetchall()
            if not keys:
                return []
            bounded = f"WHERE {spec.key} > ? AND " if after is not None else "WHERE "
            rows = conn.execute(
                select + bounded + f"{spec.key} <= ? ORDER BY {order}",
                [*params, keys[-1][0]],
            ).fetchall()
        return [tuple(row) for row in rows]

    def dump_rows_at(self, table: str, columns: Sequence[str], key: int) -> list[tuple[Any, ...]]:
        """Every row whose key is ``key`` (one, or a run's curves)."""
        spec = table_named(table)
        _checked(*columns)
        rows = self._all(
            f"SELECT {', '.join(columns)} FROM {spec.name} WHERE {spec.key} = ? "
            f"ORDER BY {self._order(spec)}",
            (key,),
        )
        return [tuple(row) for row in rows]

    def load_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows as given (ids included) in one transaction."""
        spec = table_named(table)
        _checked(*columns)
        sql = (
            f"INSERT INTO {spec.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        with self._write() as conn:
            conn.executemany(sql, [tuple(row) for row in rows])

    def load_done(self, table: str) -> None:
        """After a table's rows are in: the next id follows the copied ones (SQLite's
        is max + 1 by itself; a server's id sequence is moved past them)."""
        spec = table_named(table)
        if spec.key != "id":
            return
        with self._write() as conn:
            self.dialect.after_explicit_ids(conn, spec.name)

    def dump_meta(self) -> list[tuple[str, bytes]]:
        """The store's own values (its pseudonym secret, when it was created) but
        the engine's, as bytes: SQLite keeps some as text, a server all as bytes."""
        rows = self._all("SELECT key, value FROM meta ORDER BY key")
        return [(str(k), _as_bytes(v)) for k, v in rows if str(k) not in ENGINE_META]

    def load_meta(self, items: Sequence[tuple[str, Any]]) -> None:
        """Make the meta values those given, in one transaction: a copy keeps the
        source's pseudonym secret, so its exports keep their pseudonyms.  A value
        takes the type of the target's row (text stays text on SQLite)."""
        with self._write() as conn:
            have = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            for key, value in items:
                if key in ENGINE_META:
                    continue
                data = _as_bytes(value)
                if key not in have:
                    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, data))
                    continue
                if isinstance(have[key], str):
                    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (data.decode(), key))
                else:
                    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (data, key))


def _as_bytes(value: Any) -> bytes:
    """A meta value as bytes (text as UTF-8)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)
