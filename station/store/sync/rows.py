"""Rows copied from one database to the other, their foreign keys translated.

A foreign key leaves as the key (UUID or SHA-256) of the row it points at,
looked up in the source, and comes back as the id that row has in the
destination.  A reference the destination cannot resolve yet (a run whose
curves are another run's of the same batch) is held back for the next wave.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from station.store.sync.db import Db, insert_rows, lookup, select_rows
from station.store.sync.errors import SyncError
from station.store.sync.tables import AUDIT_ENTITIES, BY_NAME, NOT_COPIED, Table


def shared_columns(src: Db, dst: Db, table: str) -> list[str]:
    """The columns both databases have (one may be a schema version ahead)."""
    there = set(dst.columns(table))
    return [c for c in src.columns(table) if c in there and c not in NOT_COPIED]


def translate(
    src: Db, dst: Db, table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``rows`` with their references as destination ids, and those not resolvable yet."""
    ready = [dict(row) for row in rows]
    waiting: list[dict[str, Any]] = []
    for column, target in table.refs.items():
        if not ready or column not in ready[0]:
            continue
        key = BY_NAME[target].key
        to_key = lookup(src, target, "id", key, (row[column] for row in ready))
        to_id = lookup(dst, target, key, "id", to_key.values())
        still: list[dict[str, Any]] = []
        for row in ready:
            if row[column] is None:
                still.append(row)
                continue
            found = to_id.get(to_key.get(row[column]))
            if found is None:
                waiting.append(row)
            else:
                row[column] = found
                still.append(row)
        ready = still
    return ready, waiting


def copy_rows(
    src: Db, dst: Db, table: Table, keys: Sequence[Any], force: dict[str, Any] | None = None
) -> list[Any]:
    """Copy the rows of ``table`` with these keys from ``src`` to ``dst``, with the columns
    of ``force`` set to its values; returns the keys of the rows the destination lacked."""
    if not keys:
        return []
    present = lookup(dst, table.name, table.key, "id", keys)
    keys = [k for k in keys if k not in present]  # sent again after a kill: not resent
    if not keys:
        return []
    cols = shared_columns(src, dst, table.name)
    rows = select_rows(src, table.name, ["id", *cols], table.key, keys)
    source_ids = {row[table.key]: row.pop("id") for row in rows}
    for row in rows:
        row.update(force or {})
    pending = rows
    while pending:
        ready, pending = translate(src, dst, table, pending)
        if not ready:
            missing = ", ".join(sorted(str(source_ids[r[table.key]]) for r in pending)[:5])
            raise SyncError(
                f"{table.name} {missing} point at records the other side does not have",
                hint="run the sync again; if this repeats, run 'nordic-station store check'",
            )
        insert_rows(dst, table.name, ready)
    arrived = lookup(dst, table.name, table.key, "id", keys)
    if len(arrived) < len(set(keys)):
        lost = sorted(str(source_ids.get(k, k)) for k in keys if k not in arrived)
        raise SyncError(
            f"{table.name} {', '.join(lost[:5])} clash with different records on the other side "
            "(the same external id or checksum): they were not copied",
            hint="give one of the two records another external id, then sync again",
        )
    return list(keys)


def copy_children(
    src: Db, dst: Db, table: str, parent: str, parent_col: str, parent_keys: Sequence[Any]
) -> None:
    """Copy the rows of ``table`` (reps, curves) belonging to the parents with these keys."""
    if not parent_keys:
        return
    src_ids = lookup(src, parent, "uuid", "id", parent_keys)
    dst_ids = lookup(dst, parent, "uuid", "id", parent_keys)
    back = {src_ids[k]: dst_ids[k] for k in src_ids if k in dst_ids}
    cols = shared_columns(src, dst, table)
    rows = select_rows(src, table, cols, parent_col, list(back))
    for row in rows:
        row[parent_col] = back[row[parent_col]]
    insert_rows(dst, table, rows)


def copy_audit(src: Db, dst: Db, uuids: Sequence[str]) -> int:
    """Copy audit entries; an entry's entity_id is translated through its entity's uuid,
    and an entry whose entity the destination does not hold is left out."""
    if not uuids:
        return 0
    cols = shared_columns(src, dst, "audit_log")
    rows = select_rows(src, "audit_log", cols, "uuid", uuids)
    out: list[dict[str, Any]] = []
    for entity, target in AUDIT_ENTITIES.items():
        mine = [r for r in rows if r["entity"] == entity]
        key = BY_NAME[target].key
        to_key = lookup(src, target, "id", key, (r["entity_id"] for r in mine))
        to_id = lookup(dst, target, key, "id", to_key.values())
        for row in mine:
            found = to_id.get(to_key.get(row["entity_id"]))
            if found is not None:
                out.append({**row, "entity_id": found})
    insert_rows(dst, "audit_log", out)
    return len(out)
