"""Pull: the server's records of the teams this login may see that the station lacks.

The server's row-level security decides what is visible: the station asks
for everything and gets what its user may see.  Each batch is read in one
repeatable-read snapshot and stored locally in one transaction together with
its marks, so a kill at any point leaves the batch all there or not at all;
the next pull asks again for what is missing (by key), never for a record
twice.  A routine pull lists only the rows above each table's mark
(:mod:`.listing`).  A test's raw recording arrives without its bytes (the row,
its SHA-256 and kind: "absent"), so history and team views work offline on
results alone; the bytes are fetched on demand (:mod:`.recordings`,
``sync --recordings``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from station.store.sync import hooks, state
from station.store.sync.changes import apply_tests, merge_athletes, test_aspects
from station.store.sync.db import Db, LocalDb, ServerDb, chunks, lookup, marks
from station.store.sync.erasure import erase_here
from station.store.sync.listing import Listing, base_table, list_rows
from station.store.sync.push import local_tx
from station.store.sync.recordings import pull_without_bytes
from station.store.sync.rows import copy_audit, copy_children, copy_rows
from station.store.sync.tables import AUDIT_ENTITIES, BEFORE_TESTS, RESULTS, TESTS

log = logging.getLogger(__name__)

SMALL_BATCH = 500


def missing(
    server: Db, local: sqlite3.Connection, table: str, key: str = "uuid", where: str = "",
    full: bool = False,
) -> Listing:  # fmt: skip
    """The keys the server shows and the station lacks, in the server's id order: of the
    rows above the table's mark, or of all of them when a full scan is due (.listing)."""
    return list_rows(server, local, table, key, where, full)


class Puller:
    def __init__(self, local: sqlite3.Connection, server: Any, folder: Path) -> None:
        self.folder = folder
        self.local = local
        self.server = server
        self.ldb = LocalDb(local)
        self.sdb = ServerDb(server)
        self.received: Counter[str] = Counter()
        self.fresh: set[str] = set()

    @contextmanager
    def _both(self) -> Any:
        """One server snapshot read inside one local write transaction.  Not READ ONLY:
        the audited views must be able to write their "read" rows (audit.py)."""
        with self.server.transaction():
            self.sdb.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            with local_tx(self.local):
                yield

    @contextmanager
    def _snapshot(self) -> Any:
        """One server snapshot for listing keys (base tables only: nothing audited)."""
        with self.server.transaction():
            self.sdb.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def _finish(self, listing: Listing) -> None:
        """The mark past the rows this station held already (none came in a batch)."""
        with local_tx(self.local):
            listing.save(self.local)

    def run(self, full: bool = False) -> Counter[str]:
        """Pull what the server shows and this station lacks; ``full`` lists every table
        whole instead of the rows above its mark."""
        for table in BEFORE_TESTS:
            with self._snapshot():
                listing = missing(self.sdb, self.local, table.name, table.key, full=full)
            for part in chunks(listing.missing, SMALL_BATCH):
                with self._both():
                    got = copy_rows(self.sdb, self.ldb, table, part)
                    state.mark_known(self.local, table.name, part)
                    listing.save(self.local, part)
                self.received[table.name] += len(got)
            self._finish(listing)
        with self._snapshot():
            tests = missing(self.sdb, self.local, "tests", full=full)
            entries = missing(self.sdb, self.local, "audit_log", where=_AUDITED, full=full)
        for part in chunks(tests.missing, hooks.test_batch()):
            with self._both():
                self._pull_tests(part)
                tests.save(self.local, part)
                hooks.pause("in", "pull")
            hooks.pause("after", "pull")
        self._finish(tests)
        for part in chunks(entries.missing, SMALL_BATCH):
            with self._both():
                self._pull_changes(part)
                copy_audit(self.sdb, self.ldb, part)
                state.mark_known(self.local, "audit_log", part)
                entries.save(self.local, part)
        self._finish(entries)
        # Asked of the server's athletes, not of its new audit entries: a pull killed
        # after storing an "erase" entry still erases at the next one.
        self.received["erasures"] += erase_here(self.folder, self.local, self._erased_not_here())
        return self.received

    def _erased_not_here(self) -> list[str]:
        with self.server.transaction():
            athletes = base_table(self.sdb, "athletes")  # uuids only: not an audited read
            there = {row[0] for row in self.sdb.all(
                f"SELECT uuid FROM {athletes} WHERE erased_at IS NOT NULL"
            )}  # fmt: skip
        here = self.ldb.all("SELECT uuid FROM athletes WHERE erased_at IS NULL")
        return [row[0] for row in here if row[0] in there]

    def _pull_tests(self, uuids: Sequence[str]) -> None:
        shas = [
            row[0]
            for row in self.sdb.all(
                "SELECT r.sha256 FROM tests t JOIN recordings r ON r.id = t.recording_id "
                f"WHERE t.uuid IN ({marks(len(uuids))})",
                list(uuids),
            )
        ]
        runs = [
            row[0]
            for row in self.sdb.all(
                "SELECT r.uuid FROM results r JOIN tests t ON t.id = r.test_id "
                f"WHERE t.uuid IN ({marks(len(uuids))}) ORDER BY r.id",
                list(uuids),
            )
        ]
        pull_without_bytes(self.sdb, self.ldb, shas)
        got = copy_rows(self.sdb, self.ldb, TESTS, uuids)
        added = copy_rows(self.sdb, self.ldb, RESULTS, runs, force={"is_current": 0})
        copy_children(self.sdb, self.ldb, "curves", "results", "result_id", added)
        apply_tests(self.sdb, self.ldb, uuids)
        state.mark_known(self.local, "tests", uuids)
        state.mark_known(self.local, "results", runs)
        self.received["tests"] += len(got)
        self.fresh.update(uuids)

    def _pull_changes(self, entries: Sequence[str]) -> None:
        """Athletes and tests the server's new audit entries are about: their state."""
        rows = self.sdb.all(
            "SELECT entity, entity_id FROM audit_log WHERE action NOT IN "
            f"('create', 'recover', 'bulk') AND uuid IN ({marks(len(entries))})",
            list(entries),
        )
        for entity, table in (("athlete", "athletes"), ("test", "tests")):
            ids = [i for e, i in rows if AUDIT_ENTITIES.get(e) == table and e in (entity, "rep")]
            uuids = list(lookup(self.sdb, table, "id", "uuid", ids).values())
            here = list(lookup(self.ldb, table, "uuid", "id", uuids))
            if not here:
                continue
            if table == "athletes":
                self.received["athlete changes"] += merge_athletes(
                    self.sdb, self.ldb, here, entries
                )
            else:
                apply_tests(self.sdb, self.ldb, here, test_aspects(self.sdb, entries))
                self.received["test changes"] += len(set(here) - self.fresh)


_AUDITED = f"AND t.entity IN ({state.AUDITED})"
