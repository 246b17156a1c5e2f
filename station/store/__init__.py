"""Athletes, tests, reps, curves, certificates and the audit trail.

``open_store()`` gives a :class:`Store`, the one interface the app and the CLI
use.  All SQL lives in :mod:`station.store.sql` (shared by both engines),
:mod:`station.store.sqlite` and :mod:`station.store.postgres` (and the
migrations in :mod:`station.store.schema`); a backend implements
:class:`Backend` and :func:`station.store.locations.open_backend` picks one.
See docs/store.md.
"""

from station.store.backend import Backend
from station.store.errors import (
    ConflictError,
    DatabaseFileError,
    DuplicateError,
    NotFoundError,
    RecordingAbsentError,
    StoreError,
    ValidationError,
)
from station.store.models import (
    Athlete,
    AuditEntry,
    BodyMass,
    CertificateRecord,
    Curves,
    Injury,
    OrphanFile,
    PendingTest,
    Recomputation,
    Rep,
    Result,
    TestRecord,
    TestSummary,
    Verification,
)
from station.store.schema import CURRENT_VERSION as SCHEMA_VERSION
from station.store.sqlite import SqliteStore
from station.store.store import Store, default_actor, open_store

__all__ = [
    "SCHEMA_VERSION",
    "Athlete",
    "AuditEntry",
    "Backend",
    "BodyMass",
    "CertificateRecord",
    "ConflictError",
    "Curves",
    "DatabaseFileError",
    "DuplicateError",
    "Injury",
    "NotFoundError",
    "OrphanFile",
    "PendingTest",
    "Recomputation",
    "RecordingAbsentError",
    "Rep",
    "Result",
    "SqliteStore",
    "Store",
    "StoreError",
    "TestRecord",
    "TestSummary",
    "ValidationError",
    "Verification",
    "default_actor",
    "open_store",
]
