"""Changes to records that already exist on both sides: athletes and tests.

Raw recordings, analysis runs, curves, certificates and audit entries never
change once made; an athlete's details and a test's description, void mark,
current analysis run and reps do.

- Athlete: field by field, like tests: only the columns the sending side's new
  audit entries changed are written (an edit's changed columns, the archive
  mark; an erasure all of them), so a note edited on one station and a sport
  on another both stay.  The same field changed on both sides: the later
  change wins (the instant of each side's last audit entry changing it, which
  is the ``updated_at`` that edit gave the row); on a tie (the same
  millisecond on two stations) the value whose SHA-256 sorts later wins, so
  every side picks the same one.  ``updated_at`` becomes the later of the two.
  An erased copy is never written into.  Both sides' audit entries are kept.
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

from station.store.sync.db import Db, chunks, lookup, marks, select_rows
from station.store.sync.rows import copy_children, translate
from station.store.sync.tables import ATHLETE_MUTABLE, TESTS

NOT_CHANGES = "('create', 'recover', 'bulk')"  # a record's making is not a change to it
Changed = dict[str, dict[str, str]]  # athlete uuid -> {column: instant of its last change}


def _columns_of(action: str, after: str | None) -> set[str]:
    """The athlete columns an audit entry changed (a body mass or an injury: none)."""
    if action == "erase":
        return set(ATHLETE_MUTABLE)
    if action not in ("update", "archive", "unarchive"):
        return set()
    try:
        changed = set(json.loads(after or "{}"))
    except (ValueError, TypeError):
        changed = set(ATHLETE_MUTABLE)
    if "name" in changed:
        changed.add("name_key")  # kept with the name, never audited on its own
    return changed & set(ATHLETE_MUTABLE)


def athlete_changes(db: Db, by: str, values: Sequence[str]) -> Changed:
    """When each column of an athlete was last changed, from ``db``'s audit entries:
    those whose key is one of ``values`` (``by="entry"``), or every entry about the
    athletes whose uuid is one of ``values`` (``by="athlete"``)."""
    where = "l.uuid" if by == "entry" else "a.uuid"
    found: Changed = {}
    for part in chunks(list(values)):
        rows = db.all(
            "SELECT a.uuid, l.action, l.after, l.at FROM audit_log l "
            "JOIN athletes a ON a.id = l.entity_id WHERE l.entity = 'athlete' "
            f"AND l.action NOT IN {NOT_CHANGES} AND {where} IN ({marks(len(part))})",
            part,
        )
        for athlete, action, after, at in rows:
            columns = found.setdefault(athlete, {})
            for column in _columns_of(action, after):
                columns[column] = max(columns.get(column, ""), str(at))
    return found


def _version(at: str, value: Any) -> tuple[str, str]:
    return at, hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()


def merge_athletes(src: Db, dst: Db, uuids: Sequence[str], entries: Sequence[str]) -> int:
    """Give the destination's copies of these athletes what the source's new audit
    ``entries`` (keys) changed, column by column where the source's change is the later;
    returns how many athletes changed."""
    cols = [c for c in ATHLETE_MUTABLE if c in dst.columns("athletes") and c != "updated_at"]
    erased = ["erased_at"] if "erased_at" in dst.columns("athletes") else []
    sent = athlete_changes(src, "entry", entries)
    uuids = [u for u in uuids if u in sent]
    if not uuids:
        return 0
    theirs = {
        r["uuid"]: r
        for r in select_rows(dst, "athletes", ["uuid", "updated_at", *cols, *erased], "uuid", uuids)
    }
    mine = {
        r["uuid"]: r
        for r in select_rows(src, "athletes", ["uuid", "updated_at", *cols], "uuid", uuids)
    }
    known = athlete_changes(dst, "athlete", list(theirs))
    updates: dict[tuple[str, ...], list[list[Any]]] = {}
    for uuid, row in mine.items():
        there = theirs.get(uuid)
        if there is None or there.get("erased_at"):
            continue  # not there yet (it travels as a new row), or erased there: kept so
        last = known.get(uuid, {})
        won = {
            c: row[c]
            for c, at in sent[uuid].items()
            if c in cols
            and row[c] != there[c]
            and _version(at, row[c]) > _version(last.get(c, ""), there[c])
        }
        if str(row["updated_at"] or "") > str(there["updated_at"] or ""):
            won["updated_at"] = row["updated_at"]
        if won:
            names = tuple(sorted(won))
            updates.setdefault(names, []).append([*(won[c] for c in names), uuid])
    for names, rows in updates.items():
        dst.many(f"UPDATE athletes SET {', '.join(f'{c} = ?' for c in names)} WHERE uuid = ?", rows)
    return sum(len(rows) for rows in updates.values())


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
