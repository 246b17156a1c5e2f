"""What a pull asks the server for: the rows above this station's mark, not all of them.

A routine pull lists only the rows whose server id is above the table's mark
(``sync_marks``: the largest server id up to which every row the server
showed is held here, with how many rows that was and the sum of their ids).
The whole table is listed again (a full scan) when that could find more:

- no mark yet (the first sync, a folder joined again, ``sync --full``);
- the server no longer shows the same rows up to the mark: its count and sum
  of ids there differ from the mark's.  That is what a team granted later
  (row-level security makes older rows appear), a team taken away, an
  athlete moved to a visible team or a row committed late below the mark
  look like; the check is one aggregate on the server, no row travels.

A mark moves only over rows that are here: it is written in the local
transaction that stores a batch (a pull killed midway leaves it at the last
batch stored), and it stops before a listed row that did not arrive.

Only keys and ids are read, from the base tables: clinicians may read those
columns there (row-level security still applies), and reading them is not a
read of identifiable data, so a sync that finds nothing new leaves no "read"
rows in the server's audit (station/store/postgres/server/audit.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from station.store.sync import state
from station.store.sync.db import Db, LocalDb, lookup
from station.store.sync.state import Mark

# On a server set up with ``server init`` a person's search_path starts with the audited
# views (schema ns_clinic); the tables they stand for are in ``public``.
CLINIC_SCHEMA = "ns_clinic"
BASE_SCHEMA = "public"


def base_table(server: Db, table: str) -> str:
    """The table itself, never its audited view: for reading keys and ids only."""
    row = server.all("SELECT current_schema()")
    schema = row[0][0] if row else None
    return f"{BASE_SCHEMA}.{table}" if schema == CLINIC_SCHEMA else table


@dataclass
class Listing:
    """A table's rows above the mark in one server snapshot, and the mark as they arrive."""

    table: str
    key: str
    mark: Mark
    full: bool
    rows: list[tuple[int, str]]  # (server id, key) of every row shown above the mark
    missing: list[str]  # keys of those rows this station lacks, in server id order
    _wanted: set[str] = field(default_factory=set)
    _done: int = 0

    def __post_init__(self) -> None:
        self._wanted = set(self.missing)

    def advance(self, local: sqlite3.Connection, stored: Sequence[str] = ()) -> Mark:
        """The mark once ``stored`` (keys of a batch, now committed or about to be in the
        caller's local transaction) is here: past every row here, up to the first not."""
        if stored:
            here = lookup(LocalDb(local), self.table, self.key, self.key, stored)
            self._wanted -= set(here)
        mark = self.mark
        if not self._wanted and self._done < len(self.rows):  # all here: past the rest at once
            rest = self.rows[self._done :]
            mark = Mark(rest[-1][0], mark.seen + len(rest), mark.total + sum(i for i, _ in rest))
            self._done = len(self.rows)
        while self._done < len(self.rows):
            server_id, key = self.rows[self._done]
            if key in self._wanted:
                break
            mark = Mark(server_id, mark.seen + 1, mark.total + server_id)
            self._done += 1
        self.mark = mark
        return mark

    def save(self, local: sqlite3.Connection, stored: Sequence[str] = ()) -> None:
        """Advance and keep the mark (inside the caller's local transaction)."""
        before = self.mark
        if self.advance(local, stored) != before or self.full:
            state.set_mark(local, self.table, self.mark)


def list_rows(
    server: Db,
    local: sqlite3.Connection,
    table: str,
    key: str = "uuid",
    where: str = "",
    full: bool = False,
) -> Listing:
    """The rows of ``table`` (``where``: a condition on ``t``, starting with AND) the
    server shows above this station's mark, or all of them when a full scan is due.
    Call inside one REPEATABLE READ server transaction (the check and the list agree)."""
    source = base_table(server, table)
    mark = None if full else state.mark_of(local, table)
    if mark is not None:
        seen, total = server.all(
            f"SELECT count(*), coalesce(sum(t.id), 0) FROM {source} t WHERE t.id <= ? {where}",
            (mark.upto,),
        )[0]
        if (int(seen), int(total)) != (mark.seen, mark.total):
            mark = None  # the rows shown below the mark changed: list them all again
    scan = mark is None
    start = Mark() if mark is None else mark
    rows = [
        (int(r[0]), r[1])
        for r in server.all(
            f"SELECT t.id, t.{key} FROM {source} t WHERE t.id > ? {where} ORDER BY t.id",
            (start.upto,),
        )
    ]
    if scan:
        have = {row[0] for row in local.execute(f"SELECT {key} FROM {table}")}
    else:
        have = set(lookup(LocalDb(local), table, key, key, [k for _, k in rows]))
    missing = [k for _, k in rows if k not in have]
    return Listing(table, key, start, scan, rows, missing)
