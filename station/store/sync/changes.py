"""Changes to records that already exist on both sides: athletes and tests.

Raw recordings, analysis runs, curves, certificates and audit entries never
change once made; an athlete's details and a test's description, void mark,
current analysis run and reps do.

- Athlete: the side whose copy has the later ``updated_at`` wins; on a tie
  (same instant to the microsecond on two stations) the copy whose contents
  sort later (SHA-256 of its values) wins, so every side picks the same one.
  Both sides' audit entries are kept whichever wins.
- Test: only what the sending side's new audit entries say changed is sent
  (the columns an edit changed, the void mark, the current run and reps), so
  a void on one station and a note edited on another both stay; the same
  field changed on two stations: the last sync to reach the server wins.
  Both audit entries stay.
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


Aspects = dict[str, tuple[frozenset[str], bool]]  # test uuid -> (columns, run and reps)
EVERYTHING = (frozenset(TESTS.mutable), True)
VOID_COLUMNS = frozenset({"voided", "void_reason"})


def test_aspects(db: Db, entries: Sequence[str]) -> Aspects:
    """What these audit entries (keys) changed about their tests: the columns an "update"
    or a void changed, and whether a run or a rep changed (the current run and reps)."""
    found: dict[str, tuple[set[str], bool]] = {}
    for start in range(0, len(entries), 500):
        part = list(entries[start : start + 500])
        rows = db.all(
            "SELECT t.uuid, l.action, l.after FROM audit_log l JOIN tests t ON t.id = l.entity_id "
            "WHERE l.entity IN ('test', 'rep') AND l.action NOT IN ('create', 'recover', 'bulk') "
            f"AND l.uuid IN ({', '.join('?' * len(part))})",
            part,
        )
        for test, action, after in rows:
            columns, runs = found.setdefault(test, (set(), False))
            if action == "update":
                try:
                    changed = set(json.loads(after or "{}"))
                except (ValueError, TypeError):
                    changed = set(TESTS.mutable)
                columns |= changed & set(TESTS.mutable)
            elif action in ("void", "unvoid"):
                columns |= VOID_COLUMNS
            else:  # a new analysis run, a rep excluded or included
                found[test] = (columns, True)
    return {test: (frozenset(cols), runs) for test, (cols, runs) in found.items()}


def apply_tests(src: Db, dst: Db, uuids: Sequence[str], aspects: Aspects | None = None) -> None:
    """Give the destination's copies of these tests what changed on the source (``aspects``;
    everything when not given): description columns, void mark, current run and reps.
    Only what changed is written, so two stations' edits of different fields both stay."""
    if not uuids:
        return
    wanted = {u: (aspects or {}).get(u, EVERYTHING) if aspects is not None else EVERYTHING
              for u in uuids}  # fmt: skip
    present = set(dst.columns("tests"))
    groups: dict[frozenset[str], list[str]] = {}
    for test, (columns, _) in wanted.items():
        if columns & present:
            groups.setdefault(frozenset(columns & present), []).append(test)
    for columns, tests in groups.items():
        cols = sorted(columns)
        rows = select_rows(src, "tests", ["uuid", *cols], "uuid", tests)
        ready, _ = translate(src, dst, TESTS, rows)  # an athlete the other side lacks: kept
        if ready:
            sets = ", ".join(f"{c} = ?" for c in cols)
            dst.many(
                f"UPDATE tests SET {sets} WHERE uuid = ?",
                [[r[c] for c in cols] + [r["uuid"]] for r in ready],
            )
    _apply_runs(src, dst, [u for u, (_, runs) in wanted.items() if runs])


def _apply_runs(src: Db, dst: Db, uuids: Sequence[str]) -> None:
    """The source's current run and reps for these tests."""
    if not uuids:
        return
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
