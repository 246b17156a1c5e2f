"""Changes to records that already exist on both sides: athletes and tests.

Raw recordings, analysis runs, curves, certificates and audit entries never
change once made; an athlete's details and a test's description, void mark,
current analysis run and reps do.

- Athlete: the side whose copy has the later ``updated_at`` wins; on a tie
  (same instant to the microsecond on two stations) the copy whose contents
  sort later (SHA-256 of its values) wins, so every side picks the same one.
  Both sides' audit entries are kept whichever wins.
- Test: its description, void mark, current run and reps are set to the
  sending side's (a station pushes its own changes before it pulls, so the
  last sync to reach the server wins); both audit entries stay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from station.store.sync.db import Db, lookup, select_rows
from station.store.sync.rows import copy_children, translate
from station.store.sync.tables import ATHLETE_MUTABLE, TESTS


def _version(row: dict[str, Any]) -> tuple[str, str]:
    digest = hashlib.sha256(
        json.dumps([row.get(c) for c in ATHLETE_MUTABLE], default=str).encode()
    ).hexdigest()
    return str(row.get("updated_at") or ""), digest


def merge_athletes(src: Db, dst: Db, uuids: Sequence[str]) -> int:
    """Copy the athletes' details from ``src`` where its copy is the later; returns how many."""
    cols = [c for c in ATHLETE_MUTABLE if c in dst.columns("athletes")]
    theirs = {r["uuid"]: r for r in select_rows(dst, "athletes", ["uuid", *cols], "uuid", uuids)}
    mine = select_rows(src, "athletes", ["uuid", *cols], "uuid", uuids)
    winners = [r for r in mine if r["uuid"] in theirs and _version(r) > _version(theirs[r["uuid"]])]
    if winners:
        sets = ", ".join(f"{c} = ?" for c in cols)
        dst.many(
            f"UPDATE athletes SET {sets} WHERE uuid = ?",
            [[r[c] for c in cols] + [r["uuid"]] for r in winners],
        )
    return len(winners)


def apply_tests(src: Db, dst: Db, uuids: Sequence[str]) -> None:
    """Give the destination's copies of these tests the source's description, void mark,
    current analysis run and reps."""
    if not uuids:
        return
    cols = [c for c in TESTS.mutable if c in dst.columns("tests")]
    rows = select_rows(src, "tests", ["uuid", *cols], "uuid", uuids)
    ready, _ = translate(src, dst, TESTS, rows)  # an athlete the other side lacks: kept as is
    if ready:
        sets = ", ".join(f"{c} = ?" for c in cols)
        dst.many(
            f"UPDATE tests SET {sets} WHERE uuid = ?",
            [[r[c] for c in cols] + [r["uuid"]] for r in ready],
        )
    current = src.all(
        "SELECT t.uuid, r.uuid FROM tests t JOIN results r ON r.test_id = t.id "
        f"AND r.is_current = 1 WHERE t.uuid IN ({', '.join('?' * len(uuids))})",
        list(uuids),
    )
    test_ids = lookup(dst, "tests", "uuid", "id", uuids)
    # Two statements: the index allowing one current run per test is checked row by row.
    dst.many(
        "UPDATE results SET is_current = 0 WHERE test_id = ? AND is_current = 1 AND uuid != ?",
        [(test_ids[t], r) for t, r in current if t in test_ids],
    )
    dst.many(
        "UPDATE results SET is_current = 1 WHERE uuid = ? AND is_current = 0",
        [(r,) for t, r in current if t in test_ids],
    )
    dst.many("DELETE FROM reps WHERE test_id = ?", [(i,) for i in test_ids.values()])
    copy_children(src, dst, "reps", "tests", "test_id", list(uuids))
