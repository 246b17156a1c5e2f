"""What the app's status bar says about the sync: "synced", "n waiting" or "offline"
("joined, never synced: n waiting" until a joined station's first sync finishes).

Plain Python (no Qt): the app calls :func:`sync_status` off its GUI thread.
"Offline" means the server does not answer now (when ``probe`` is asked),
else that the last sync failed since the last one that finished.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from station import paths
from station.store.sync import state

PROBE_TIMEOUT_S = 3


@dataclass(frozen=True)
class SyncStatus:
    joined: bool
    waiting: int
    online: bool
    last_sync: str | None
    error: str | None

    @property
    def text(self) -> str:
        if not self.joined:
            return "not joined"
        if not self.online:
            return "offline"
        if self.last_sync is None:  # nothing went either way yet: not "synced"
            return f"joined, never synced: {self.waiting} waiting"
        return "synced" if self.waiting == 0 else f"{self.waiting} waiting"

    @property
    def synced(self) -> bool:
        """Whether everything here is on the server as of the last sync."""
        return self.text == "synced"


def _reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=PROBE_TIMEOUT_S, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def sync_status(folder: Path, *, probe: bool = False) -> SyncStatus:
    """The sync's state of the data folder; ``probe`` also asks the server whether it answers."""
    if not paths.database_path(folder).exists():
        return SyncStatus(False, 0, False, None, None)
    try:
        with closing(state.connect(folder)) as conn:
            link = state.link(conn)
            if link is None:
                return SyncStatus(False, 0, False, None, None)
            waiting = state.waiting(conn)
            finished, error = state.last_log(conn)
    except sqlite3.Error as exc:
        return SyncStatus(True, 0, False, None, f"the station's database: {exc}")
    # A sync refused for another reason (a team not allowed) is not "offline".
    online = _reachable(link.url) if probe else error is None
    return SyncStatus(True, waiting, online, finished, error)
