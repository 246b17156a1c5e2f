"""How each synced table is keyed and what its columns point at.

A row's identity across databases is its ``key``: the UUID made where it
was created, or for content-addressed rows (certificates, raw recordings)
their SHA-256, so the same certificate imported on two stations is one row
on the server.  Integer ids and foreign keys never leave a database: a
foreign key is sent as the key of the row it points at and turned back into
an id on arrival (:mod:`.rows`).

Tests in progress stay on their station (their files are there); the other
tables travel.  Reps and curves have no key of their own: they belong to a
test and to an analysis run, and travel with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from station.store.sql.athletes import EDITABLE
from station.store.sql.recorded_tests import TEST_COLUMNS


@dataclass(frozen=True)
class Table:
    name: str
    key: str = "uuid"
    refs: dict[str, str] = field(default_factory=dict)  # column -> table it points at
    mutable: tuple[str, ...] = ()  # columns that may change after the row is made


# What a person may edit (the store's own lists), with what follows from an edit.
ATHLETE_MUTABLE = (*EDITABLE, "name_key", "updated_at")
TEST_MUTABLE = (*sorted(TEST_COLUMNS), "voided", "void_reason")

CERTIFICATES = Table("certificates", key="sha256")
VERIFICATIONS = Table("verifications", refs={"certificate_id": "certificates"})
ATHLETES = Table("athletes", mutable=ATHLETE_MUTABLE)
BODY_MASS = Table("body_mass", refs={"athlete_id": "athletes"})
INJURIES = Table("injuries", refs={"athlete_id": "athletes"})
RECORDINGS = Table("recordings", key="sha256")
TESTS = Table(
    "tests",
    refs={"athlete_id": "athletes", "certificate_id": "certificates", "recording_id": "recordings"},
    mutable=TEST_MUTABLE,
)
RESULTS = Table("results", refs={"test_id": "tests", "curves_result_id": "results"})
AUDIT = Table("audit_log")

BY_NAME = {
    t.name: t
    for t in (
        CERTIFICATES,
        VERIFICATIONS,
        ATHLETES,
        BODY_MASS,
        INJURIES,
        RECORDINGS,
        TESTS,
        RESULTS,
        AUDIT,
    )  # fmt: skip
}
# Tables of small records sent before the tests, in the order their references need.
BEFORE_TESTS = (CERTIFICATES, VERIFICATIONS, ATHLETES, BODY_MASS, INJURIES)

# An audit entry's entity_id names a row of this table (a rep's entry names its test);
# entries about anything else (tests in progress) stay on their station.
AUDIT_ENTITIES = {
    "athlete": "athletes",
    "test": "tests",
    "rep": "tests",
    "certificate": "certificates",
    "verification": "verifications",
}

# Columns never copied: the row's own id (each database numbers its rows) and the
# columns a table's rule fills in itself.
NOT_COPIED = frozenset({"id", "seq"})
