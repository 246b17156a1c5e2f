"""Erasing an athlete from an SQLite file and from every backup copy of it.

The rows are erased by the shared :func:`station.store.sql.erasure.erase_rows`
(with ``secure_delete`` on, so freed pages are zeroed); :func:`compact` then
rewrites the file (VACUUM) and empties its write-ahead log, so the old bytes
are not left in free pages or in the log.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from firmware_bridge.errors import DiskFullError
from station.store.sql.erasure import Erased, erase_and_audit, erase_rows, log_erased
from station.store.sqlite.connection import Connection
from station.store.sqlite.dialect import SQLITE
from station.store.validate import now_utc

log = logging.getLogger(__name__)


def compact(conn: sqlite3.Connection) -> bool:
    """Rewrite the file without free pages and empty its write-ahead log; False when
    another connection kept part of the old log alive."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def erase_in_file(path: Path, athlete_id: int, erased_at: str) -> Erased:
    """Erase the athlete from another copy of the database (a backup)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            outcome = erase_rows(conn, SQLITE, athlete_id, erased_at)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        outcome.compacted = compact(conn)
    finally:
        conn.close()
    return outcome


class Erasure(Connection):
    def erase_athlete(self, athlete_id: int, reason: str, actor: str) -> Erased:
        """Erase an athlete here and in every backup; the audit keeps that it
        happened (who, when, why), never what was erased."""
        at = now_utc()
        with self._lock:
            self._conn.execute("PRAGMA secure_delete = ON")
            try:
                with self._write() as conn:
                    outcome = erase_and_audit(conn, SQLITE, athlete_id, reason, actor, at)
                try:
                    with self._errors():
                        outcome.compacted = compact(self._conn)
                except DiskFullError:
                    raise DiskFullError(
                        f"athlete {athlete_id} was erased in the database, but the disk is too "
                        "full to rewrite the file, so old copies may remain in its free space "
                        "and in its backups: free some space and run the erase again to finish"
                    ) from None
            finally:
                self._conn.execute("PRAGMA secure_delete = OFF")
        for backup in sorted(self.backups.glob("*.sqlite3")) if self.backups.is_dir() else []:
            copy = erase_in_file(backup, athlete_id, at)
            outcome.compacted = outcome.compacted and copy.compacted
            log.info("athlete %d erased from backup %s", athlete_id, backup.name)
        log_erased(outcome)
        return outcome
