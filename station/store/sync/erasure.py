"""An erasure made on the server reaches this station's copy at its next pull.

The server's athlete row says it was erased (``erased_at``); the station then
erases its own copy through its store (name, birth date, notes, free text,
raw recordings, redacted audit entries: the same rules as ``athlete erase``),
and marks its own "erase" entry as already on the server,
so the erasure is not sent back as a second one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from station.store.sync import state
from station.store.sync.push import local_tx

log = logging.getLogger(__name__)

REASON = "erased on the clinic's server"


def erase_athlete(store: Any, athlete_id: int) -> None:
    """The store's own erasure, as if the clinic's administrator had erased here."""
    store.erasure.erase(athlete_id, REASON, by="sync")


def erase_here(folder: Path, conn: sqlite3.Connection, uuids: Sequence[str]) -> int:
    """Erase this station's copies of these athletes (those not erased yet); returns how many."""
    from station.store.store import Store

    done = 0
    for uuid in uuids:
        row = conn.execute("SELECT id, erased_at FROM athletes WHERE uuid = ?", (uuid,)).fetchone()
        if row is None or row[1] is not None:
            continue
        with Store.open(folder, actor="sync") as store:
            erase_athlete(store, row[0])
        with local_tx(conn):
            entries = conn.execute(
                "SELECT uuid FROM audit_log WHERE entity = 'athlete' AND entity_id = ? "
                "AND action = 'erase'",
                (row[0],),
            ).fetchall()
            state.mark_known(conn, "audit_log", [entry[0] for entry in entries])
        log.info("athlete %d erased here, as on the server", row[0])
        done += 1
    return done
