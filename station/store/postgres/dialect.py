"""What the shared statements need said PostgreSQL's way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from station.store.postgres.schema import ERASING_SETTING
from station.store.sql.base import DbConnection


class PostgresDialect:
    name = "postgresql"
    insertion_order = "seq"  # curves: the identity column standing in for SQLite's rowid
    # f4dz made a 10-minute 1 kHz test's save 114-123 ms against 60-82 ms with f4 (bench)
    compress_curves = False

    def tables(self, conn: DbConnection) -> set[str]:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {row[0] for row in rows}

    def columns(self, conn: DbConnection, table: str) -> set[str]:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
        return {row[0] for row in rows}

    @contextmanager
    def guards_down(self, conn: DbConnection) -> Iterator[None]:
        """The history triggers let changes through until the end of this block, in
        this transaction only (``set_config(..., true)`` is local to it)."""
        conn.execute("SELECT set_config(?, 'on', true)", (ERASING_SETTING,))
        yield
        conn.execute("SELECT set_config(?, 'off', true)", (ERASING_SETTING,))

    def after_explicit_ids(self, conn: DbConnection, table: str) -> None:
        """Move the table's id sequence past the ids just given."""
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


POSTGRES = PostgresDialect()
