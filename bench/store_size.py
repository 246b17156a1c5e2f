"""What takes the space in a SQLite store, and what the proposed cuts would save.

:func:`breakdown` reads SQLite's ``dbstat`` table (bytes of pages, overflow
pages included, per table and index).  :func:`what_if` applies each proposed
schema or serialisation change, cumulatively, to a scratch copy of the
database (its triggers dropped: the copy is thrown away), VACUUMs it and
measures again, so every proposal comes with a measured gain.  Nothing here
touches the store's code or its real files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

Step = tuple[str, Callable[[sqlite3.Connection], None]]


def breakdown(database: Path) -> dict[str, int]:
    """Bytes on disk per table and index (largest first)."""
    conn = sqlite3.connect(database.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    finally:
        conn.close()
    return {str(name): int(size) for name, size in rows}


def _compact(text: str | None) -> str | None:
    if text is None:
        return None
    return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))


def _rewrite(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], fn: Any) -> None:
    rows = conn.execute(f"SELECT id, {', '.join(columns)} FROM {table}").fetchall()
    conn.executemany(
        f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
        [(*(fn(c, v) for c, v in zip(columns, row[1:], strict=True)), row[0]) for row in rows],
    )


def compact_json(conn: sqlite3.Connection) -> None:
    """JSON written with separators (",", ":"): the same values, no blanks."""
    _rewrite(conn, "results", ("settings", "metrics", "summary"), lambda c, v: _compact(v))
    _rewrite(conn, "audit_log", ("before", "after"), lambda c, v: _compact(v))


def settings_once(conn: sqlite3.Connection) -> None:
    """Analysis settings stored once by digest (results.settings holds the id), and
    dropped from each run's metrics, where they repeat results.settings word for word."""
    conn.execute(
        "CREATE TABLE analysis_settings (id INTEGER PRIMARY KEY, sha256 TEXT UNIQUE, data TEXT)"
    )
    ids: dict[str, int] = {}

    def one(column: str, value: str) -> Any:
        if column == "settings":
            key = hashlib.sha256(value.encode()).hexdigest()
            if key not in ids:
                cursor = conn.execute(
                    "INSERT INTO analysis_settings (sha256, data) VALUES (?, ?)", (key, value)
                )
                ids[key] = int(cursor.lastrowid or 0)
            return ids[key]
        metrics = json.loads(value)
        metrics.pop("settings", None)
        return json.dumps(metrics, ensure_ascii=False, separators=(",", ":"))

    _rewrite(conn, "results", ("settings", "metrics"), one)


def zlib_metrics(conn: sqlite3.Connection) -> None:
    """Each run's whole metrics as zlib-compressed JSON (read only when one test is
    opened; lists and exports read the small summary column)."""
    _rewrite(conn, "results", ("metrics",), lambda c, v: zlib.compress(v.encode(), 6))


def drop_tests_by_athlete(conn: sqlite3.Connection) -> None:
    """tests_by_athlete (athlete_id, recorded_at) is covered by tests_by_athlete_valid
    (athlete_id, voided, recorded_at); only a list with voided tests used it."""
    conn.execute("DROP INDEX tests_by_athlete")


def reps_without_rowid(conn: sqlite3.Connection) -> None:
    """reps keyed by (test_id, number) WITHOUT ROWID: the table is its own index."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(reps)") if row[1] != "id"]
    conn.execute(
        "CREATE TABLE reps_new (test_id INTEGER NOT NULL, number INTEGER NOT NULL, "
        + ", ".join(c for c in columns if c not in ("test_id", "number"))
        + ", PRIMARY KEY (test_id, number)) WITHOUT ROWID"
    )
    listed = ", ".join(columns)
    conn.execute(f"INSERT INTO reps_new ({listed}) SELECT {listed} FROM reps")
    conn.execute("DROP TABLE reps")
    conn.execute("ALTER TABLE reps_new RENAME TO reps")


def bulk_audit_once(conn: sqlite3.Connection) -> None:
    """A bulk load audited by one entry per load and entity (the id range in
    ``after``) rather than one entry per loaded row."""
    groups = conn.execute(
        "SELECT at, actor, entity, min(entity_id), max(entity_id), count(*) FROM audit_log "
        "WHERE action = 'bulk' GROUP BY at, actor, entity"
    ).fetchall()
    conn.execute("DELETE FROM audit_log WHERE action = 'bulk'")
    conn.executemany(
        "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after) "
        "VALUES (?, ?, ?, ?, 'bulk', NULL, ?)",
        [
            (at, actor, entity, first, json.dumps({"ids": [first, last], "count": n}))
            for at, actor, entity, first, last, n in groups
        ],
    )


PROPOSALS: tuple[Step, ...] = (
    ("compact JSON (no blanks after , and :)", compact_json),
    ("settings once by digest, not repeated in metrics", settings_once),
    ("metrics JSON zlib-compressed", zlib_metrics),
    ("drop index tests_by_athlete (covered)", drop_tests_by_athlete),
    ("reps WITHOUT ROWID on (test_id, number)", reps_without_rowid),
    ("bulk loads audited once per load", bulk_audit_once),
)


def what_if(database: Path, scratch: Path) -> list[tuple[str, dict[str, int]]]:
    """The breakdown after each proposal, applied cumulatively to a scratch copy."""
    shutil.copyfile(database, scratch)
    conn = sqlite3.connect(scratch, isolation_level=None)
    out = []
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("VACUUM")
        out.append(("as stored (vacuumed)", breakdown(scratch)))
        for label, step in PROPOSALS:
            conn.execute("BEGIN")
            step(conn)
            conn.execute("COMMIT")
            conn.execute("VACUUM")
            out.append((label, breakdown(scratch)))
    finally:
        conn.close()
        scratch.unlink(missing_ok=True)
    return out


def print_breakdown(sizes: dict[str, int], tests: int, after: dict[str, int] | None = None) -> None:
    """Bytes per test per table and index (and after the proposals, when given)."""
    names = sorted(sizes, key=lambda n: -sizes[n])
    names += [n for n in (after or {}) if n not in sizes]
    shown = [n for n in names if sizes.get(n, 0) / tests >= 1 or (after or {}).get(n, 0) >= tests]
    head = f"{'table or index':32} {'B/test now':>11}"
    print(head + (f" {'B/test after':>13}" if after is not None else ""))
    for name in shown:
        line = f"{name:32} {sizes.get(name, 0) / tests:11.0f}"
        if after is not None:
            line += f" {after.get(name, 0) / tests:13.0f}"
        print(line)
    rest = sum(v for n, v in sizes.items() if n not in shown)
    rest_after = sum(v for n, v in (after or {}).items() if n not in shown)
    line = f"{'(everything else)':32} {rest / tests:11.0f}"
    print(line + (f" {rest_after / tests:13.0f}" if after is not None else ""))
    total = f"{'total':32} {sum(sizes.values()) / tests:11.0f}"
    print(total + (f" {sum(after.values()) / tests:13.0f}" if after is not None else ""))


def print_what_if(steps: list[tuple[str, dict[str, int]]], tests: int) -> None:
    base = sum(steps[0][1].values())
    previous = base
    print(f"{'proposal (cumulative)':52} {'B/test':>8} {'saves':>8}")
    for label, sizes in steps:
        total = sum(sizes.values())
        print(f"{label:52} {total / tests:8.0f} {(previous - total) / tests:8.0f}")
        previous = total
    print(
        f"{'all proposals together save':52} {(base - previous) / tests:8.0f} "
        f"({100 * (base - previous) / base:.0f} %)"
    )
