"""Push: the station's records the server lacks, in batches, each one server transaction.

Order: certificates, verifications, athletes, body mass, injuries; then tests
in batches (raw recording, test, analysis runs, curves, reps, its state);
then changed athletes and tests; then the audit entries.  A batch's keys are
marked known locally only after the server committed it, so a kill at any
moment leaves the batch either unmarked (sent again; the server keeps its
copy: ``ON CONFLICT DO NOTHING``, and rows it already has are not resent) or
marked and on the server: every test reaches the server exactly once.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

from station.store.sync import hooks, state
from station.store.sync.allowed import excluding, refused_athletes
from station.store.sync.changes import (
    EVERYTHING,
    Aspects,
    apply_tests,
    merge_athletes,
    test_aspects,
)
from station.store.sync.db import LocalDb, ServerDb, chunks, marks
from station.store.sync.recordings import present_and_absent, require_on_server
from station.store.sync.rows import copy_audit, copy_children, copy_rows
from station.store.sync.tables import BEFORE_TESTS, RECORDINGS, RESULTS, TESTS

log = logging.getLogger(__name__)

WRITE_LOCK = 0x4E534442  # the store's writer lock (station.store.postgres.connection)
SMALL_BATCH = 500
AUDIT_BATCH = 2000

Progress = Callable[[str, int], None]


@contextmanager
def local_tx(conn: sqlite3.Connection) -> Any:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Pusher:
    def __init__(
        self, local: sqlite3.Connection, server: Any, progress: Progress | None = None
    ) -> None:
        self.local = local
        self.server = server
        self.ldb = LocalDb(local)
        self.sdb = ServerDb(server)
        self.sent: Counter[str] = Counter()
        self.progress = progress

    @contextmanager
    def _server_tx(self) -> Any:
        with self.server.transaction():
            self.sdb.run("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            yield

    def _mark(self, marks_by_table: dict[str, Sequence[str]]) -> None:
        with local_tx(self.local):
            for table, keys in marks_by_table.items():
                state.mark_known(self.local, table, keys)

    def run(self) -> Counter[str]:
        refused = refused_athletes(self.local, self.server)
        if refused:
            self.sent["held back (team not allowed)"] = len(refused)
        for table in BEFORE_TESTS:
            keys = state.unknown(self.local, table.name, table.key, excluding(table.name, refused))
            for part in chunks(keys, SMALL_BATCH):
                with self._server_tx():
                    sent = copy_rows(self.ldb, self.sdb, table, part)
                self._mark({table.name: part})
                self.sent[table.name] += len(sent)
        dirty = state.dirty(self.local)
        held = state.uuids_of(self.local, refused)
        changed_athletes = [
            u
            for u in dirty["athletes"]
            if u not in held["athletes"] and state.is_known(self.local, "athletes", u)
        ]
        entries = state.unknown_audit(self.local, excluding("audit_log", refused))
        for part in chunks(changed_athletes, SMALL_BATCH):
            with self._server_tx():
                self.sent["athlete changes"] += merge_athletes(self.ldb, self.sdb, part, entries)
        new_tests = state.unknown(self.local, "tests", where=excluding("tests", refused))
        new_set = set(new_tests)
        changed_tests = [u for u in dirty["tests"] if u not in new_set and u not in held["tests"]]
        aspects = test_aspects(self.ldb, entries)
        for part in chunks(new_tests + changed_tests, hooks.test_batch()):
            self._push_tests(part, new_set, aspects)
        for part in chunks(entries, AUDIT_BATCH):
            with self._server_tx():
                copy_audit(self.ldb, self.sdb, part)
            self._mark({"audit_log": part})
            self.sent["audit entries"] += len(part)
        return self.sent

    def _push_tests(self, uuids: Sequence[str], new: set[str], aspects: Aspects) -> None:
        fresh = [u for u in uuids if u in new]
        shas = [
            row[0]
            for part in chunks(fresh)
            for row in self.ldb.all(
                "SELECT r.sha256 FROM tests t JOIN recordings r ON r.id = t.recording_id "
                f"WHERE t.uuid IN ({marks(len(part))})",
                part,
            )
        ]
        runs = [
            row[0]
            for row in self.ldb.all(
                "SELECT r.uuid FROM results r JOIN tests t ON t.id = r.test_id "
                f"WHERE t.uuid IN ({marks(len(uuids))}) AND NOT EXISTS (SELECT 1 FROM sync_known k "
                "WHERE k.tbl = 'results' AND k.key = r.uuid) ORDER BY r.id",
                list(uuids),
            )
        ]
        # A recording pulled without its bytes is never sent (its bytes are empty here);
        # the server has it already: its test came from there.
        shas, absent = present_and_absent(self.ldb, shas)
        with self._server_tx():
            copy_rows(self.ldb, self.sdb, RECORDINGS, shas)
            require_on_server(self.sdb, absent)
            sent = copy_rows(self.ldb, self.sdb, TESTS, fresh)
            added = copy_rows(self.ldb, self.sdb, RESULTS, runs, force={"is_current": 0})
            copy_children(self.ldb, self.sdb, "curves", "results", "result_id", added)
            changed = {u: aspects.get(u, EVERYTHING) for u in uuids}
            apply_tests(self.ldb, self.sdb, uuids, {**changed, **dict.fromkeys(fresh, EVERYTHING)})
            hooks.pause("in", "push")
        hooks.pause("after", "push")
        self._mark({"tests": fresh, "results": runs})
        self.sent["tests"] += len(sent)
        self.sent["test changes"] += len(uuids) - len(fresh)
        if self.progress is not None:
            self.progress("tests", len(sent))
        log.debug("pushed %d tests", len(uuids))
