"""Copying a whole store to another (SQLite to PostgreSQL when a clinic moves, and back).

Table by table in dependency order, each in batches ordered by its key, one
transaction a batch, ids kept.  So a copy stopped at any point (Ctrl-C, a
crash, kill -9) is resumed by running it again: each table continues after
the target's largest key, and nothing is duplicated.  A target that already
holds rows must be a prefix of the source (a copy stopped earlier), else it is
refused untouched.  At the end both sides are read again: per table the row
counts and a SHA-256 over canonical rows must match, and every raw recording
in the target must match its own SHA-256 (so a source holding recordings a
joined station pulled without their bytes is refused before anything is
written: fetch them first).

Both stores are opened the normal way (a fresh target gets the current
schema), so their schema versions must match.  The copy writes nothing to the
target's audit log: its audit log becomes the source's, entry for entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from station import paths
from station.store import database_choice
from station.store.errors import StoreError
from station.store.sql.dump import NOT_COPIED, Table
from station.store.sql.recorded_tests import ERASED_PREFIX

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0


class CopyError(StoreError):
    """A copy that cannot start or whose result does not match its source
    (``checks`` then holds the verification, to show)."""

    def __init__(self, message: str, *, checks: Sequence[TableCheck] = ()) -> None:
        super().__init__(message)
        self.checks = list(checks)


class Dumpable(Protocol):
    """What a backend provides for a copy (:class:`station.store.sql.dump.Dump`
    on SQLite; the same statements through the shared-SQL adapter on PostgreSQL).

    Rows come back with the Python types SQLite gives, whatever the engine:
    int (flags as 0/1; a bool is counted as its int), float, str (instants and
    JSON as the text written, never re-serialised), bytes, None; meta values
    come back as bytes (text as UTF-8).  Otherwise the checksums differ.
    """

    @property
    def schema_version(self) -> int: ...
    def close(self) -> None: ...
    def dump_tables(self) -> tuple[Table, ...]: ...
    def dump_columns(self, table: str) -> list[str]: ...
    def dump_count(self, table: str, up_to: int | None = None) -> int: ...
    def dump_max_key(self, table: str) -> int | None: ...
    def dump_rows(
        self, table: str, columns: Sequence[str], after: int | None, limit: int
    ) -> list[tuple[Any, ...]]: ...
    def dump_rows_at(
        self, table: str, columns: Sequence[str], key: int
    ) -> list[tuple[Any, ...]]: ...
    def load_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...
    def load_done(self, table: str) -> None: ...
    def dump_meta(self) -> list[tuple[str, bytes]]: ...
    def load_meta(self, items: Sequence[tuple[str, Any]]) -> None: ...


@dataclass(frozen=True)
class TableCheck:
    """One line of the verification: rows and checksums on both sides."""

    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str
    bad_recordings: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.source_rows == self.target_rows
            and self.source_sha256 == self.target_sha256
            and self.bad_recordings == 0
        )


Progress = Callable[[str], None]
AfterBatch = Callable[[str, int], None]


def _canonical(value: Any) -> Any:
    """A value as both backends give it: flags as integers, bytes by their SHA-256."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest()}
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def row_bytes(row: Sequence[Any]) -> bytes:
    """One row as canonical JSON, the unit the checksums are made of."""
    return json.dumps([_canonical(v) for v in row], ensure_ascii=False).encode("utf-8")


def _sorted(table: Table, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of a grouped table in an order independent of the database's collation."""
    return sorted(rows, key=row_bytes) if table.grouped else rows


def _columns(source: Dumpable, target: Dumpable, table: str) -> list[str]:
    """The columns copied, always named: the source's, which the target must all
    have (a column only the target has takes its default), sorted by name, as
    their stored order differs between engines (SQLite's migrations add columns
    at the end) and the checksums must not."""
    ours, theirs = source.dump_columns(table), set(target.dump_columns(table))
    missing = [name for name in ours if name not in theirs]
    if missing:
        raise CopyError(
            f"table {table} of the target has no column {', '.join(missing)}: "
            "open both with the same Nordic Station version"
        )
    return sorted(ours)


def _is_empty(store: Dumpable) -> bool:
    return all(store.dump_max_key(t.name) is None for t in store.dump_tables())


def check_prefix(source: Dumpable, target: Dumpable) -> None:
    """Refuse a target holding anything but the start of this very source."""
    for table in source.dump_tables():
        last = target.dump_max_key(table.name)
        if last is None:
            continue
        columns = _columns(source, target, table.name)
        same = (
            source.dump_count(table.name, up_to=last) == target.dump_count(table.name)
            and _sorted(table, source.dump_rows_at(table.name, columns, last))
            == _sorted(table, target.dump_rows_at(table.name, columns, last))
            and _sorted(table, source.dump_rows(table.name, columns, None, 1))
            == _sorted(table, target.dump_rows(table.name, columns, None, 1))
        )
        if not same:
            raise CopyError(
                f"the target already holds another store (its {table.name} differ from the "
                "source's): copy into an empty folder or database"
            )


def copy_table(
    source: Dumpable,
    target: Dumpable,
    table: Table,
    *,
    batch_rows: int | None = None,
    progress: Progress | None = None,
    after_batch: AfterBatch | None = None,
) -> int:
    """Copy the rows of ``table`` after the target's largest key; returns how many."""
    columns = _columns(source, target, table.name)
    key_at = columns.index(table.key)
    after = target.dump_max_key(table.name)
    total = source.dump_count(table.name)
    done = target.dump_count(table.name)
    copied, started, shown = 0, time.monotonic(), time.monotonic()
    limit = min(batch_rows or table.batch_rows, table.batch_rows)
    while True:
        rows = source.dump_rows(table.name, columns, after, limit)
        if not rows:
            break
        target.load_rows(table.name, columns, rows)
        copied += len(rows)
        after = int(rows[-1][key_at])
        if after_batch is not None:
            after_batch(table.name, copied)
        now = time.monotonic()
        if progress is not None and now - shown >= PROGRESS_EVERY_S:
            shown = now
            progress(_rate_line(table.name, done + copied, total, copied, now - started))
    target.load_done(table.name)
    if progress is not None and copied:
        progress(_rate_line(table.name, done + copied, total, copied, time.monotonic() - started))
    return copied


def _rate_line(table: str, have: int, total: int, copied: int, seconds: float) -> str:
    rate = copied / seconds if seconds > 0 else float(copied)
    return f"{table}: {have:,}/{total:,} rows ({rate:,.0f} rows/s)"


def table_checksum(
    store: Dumpable, table: Table, columns: Sequence[str], check_recordings: bool = False
) -> tuple[int, str, int]:
    """Rows, SHA-256 over their canonical form in key order, and (for recordings)
    how many do not match their own SHA-256."""
    digest = hashlib.sha256()
    key_at = columns.index(table.key)
    rows_seen, bad, after = 0, 0, None
    while True:
        rows = store.dump_rows(table.name, columns, after, table.batch_rows)
        if not rows:
            break
        for row in _sorted(table, rows):
            digest.update(row_bytes(row) + b"\n")
            if check_recordings and not _recording_ok(columns, row):
                bad += 1
        rows_seen += len(rows)
        after = int(rows[-1][key_at])
    return rows_seen, digest.hexdigest(), bad


def _recording_ok(columns: Sequence[str], row: Sequence[Any]) -> bool:
    stated = str(row[columns.index("sha256")])
    if stated.startswith(ERASED_PREFIX):  # erased on request: nothing left to check
        return True
    return hashlib.sha256(bytes(row[columns.index("data")])).hexdigest() == stated


def absent_recordings(source: Dumpable) -> int:
    """How many recordings of ``source`` were pulled without their bytes (schema 9).

    Read by their small leading columns (an absent row has no bytes and is not an
    erased one), then the few candidates' flags: never every row's megabytes."""
    if "absent" not in source.dump_columns("recordings"):
        return 0
    count, after = 0, None
    while rows := source.dump_rows("recordings", ["id", "sha256", "size"], after, 10_000):
        for key, sha, size in rows:
            if size == 0 and not str(sha).startswith(ERASED_PREFIX):
                flag = source.dump_rows_at("recordings", ["absent"], int(key))
                count += bool(flag and flag[0][0])
        after = int(rows[-1][0])
    return count


def verify(
    source: Dumpable, target: Dumpable, progress: Progress | None = None
) -> list[TableCheck]:
    """Counts and checksums of every copied table (meta included) on both sides."""
    checks = []
    for table in source.dump_tables():
        started = time.monotonic()
        columns = _columns(source, target, table.name)
        recordings = table.name == "recordings"
        s_rows, s_sha, _ = table_checksum(source, table, columns)
        t_rows, t_sha, bad = table_checksum(target, table, columns, recordings)
        checks.append(TableCheck(table.name, s_rows, t_rows, s_sha, t_sha, bad))
        if progress is not None and s_rows + t_rows:
            seconds = time.monotonic() - started
            rows = f"{s_rows:,} row{'s' * (s_rows != 1)}"
            if t_rows != s_rows:
                rows += f", {t_rows:,} in the copy"
            progress(f"verified {table.name}: {rows} in {seconds:.1f} s")
    s_meta, t_meta = source.dump_meta(), target.dump_meta()
    checks.append(
        TableCheck(
            "meta",
            len(s_meta),
            len(t_meta),
            _digest_rows(s_meta),
            _digest_rows(t_meta),
        )
    )
    return checks


def _digest_rows(rows: Sequence[Sequence[Any]]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row_bytes(row) + b"\n")
    return digest.hexdigest()


def copy_store(
    source: Dumpable,
    target: Dumpable,
    *,
    batch_rows: int | None = None,
    progress: Progress | None = None,
    after_batch: AfterBatch | None = None,
) -> list[TableCheck]:
    """Copy (or finish copying) ``source`` into ``target`` and verify; see the module
    docstring.  Raises :class:`CopyError` when the target cannot take the copy or
    the verification finds a difference."""
    if source.schema_version != target.schema_version:
        raise CopyError(
            f"the source has schema {source.schema_version} and the target "
            f"{target.schema_version}: open both with the same Nordic Station version"
        )
    for table in source.dump_tables():  # before anything is written
        _columns(source, target, table.name)
    absent = absent_recordings(source)
    if absent:
        raise CopyError(
            f"the source holds {absent} raw recording(s) a joined station pulled without "
            "their bytes (they are on the clinic server): a copy would not be whole; fetch "
            "them first with 'nordic-station sync --recordings' in the source's data folder, "
            "then copy again"
        )
    if not _is_empty(target):
        check_prefix(source, target)
        log.info("target holds the start of the source: resuming the copy")
    target.load_meta(source.dump_meta())
    for table in source.dump_tables():
        copied = copy_table(
            source,
            target,
            table,
            batch_rows=batch_rows,
            progress=progress,
            after_batch=after_batch,
        )
        log.info("copied %d rows of %s", copied, table.name)
    if progress is not None:
        progress("verifying: counts and checksums of every table")
    checks = verify(source, target, progress)
    bad = [check.table for check in checks if not check.ok]
    if bad:
        raise CopyError(
            f"the copy does not match its source in {', '.join(bad)} (was the source "
            "changed during the copy?): copy again into an empty target",
            checks=checks,
        )
    return checks


def rows_left_out(source: Dumpable) -> dict[str, int]:
    """Rows of the tables a copy leaves out (tests in progress), by table."""
    counts = {name: source.dump_count(name) for name in NOT_COPIED}
    return {name: n for name, n in counts.items() if n}


def sqlite_location(location: str) -> Path | None:
    """The database file a location names, when it is SQLite (a folder or
    ``sqlite:///FILE``, as ``--database`` takes them); None for a server URL."""
    try:
        chosen = database_choice.parse(location)
    except database_choice.LocationError as exc:
        raise CopyError(str(exc)) from None
    if chosen.kind == "postgresql":
        return None
    assert chosen.path is not None
    return paths.database_path(chosen.path) if chosen.kind == "folder" else chosen.path


def open_location(location: str, *, create: bool) -> Dumpable:
    """Open a store by location through the normal opening (migrating it; a new
    SQLite target or server schema is created).  A source (``create=False``)
    must exist: an empty server database is refused rather than given a schema."""
    database = sqlite_location(location)
    if database is None:
        return _open_server(location, create)
    if not create and not database.is_file():
        raise CopyError(f"no Nordic Station database at {database}: check the FROM location")
    if database.exists() and not database.is_file():
        raise CopyError(f"{database} is not a file: name a data folder or a database file")
    folder = database.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise CopyError(f"cannot create folder {folder}: {exc.strerror or exc}") from None
    from station.store.sqlite import SqliteStore

    return SqliteStore(database, paths.backups_dir(folder))


def _open_server(location: str, create: bool) -> Dumpable:
    from station.store.postgres import PostgresStore
    from station.store.postgres.opening import probe

    if not create and probe(location) is None:
        raise CopyError(
            f"no Nordic Station database at {database_choice.masked(location)}: "
            "check the FROM location"
        )
    return PostgresStore(location)
