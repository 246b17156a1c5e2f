"""What the shared statements need said SQLite's way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from station.store.sql.base import DbConnection


class SqliteDialect:
    name = "sqlite"
    insertion_order = "rowid"
    compress_curves = True  # a local file: a quarter smaller costs 7 ms a 10-minute test

    def tables(self, conn: DbConnection) -> set[str]:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}

    def columns(self, conn: DbConnection, table: str) -> set[str]:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}

    @contextmanager
    def guards_down(self, conn: DbConnection) -> Iterator[None]:
        """Drop the triggers that guard history and put them back, in ``conn``'s
        transaction (works on any schema version: a backup's triggers are its own)."""
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        yield
        for _, sql in triggers:
            conn.execute(sql)

    def after_explicit_ids(self, conn: DbConnection, table: str) -> None:
        """SQLite's next rowid is always max(id) + 1: nothing to do."""


SQLITE = SqliteDialect()
