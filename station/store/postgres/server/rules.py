"""Which columns identify a person, and what a clinician may write where.

One place for both the base tables' privileges (:mod:`.policies`) and the audited
views' (:mod:`.audit`), so a write refused on one is refused on the other."""

from __future__ import annotations

from psycopg import sql

from station.store.postgres.schema import TABLES
from station.store.postgres.server.connection import idents

# Columns that identify a person or hold free text, per table.  Clinicians and
# admins read them only through the audited views; researchers never.
IDENTIFYING: dict[str, tuple[str, ...]] = {
    "athletes": ("name", "name_key", "date_of_birth", "notes", "external_id"),
    "tests": ("operator", "notes", "void_reason"),
    "pending_tests": ("operator", "notes"),
    "injuries": ("note",),
    "audit_log": ("before", "after"),
}

# The store's tables, each given a same-named view in ``ns_clinic`` for clinicians
# and admins.
STATION_TABLES = tuple(sorted(TABLES))

# Only INSERT: these are never changed once written (raw data, calibration, the
# store's own audit log); `meta` is the administrator's.
INSERT_ONLY = ("recordings", "curves", "audit_log", "certificates", "verifications")
NO_WRITES = ("meta",)
# Columns a clinician may UPDATE where not all may change (results: only which run
# is current).
UPDATABLE: dict[str, tuple[str, ...]] = {"results": ("is_current",)}
# Never updated by anyone but an administrator: a record's identity, its raw data,
# the erasure mark.
FIXED = ("id", "uuid", "recording_id", "erased_at", "created_at", "created_by")
# Rows a clinician may delete (a finished test in progress; reps replaced by a
# recompute); nothing else is deleted but by an admin.
DELETABLE = ("pending_tests", "reps")


def clinician_writes(table: str, columns: list[str]) -> sql.Composable | None:
    """The privileges to GRANT a clinician on ``table`` (or its audited view)."""
    if table in NO_WRITES:
        return None
    if table in INSERT_ONLY:
        return sql.SQL("INSERT")
    changeable = UPDATABLE.get(table) or tuple(c for c in columns if c not in FIXED)
    grant = sql.SQL("INSERT, UPDATE ({})").format(idents(changeable))
    if table in DELETABLE:
        grant = sql.SQL("{}, DELETE").format(grant)
    return grant
