"""The station's own sync tables, in its SQLite file next to the store's tables.

- ``sync_link``: the server this data folder is joined to (its address
  without any password) and that server's identity, so a folder is never
  synced into another clinic's database by mistake;
- ``sync_known``: the key of every record the server is known to hold: written
  only after the server committed it (push) or in the same local transaction
  that stored it (pull), so a kill at any point leaves at worst a record
  sent twice, which the server ignores (``ON CONFLICT DO NOTHING``);
- ``sync_log``: when the last sync finished, and the last error;
- ``sync_marks``: per table, how far the pull has listed the server's rows
  (:mod:`.listing`): the largest server id up to which every row the server
  showed is here, how many rows that was and the sum of their ids.

They are created by :func:`prepare` when a folder joins, and at each sync (a
folder joined by an older version lacks the newer ones); they are not part of
the store's schema: a station that never joins has none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from station import paths
from station.store.sync.tables import AUDIT_ENTITIES
from station.store.validate import now_utc

AUDITED = ", ".join(f"'{entity}'" for entity in AUDIT_ENTITIES)

TABLES = (
    "CREATE TABLE IF NOT EXISTS sync_link (one INTEGER PRIMARY KEY CHECK (one = 1), "
    "url TEXT NOT NULL, server_id TEXT NOT NULL, joined_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sync_known (tbl TEXT NOT NULL, key TEXT NOT NULL, "
    "PRIMARY KEY (tbl, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS sync_log (one INTEGER PRIMARY KEY CHECK (one = 1), "
    "finished_at TEXT, error TEXT, error_at TEXT)",
    "CREATE TABLE IF NOT EXISTS sync_marks (tbl TEXT PRIMARY KEY, upto INTEGER NOT NULL, "
    "seen INTEGER NOT NULL, total INTEGER NOT NULL) WITHOUT ROWID",
)


@dataclass(frozen=True)
class Mark:
    """Every row the server showed with an id up to ``upto`` is here: ``seen`` rows
    whose ids add up to ``total``."""

    upto: int = 0
    seen: int = 0
    total: int = 0


@dataclass(frozen=True)
class Link:
    url: str
    server_id: str
    joined_at: str


def connect(folder: Path) -> sqlite3.Connection:
    """A connection of the sync's own to the station's database file (the store made it)."""
    conn = sqlite3.connect(paths.database_path(folder), timeout=30.0, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def has_tables(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_link'"
    ).fetchone()
    return row is not None


def prepare(conn: sqlite3.Connection) -> None:
    for statement in TABLES:
        conn.execute(statement)


def link(conn: sqlite3.Connection) -> Link | None:
    if not has_tables(conn):
        return None
    row = conn.execute("SELECT url, server_id, joined_at FROM sync_link").fetchone()
    return None if row is None else Link(*row)


def set_link(conn: sqlite3.Connection, url: str, server_id: str) -> None:
    conn.execute(
        "INSERT INTO sync_link (one, url, server_id, joined_at) VALUES (1, ?, ?, ?) "
        "ON CONFLICT (one) DO UPDATE SET url = excluded.url, server_id = excluded.server_id",
        (url, server_id, now_utc()),
    )


def mark_of(conn: sqlite3.Connection, table: str) -> Mark | None:
    row = conn.execute("SELECT upto, seen, total FROM sync_marks WHERE tbl = ?", (table,))
    found = row.fetchone()
    return None if found is None else Mark(*found)


def set_mark(conn: sqlite3.Connection, table: str, mark: Mark) -> None:
    """(inside the caller's transaction, with the rows the mark covers)"""
    conn.execute(
        "INSERT INTO sync_marks (tbl, upto, seen, total) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (tbl) DO UPDATE SET upto = excluded.upto, seen = excluded.seen, "
        "total = excluded.total",
        (table, mark.upto, mark.seen, mark.total),
    )


def clear_marks(conn: sqlite3.Connection) -> None:
    """The next pull lists every table whole (a folder joined again: maybe another login)."""
    conn.execute("DELETE FROM sync_marks")


def mark_known(conn: sqlite3.Connection, table: str, keys: Iterable[str]) -> None:
    """Record that the server holds these rows (inside the caller's transaction)."""
    conn.executemany(
        "INSERT OR IGNORE INTO sync_known (tbl, key) VALUES (?, ?)",
        [(table, key) for key in keys],
    )


def unknown(conn: sqlite3.Connection, table: str, key: str = "uuid", where: str = "") -> list:
    """Keys of this table's local rows the server is not known to hold, in id order."""
    return [
        row[0]
        for row in conn.execute(
            f"SELECT t.{key} FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM sync_known k "
            f"WHERE k.tbl = ? AND k.key = t.{key}) {where} ORDER BY t.id",
            (table,),
        )
    ]


def waiting(conn: sqlite3.Connection) -> int:
    """Tests and athletes (new or changed) not yet on the server."""
    if not has_tables(conn):
        return 0
    new = {table: set(unknown(conn, table)) for table in ("tests", "athletes")}
    changed = dirty(conn)
    return sum(len(new[t] | set(changed[t])) for t in new)


def log_result(conn: sqlite3.Connection, error: str | None) -> None:
    at = now_utc()
    if error is None:
        conn.execute(
            "INSERT INTO sync_log (one, finished_at) VALUES (1, ?) "
            "ON CONFLICT (one) DO UPDATE SET finished_at = excluded.finished_at, error = NULL",
            (at,),
        )
    else:
        conn.execute(
            "INSERT INTO sync_log (one, error, error_at) VALUES (1, ?, ?) "
            "ON CONFLICT (one) DO UPDATE SET error = excluded.error, error_at = excluded.error_at",
            (error, at),
        )


def last_log(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
    """(when the last sync finished, the last error if it failed since)."""
    if not has_tables(conn):
        return None, None
    row = conn.execute("SELECT finished_at, error FROM sync_log").fetchone()
    return (None, None) if row is None else (row[0], row[1])


def is_known(conn: sqlite3.Connection, table: str, key: str) -> bool:
    row = conn.execute("SELECT 1 FROM sync_known WHERE tbl = ? AND key = ?", (table, key))
    return row.fetchone() is not None


def unknown_audit(conn: sqlite3.Connection, where: str = "") -> list[str]:
    """Audit entries not yet on the server, about records that travel."""
    return unknown(conn, "audit_log", where=f"AND t.entity IN ({AUDITED}) {where}")


def uuids_of(conn: sqlite3.Connection, athlete_ids: list[int]) -> dict[str, set[str]]:
    """The uuids of these athletes and of their tests."""
    if not athlete_ids:
        return {"athletes": set(), "tests": set()}
    ids = ", ".join(str(int(i)) for i in athlete_ids)
    return {
        "athletes": {r[0] for r in conn.execute(f"SELECT uuid FROM athletes WHERE id IN ({ids})")},
        "tests": {
            r[0] for r in conn.execute(f"SELECT uuid FROM tests WHERE athlete_id IN ({ids})")
        },
    }


def dirty(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Athletes and tests (by uuid) changed since their last audit entry the server got
    (a record's creation is not a change: the record itself carries it)."""
    rows = conn.execute(
        "SELECT CASE WHEN a.entity = 'athlete' THEN 'athletes' ELSE 'tests' END, "
        "coalesce(ath.uuid, tst.uuid) FROM audit_log a "
        "LEFT JOIN athletes ath ON a.entity = 'athlete' AND ath.id = a.entity_id "
        "LEFT JOIN tests tst ON a.entity IN ('test', 'rep') AND tst.id = a.entity_id "
        "WHERE a.entity IN ('athlete', 'test', 'rep') "
        "AND a.action NOT IN ('create', 'recover', 'bulk') "
        "AND NOT EXISTS (SELECT 1 FROM sync_known k "
        "WHERE k.tbl = 'audit_log' AND k.key = a.uuid) ORDER BY a.id"
    ).fetchall()
    found: dict[str, dict[str, None]] = {"athletes": {}, "tests": {}}
    for table, key in rows:
        if key is not None:
            found[table][key] = None
    return {table: list(keys) for table, keys in found.items()}
