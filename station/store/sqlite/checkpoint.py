"""Folding the write-ahead log into the database file, off the save path.

Checkpoints run on a background thread once the log passes
:data:`CHECKPOINT_AFTER_BYTES`, so a commit only pays for its own fsync: a
10-minute 1 kHz test writes ~15 MB, and folding that in on the committing
thread would double the time a save takes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_AFTER_BYTES = 4 << 20


class Checkpointer:
    """Checkpoints the WAL from its own thread and connection when it has grown.

    A checkpoint is crash-safe at any point (SQLite's design), so a process
    that exits mid-way loses nothing; the next open finishes the job.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wal = path.with_name(path.name + "-wal")
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        try:
            size = self.wal.stat().st_size
        except OSError:
            return
        if size < CHECKPOINT_AFTER_BYTES:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="store-checkpoint", daemon=True)
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        conn = sqlite3.connect(
            self.path.absolute().as_uri() + "?mode=rw", uri=True, isolation_level=None
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                with contextlib.suppress(sqlite3.Error):  # retried after the next commit
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        # A Ctrl-C inside poke()'s start() leaves a thread that never started: no join.
        if self._thread is not None and self._thread.is_alive():
            self._thread.join()
