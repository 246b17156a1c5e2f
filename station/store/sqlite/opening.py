"""Opening the database file: refuse what is not ours, set it up, upgrade it.

The file is checked before anything is written to it: a file of another
program, a damaged file or one from a newer version is refused and left
untouched.  An upgrade runs in one transaction after a backup copy is taken.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from station.store import schema
from station.store.errors import DatabaseFileError
from station.store.sqlite.checkpoint import BUSY_TIMEOUT_MS
from station.store.validate import now_utc

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
MIN_SQLITE = (3, 35, 0)  # ALTER TABLE DROP COLUMN, used by migration 2


def check_sqlite_version() -> None:
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise DatabaseFileError(
            f"SQLite {sqlite3.sqlite_version} is too old: Nordic Station needs 3.35 or newer"
        )


def create_owner_only(path: Path) -> None:
    """Create an empty file readable by its owner only; never truncates an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def connect(path: Path) -> sqlite3.Connection:
    """A connection to ``path`` (created owner-only if missing), refusing a non-SQLite file."""
    if path.exists():
        if not path.is_file():
            raise DatabaseFileError(f"{path} is not a file: pass another --data-dir")
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
        if head and head != SQLITE_HEADER[: len(head)]:
            raise DatabaseFileError(
                f"{path} is not a Nordic Station database (not an SQLite file); "
                "it was left untouched: move it away or pass another --data-dir"
            )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        # FileExistsError: another process created it first, so open theirs.
        with contextlib.suppress(FileExistsError):
            create_owner_only(path)
    uri = path.absolute().as_uri() + "?mode=rw"
    try:
        conn = sqlite3.connect(
            uri,
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
    except sqlite3.Error as exc:
        raise DatabaseFileError(f"cannot open database {path}: {exc}") from None
    return conn


def configure(conn: sqlite3.Connection, path: Path) -> int:
    """Check the file is ours and set the connection up; returns its schema version.

    WAL journal (readers never block the writer; a crash leaves the last
    committed transaction intact), ``synchronous=FULL`` (a commit is on disk
    before it returns), foreign keys on, automatic checkpoints off (see
    :mod:`station.store.sqlite.checkpoint`).
    """
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(
            f"{path} is not a usable database ({exc}); it was left untouched: "
            "restore it from a backup or pass another --data-dir"
        ) from None
    fresh = app_id == 0 and version == 0 and not tables
    if not fresh and app_id != schema.APPLICATION_ID:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise DatabaseFileError(
            f"{path} is an SQLite database of another program (tables: "
            f"{shown or 'none'}); "
            "it was left untouched: pass another --data-dir"
        )
    if version > schema.CURRENT_VERSION:
        raise DatabaseFileError(
            f"{path} was written by a newer Nordic Station (schema {version}, this "
            f"version knows up to {schema.CURRENT_VERSION}): install the newer version"
        )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise DatabaseFileError(
            f"cannot use write-ahead logging on {path} (got {mode!r}): "
            "keep the data folder on a local disk"
        )
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    return version


def migrate(conn: sqlite3.Connection, path: Path, backups: Path) -> tuple[int | None, Path | None]:
    """Upgrade to the current schema in one transaction (the caller holds the lock).

    Returns the version upgraded from (None for a new file) and the backup
    copy taken first.
    """
    migrated_from: int | None = None
    backup_path: Path | None = None
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < schema.CURRENT_VERSION:
            if version > 0:
                backup_path = backup(path, backups, version)
            log.info(
                "upgrading the database from schema %d to %d (backup %s)",
                version,
                schema.CURRENT_VERSION,
                None if backup_path is None else backup_path.name,
            )
            schema.apply(conn, version)
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise DatabaseFileError(
                    f"upgrading {path} from schema {version} would break "
                    f"{len(problems)} references; nothing was changed"
                )
            migrated_from = version if version > 0 else None
        conn.execute("COMMIT")
        if migrated_from is not None:
            log.info("database upgraded from schema %d", migrated_from)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return migrated_from, backup_path


def backup(path: Path, backups: Path, version: int) -> Path:
    """Copy the database before upgrading it (kept in backups/, owner-only).

    Called while this connection holds the write lock, so the copy is read
    through a second connection: in WAL mode a reader sees the last
    committed state, i.e. the database exactly as the old version left it.
    """
    backups.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = now_utc().replace(":", "").replace("-", "").replace(".", "")
    target = backups / f"{path.stem}-schema{version}-{stamp}.sqlite3"
    create_owner_only(target)
    source = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    return target
