"""Raw recordings on demand: pulled tests arrive without their bytes, fetched when needed.

A pull stores each test's recording row with its real SHA-256 and kind but no
bytes (``absent``, schema 9): results, curves, history and team views need no
more, and a recording is often megabytes.  :func:`fetch_recordings` reads the
bytes from the server later (all the station's absent ones, some tests', or an
athlete's), checks each against its SHA-256 before anything is written, and
fills the rows a batch per local transaction: a fetch killed at any point
leaves every row either whole or still absent, never half there.  The schema
allows no other change to a recording (a trigger), and pushing never sends an
absent row's empty bytes (:func:`present_and_absent`).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station import paths
from station.store.sql.recorded_tests import ERASED_PREFIX, fill_recording
from station.store.sql.rows import sha256
from station.store.sync import hooks, state
from station.store.sync.db import Db, chunks, insert_rows, lookup, marks
from station.store.sync.errors import SyncError
from station.store.sync.rows import copy_rows
from station.store.sync.tables import RECORDINGS

log = logging.getLogger(__name__)

FETCH_BATCH_BYTES = 32 << 20  # bytes filled per local transaction (at least one recording)


@dataclass
class FetchReport:
    fetched: int = 0
    bytes: int = 0
    not_on_server: int = 0  # erased there, or no longer visible to this login

    def line(self) -> str:
        """e.g. ``fetched 3 raw recordings (12.4 MB)`` (kB below 0.1 MB)."""
        text = f"fetched {self.fetched} raw recording{'s' if self.fetched != 1 else ''}"
        if self.fetched:
            amount = self.bytes / 1e6
            text += f" ({amount:.1f} MB)" if amount >= 0.1 else f" ({self.bytes / 1e3:.0f} kB)"
        if self.not_on_server:
            text += (
                f"; {self.not_on_server} not on the server (erased, or not visible to this login)"
            )
        return text


def can_be_absent(local: Db) -> bool:
    """Whether the station's file is at schema 9 or later (else pulls copy the bytes)."""
    return "absent" in local.columns("recordings")


def pull_without_bytes(server: Db, local: Db, shas: Sequence[str]) -> list[str]:
    """Store the recording rows of these SHA-256s as the server has them, minus their
    bytes (in the caller's transactions); returns those the station lacked.  A file
    of an older schema gets the bytes, as before schema 9."""
    if not can_be_absent(local):
        return copy_rows(server, local, RECORDINGS, shas)
    present = lookup(local, "recordings", "sha256", "id", shas)
    wanted = [sha for sha in dict.fromkeys(shas) if sha not in present]
    rows: list[dict[str, Any]] = []
    for part in chunks(wanted):
        for sha, kind, stored_at in server.all(
            f"SELECT sha256, kind, stored_at FROM recordings WHERE sha256 IN ({marks(len(part))})",
            list(part),
        ):
            erased = str(sha).startswith(ERASED_PREFIX)  # nothing left to fetch, ever
            rows.append(
                {
                    "sha256": sha,
                    "size": 0,
                    "kind": kind,
                    "stored_at": stored_at,
                    "data": b"",
                    "absent": 0 if erased else 1,
                }
            )
    insert_rows(local, "recordings", rows)
    return [row["sha256"] for row in rows]


def present_and_absent(local: Db, shas: Sequence[str]) -> tuple[list[str], list[str]]:
    """These recordings split into those whose bytes are here and those still absent
    (which a push never sends: their bytes are empty)."""
    if not can_be_absent(local):
        return list(shas), []
    absent: set[str] = set()
    for part in chunks(list(shas)):
        absent.update(
            row[0]
            for row in local.all(
                f"SELECT sha256 FROM recordings WHERE absent = 1 AND sha256 IN "
                f"({marks(len(part))})",
                list(part),
            )
        )
    return [s for s in shas if s not in absent], [s for s in shas if s in absent]


def require_on_server(server: Db, absent: Sequence[str]) -> None:
    """Refuse to send tests whose recording is absent here unless the server holds it."""
    if not absent:
        return
    there = lookup(server, "recordings", "sha256", "id", absent)
    lost = [sha for sha in absent if sha not in there]
    if lost:
        raise SyncError(
            f"{len(lost)} test(s) to send have a raw recording this station pulled without "
            "its bytes, and the server no longer has it: they were not sent",
            hint="run 'nordic-station store check'; tell the clinic's administrator",
        )


def absent_here(
    conn: sqlite3.Connection,
    test_ids: Sequence[int] | None = None,
    athlete_id: int | None = None,
) -> list[tuple[int, str]]:
    """(recording id, SHA-256) of the absent recordings of these tests, of this athlete's
    tests, or of every test; oldest first."""
    sql = (
        "SELECT DISTINCT r.id, r.sha256 FROM recordings r JOIN tests t ON t.recording_id = r.id "
        "WHERE r.absent = 1 AND r.sha256 NOT LIKE ?"
    )
    params: list[Any] = [f"{ERASED_PREFIX}%"]
    if athlete_id is not None:
        sql += " AND t.athlete_id = ?"
        params.append(int(athlete_id))
    found: dict[int, str] = {}
    if test_ids is None:
        found.update(conn.execute(sql + " ORDER BY r.id", params).fetchall())
    else:
        for part in chunks(list(test_ids)):
            found.update(
                conn.execute(
                    sql + f" AND t.id IN ({marks(len(part))}) ORDER BY r.id",
                    [*params, *(int(i) for i in part)],
                ).fetchall()
            )
    return sorted(found.items())


def _read(server: Any, wanted: Sequence[tuple[int, str]]) -> dict[str, bytes]:
    """The server's bytes of these recordings (those it shows this login), each checked."""
    from station.store.sync.db import ServerDb

    sdb = ServerDb(server)
    shas = [sha for _, sha in wanted]
    with server.transaction():
        rows = sdb.all(
            f"SELECT sha256, data FROM recordings WHERE sha256 IN ({marks(len(shas))})", shas
        )
    got: dict[str, bytes] = {}
    for sha, data in rows:
        data = bytes(data)
        if not data or sha256(data) != sha:
            raise SyncError(
                f"the server's raw recording {sha[:12]}... does not match its checksum: "
                "it was refused and nothing of it was stored here",
                hint="tell the clinic's administrator: the server's copy is damaged "
                "('nordic-station store check' on the server)",
            )
        got[sha] = data
    return got


def _batches(server: Any, wanted: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """``wanted`` in batches of at most FETCH_BATCH_BYTES (by the server's sizes) and as
    many recordings as a sync's batch of tests, so a fetch of every recording never
    holds them all in memory."""
    from station.store.sync.db import ServerDb

    sdb = ServerDb(server)
    sizes: dict[str, int] = {}
    with server.transaction():
        for part in chunks([sha for _, sha in wanted]):
            sizes.update(
                (row[0], int(row[1]))
                for row in sdb.all(
                    f"SELECT sha256, size FROM recordings WHERE sha256 IN ({marks(len(part))})",
                    list(part),
                )
            )
    batches: list[list[tuple[int, str]]] = []
    batch: list[tuple[int, str]] = []
    held, most = 0, hooks.test_batch()
    for item in wanted:
        size = sizes.get(item[1], 0)
        if batch and (held + size > FETCH_BATCH_BYTES or len(batch) >= most):
            batches.append(batch)
            batch, held = [], 0
        batch.append(item)
        held += size
    if batch:
        batches.append(batch)
    return batches


def fetch_recordings(
    folder: Path | None,
    test_ids: Sequence[int] | None = None,
    *,
    athlete_id: int | None = None,
) -> FetchReport:
    """Fetch from the joined server the raw recordings still absent here: of ``test_ids``,
    of ``athlete_id``'s tests, or (neither given) of every test; returns what came."""
    from station.store.sync.push import local_tx
    from station.store.sync.run import _server, linked_url, server_identity

    folder = paths.ensure_data_dir(folder)
    url = linked_url(folder)
    report = FetchReport()
    with closing(state.connect(folder)) as conn:
        link = state.link(conn)
        assert link is not None
        if "absent" not in {row[1] for row in conn.execute("PRAGMA table_info(recordings)")}:
            return report  # a file older than schema 9 holds every recording's bytes
        wanted = absent_here(conn, test_ids, athlete_id)
        if not wanted:
            return report
        with _server(url) as server:
            if server_identity(server) != link.server_id:
                raise SyncError(
                    f"the database at {link.url} is not the one this station joined",
                    hint="join again with 'nordic-station station join URL' in a new data folder",
                )
            for batch in _batches(server, wanted):
                got = _read(server, batch)
                report.not_on_server += sum(1 for _, sha in batch if sha not in got)
                with local_tx(conn):
                    for recording_id, sha in batch:
                        data = got.get(sha)
                        if data is not None and fill_recording(conn, recording_id, sha, data):
                            report.fetched += 1
                            report.bytes += len(data)
                    hooks.pause("in", "fetch")
                hooks.pause("after", "fetch")
    log.info("fetched %d raw recording(s), %d bytes", report.fetched, report.bytes)
    return report
