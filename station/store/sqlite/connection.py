"""The one connection of a :class:`SqliteStore` and the transactions made on it.

Every public backend method runs inside :meth:`Connection._write` (one
``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error, so a failure
leaves nothing half-written), :meth:`Connection._read` (one snapshot for
reads of several statements) or a single statement under the lock.  SQLite's
errors are turned into the store's own here, once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from firmware_bridge.errors import DiskFullError
from station.store import schema
from station.store.errors import DatabaseFileError, DuplicateError, StoreError
from station.store.sql.base import Transactions
from station.store.sqlite import opening
from station.store.sqlite.checkpoint import BUSY_TIMEOUT_MS, Checkpointer
from station.store.sqlite.dialect import SQLITE

SQLITE_FULL = 13


class Connection(Transactions):
    """Opens (and if needed upgrades) the file and runs transactions on it.

    Thread-safe: one connection guarded by a lock, so the app may call it from
    its acquisition worker and its GUI thread.
    """

    dialect = SQLITE

    def __init__(self, path: str | os.PathLike[str], backups: str | os.PathLike[str] | None = None):
        opening.check_sqlite_version()
        self.path = Path(path)
        self.location = str(self.path)
        self.backups = Path(backups) if backups else self.path.parent / "backups"
        self._lock = threading.RLock()
        self._conn = opening.connect(self.path)
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None
        try:
            with self._errors():  # a full disk or a damaged file: one clear error
                self._prepare()
        except BaseException:
            self._conn.close()
            raise

    def _prepare(self) -> None:
        version = opening.configure(self._conn, self.path)
        if version < schema.CURRENT_VERSION:
            with self._lock:
                self.migrated_from, self.backup_path = opening.migrate(
                    self._conn, self.path, self.backups
                )
        self._checkpointer = Checkpointer(self.path)
        # OSError: a file we may use but do not own; its mode is its owner's choice.
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            self._checkpointer.stop()
            with contextlib.suppress(sqlite3.Error):  # the next open checkpoints instead
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._conn.close()
            self._conn = None  # type: ignore[assignment]

    def checkpoint(self) -> None:
        """Fold the whole write-ahead log into the database file now (waits for it).

        SQLite answers "busy" at once, doing nothing, while the background
        checkpointer holds the checkpoint lock: ask again until it is done."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        with self._lock, self._errors():
            while True:
                busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy or time.monotonic() > deadline:
                    return
                time.sleep(0.005)

    def integrity_check(self) -> list[str]:
        """SQLite's full check of the file; an empty list means no problem found."""
        with self._lock, self._errors():
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
            keys = self._conn.execute("PRAGMA foreign_key_check").fetchall()
        problems = [row[0] for row in rows if row[0] != "ok"]
        problems += [f"broken reference: {row}" for row in keys]
        return problems

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def pseudonym_secret(self) -> bytes:
        row = self._one("SELECT value FROM meta WHERE key = 'pseudonym_secret'")
        if row is None:
            raise DatabaseFileError(
                f"{self.path} has no pseudonym secret: restore it from a backup"
            )
        return bytes(row[0])

    # -- transactions ---------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            text = str(exc)
            if "athletes.external_id" in text:
                raise DuplicateError(
                    "that external id is already used by another athlete"
                ) from None
            raise StoreError(f"refused by the database: {text}") from None
        except sqlite3.OperationalError as exc:
            if "full" in str(exc) or getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
                raise DiskFullError(
                    f"the disk holding {self.path.parent} is full: this change was not saved "
                    "and the database is kept as it was before it"
                ) from None
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    "the database is busy (another Nordic Station is writing): try again"
                ) from None
            raise
        except sqlite3.DatabaseError as exc:
            if type(exc) is sqlite3.DatabaseError:
                raise DatabaseFileError(
                    f"database {self.path} is damaged ({exc}): restore it from a backup"
                ) from None
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # SQLite ends it itself on some errors (disk full)
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self._checkpointer.poke()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for reads made of several statements."""
        with self._lock, self._errors():
            conn = self._conn
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Any] | None:
        """The first row of one read statement (None when there is none)."""
        with self._lock, self._errors():
            return self._conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        """Every row of one read statement."""
        with self._lock, self._errors():
            return self._conn.execute(sql, params).fetchall()
