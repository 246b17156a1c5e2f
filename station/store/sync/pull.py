"""Pull: the server's records of the teams this login may see that the station lacks.

The server's row-level security decides what is visible: the station asks
for everything and gets what its user may see.  Each batch is read in one
repeatable-read snapshot and stored locally in one transaction together with
its marks, so a kill at any point leaves the batch all there or not at all;
the next pull asks again for what is missing (by key), never for a record
twice.  A test's raw recording arrives without its bytes (the row, its SHA-256
and kind: "absent"), so history and team views work offline on results alone;
the bytes are fetched on demand (:mod:`.recordings`, ``sync --recordings``).
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
from station.store.sync.push import local_tx
from station.store.sync.recordings import pull_without_bytes
from station.store.sync.rows import copy_audit, copy_children, copy_rows
from station.store.sync.tables import AUDIT_ENTITIES, BEFORE_TESTS, RESULTS, TESTS

log = logging.getLogger(__name__)

SMALL_BATCH = 500


def missing(server: Db, local: Db, table: str, key: str = "uuid", where: str = "") -> list[str]:
    """Keys the server shows and the station does not hold, in the server's id order."""
    have = {row[0] for row in local.all(f"SELECT {key} FROM {table}")}
    rows = server.all(f"SELECT {key} FROM {table} {where} ORDER BY id")
    return [row[0] for row in rows if row[0] not in have]


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
        """One server snapshot read inside one local write transaction."""
        with self.server.transaction():
            self.sdb.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            with local_tx(self.local):
                yield

    def run(self) -> Counter[str]:
        for table in BEFORE_TESTS:
            with self.server.transaction():
                keys = missing(self.sdb, self.ldb, table.name, table.key)
            for part in chunks(keys, SMALL_BATCH):
                with self._both():
                    got = copy_rows(self.sdb, self.ldb, table, part)
                    state.mark_known(self.local, table.name, part)
                self.received[table.name] += len(got)
        with self.server.transaction():
            tests = missing(self.sdb, self.ldb, "tests")
            entries = missing(self.sdb, self.ldb, "audit_log", where=_AUDITED)
        for part in chunks(tests, hooks.test_batch()):
            with self._both():
                self._pull_tests(part)
                hooks.pause("in", "pull")
            hooks.pause("after", "pull")
        for part in chunks(entries, SMALL_BATCH):
            with self._both():
                self._pull_changes(part)
                copy_audit(self.sdb, self.ldb, part)
                state.mark_known(self.local, "audit_log", part)
        # Asked of the server's athletes, not of its new audit entries: a pull killed
        # after storing an "erase" entry still erases at the next one.
        self.received["erasures"] += erase_here(self.folder, self.local, self._erased_not_here())
        return self.received

    def _erased_not_here(self) -> list[str]:
        with self.server.transaction():
            there = {row[0] for row in self.sdb.all(
                "SELECT uuid FROM athletes WHERE erased_at IS NOT NULL"
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
                self.received["athlete changes"] += merge_athletes(self.sdb, self.ldb, here)
            else:
                apply_tests(self.sdb, self.ldb, here, test_aspects(self.sdb, entries))
                self.received["test changes"] += len(set(here) - self.fresh)


_AUDITED = f"WHERE entity IN ({state.AUDITED})"
