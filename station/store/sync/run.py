"""Joining a data folder to a server, and one sync: push, then pull.

The server's address is kept without its password (libpq's ``PGPASSWORD``
or ``~/.pgpass`` give it at each sync); the server's identity (its
database's creation instant and random secret's digest) is kept with it, so
a folder never syncs into another clinic's database under the same address.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station import paths
from station.store.database_choice import without_password
from station.store.sync import state
from station.store.sync.errors import NotJoinedError, SyncError
from station.store.sync.pull import Puller
from station.store.sync.push import Pusher, local_tx

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5


@dataclass
class SyncReport:
    sent: Counter[str] = field(default_factory=Counter)
    received: Counter[str] = field(default_factory=Counter)
    waiting: int = 0
    bytes_sent: int = 0

    def line(self) -> str:
        """e.g. ``sent 12 tests, 1 athlete; received 1 test; 0 waiting``."""
        line = (
            f"sent {_counts(self.sent)}; received {_counts(self.received)}; {self.waiting} waiting"
        )
        held = self.sent.get(HELD, 0)
        if held:
            line += (
                " (1 athlete of a team this login may not write stays here)"
                if held == 1
                else f" ({held} athletes of teams this login may not write stay here)"
            )
        return line


HELD = "held back (team not allowed)"
# What each counter of a report is called: one, several.
NOUNS = {
    "certificates": ("certificate", "certificates"),
    "verifications": ("verification", "verifications"),
    "athletes": ("athlete", "athletes"),
    "body_mass": ("body mass entry", "body mass entries"),
    "injuries": ("injury", "injuries"),
    "tests": ("test", "tests"),
    "athlete changes": ("athlete change", "athlete changes"),
    "test changes": ("test change", "test changes"),
    "erasures": ("erasure", "erasures"),
}


def counted(n: int, name: str) -> str:
    """``1 test``, ``2 tests``: a count with its noun in the right number."""
    one, many = NOUNS.get(name, (name.replace("_", " "),) * 2)
    return f"{n} {one if n == 1 else many}"


def _counts(counts: Counter[str]) -> str:
    shown = [(name, n) for name, n in counts.items() if n and name not in ("audit entries", HELD)]
    if not shown:
        return "nothing"
    return ", ".join(counted(n, name) for name, n in shown)


def _prepare_store(folder: Path) -> None:
    """Make (or upgrade) the station's database through the store, which owns its schema."""
    from station.store.store import Store

    Store.open(folder).close()


@contextmanager
def _local(folder: Path) -> Iterator[sqlite3.Connection]:
    with closing(state.connect(folder)) as conn:
        yield conn


@contextmanager
def _server(url: str) -> Iterator[Any]:
    import psycopg

    from station.store.postgres.errors import connect_error
    from station.store.postgres.url import server_of

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        raise connect_error(server_of(url), exc) from None
    try:
        yield conn
    except psycopg.OperationalError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost"
        raise SyncError(
            f"the connection to {server_of(url)} was lost during the sync ({detail}); what "
            "was committed is kept",
            hint="run 'nordic-station sync' again when the server is back",
        ) from None
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SyncError(
            f"the server refused the sync: {detail}",
            hint="check this login may write the teams of this station's athletes",
        ) from None
    finally:
        conn.close()


def server_identity(conn: Any) -> str:
    rows = dict(conn.execute("SELECT key, value FROM meta WHERE key = 'created_at'").fetchall())
    created = bytes(rows.get("created_at", b"")).decode("ascii", "replace")
    return hashlib.sha256(created.encode()).hexdigest()[:16]


def join(folder: Path, url: str) -> str:
    """Tie ``folder`` to the server at ``url`` (its schema made if new); returns the
    address kept (without password)."""
    from station.store.postgres import opening

    folder = paths.ensure_data_dir(folder)
    _prepare_store(folder)
    opening.prepare(url)
    with _server(url) as server:
        identity = server_identity(server)
    kept = without_password(url)
    with _local(folder) as conn, local_tx(conn):
        state.prepare(conn)
        old = state.link(conn)
        if old is not None and old.server_id != identity:
            raise SyncError(
                f"this data folder is joined to another server ({old.url})",
                hint="use another --data-dir for this server",
            )
        state.set_link(conn, kept, identity)
        state.clear_marks(conn)  # perhaps another login: the first pull lists everything
    log.info("joined %s", kept)
    return kept


def linked_url(folder: Path) -> str:
    with _local(folder) as conn:
        found = state.link(conn)
    if found is None:
        raise NotJoinedError()
    return found.url


def sync_now(folder: Path, *, push_only: bool = False, full: bool = False) -> SyncReport:
    """Push this station's new and changed records, then pull the server's (``full``:
    list every table whole, not only the rows above this station's marks)."""
    folder = paths.ensure_data_dir(folder)
    url = linked_url(folder)
    report = SyncReport()
    with _local(folder) as conn:
        link = state.link(conn)
        assert link is not None
        state.prepare(conn)  # a folder joined by an older version lacks the newer tables
        try:
            with _server(url) as server:
                if server_identity(server) != link.server_id:
                    raise SyncError(
                        f"the database at {link.url} is not the one this station joined",
                        hint="join again with 'nordic-station station join URL' "
                        "in a new data folder",
                    )
                pusher = Pusher(conn, server)
                report.sent = pusher.run()
                report.bytes_sent = pusher.sdb.sent_bytes
                if not push_only:
                    report.received = Puller(conn, server, folder).run(full=full)
        except Exception as exc:
            with local_tx(conn):
                state.log_result(conn, str(exc).splitlines()[0] if str(exc) else repr(exc))
            raise
        report.waiting = state.waiting(conn)
        with local_tx(conn):
            state.log_result(conn, None)
    return report
