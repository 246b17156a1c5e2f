"""The SQLite backend: every SQL statement the station runs outside migrations.

:class:`SqliteStore` implements :class:`~station.store.backend.Backend`; it
is assembled from one class per concern, each in its own module:

- :mod:`.opening` checks, sets up and upgrades the file; :mod:`.checkpoint`
  folds the write-ahead log in off the save path; :mod:`.connection` holds
  the connection and its transactions (each public method is one, so a
  failure leaves nothing half-written);
- :mod:`.athletes`, :mod:`.certificates`, :mod:`.recorded_tests`,
  :mod:`.results` (runs, curves, reps), :mod:`.recompute` (runs in batches),
  :mod:`.pending`, :mod:`.audit`,
  :mod:`.summary` (export rows), :mod:`.bulk` and :mod:`.erasure` (an athlete
  erased on request) hold the statements;
- :mod:`.rows` maps rows to dataclasses and holds the helpers they share.

Every statement is parameterised; column names that are interpolated are
checked against a fixed list first.
"""

from __future__ import annotations

from station.store.sqlite.athletes import ATHLETE_COLUMNS, Athletes
from station.store.sqlite.audit import AuditLog, AuditRecord
from station.store.sqlite.bulk import BulkLoad
from station.store.sqlite.certificates import Certificates
from station.store.sqlite.checkpoint import BUSY_TIMEOUT_MS, CHECKPOINT_AFTER_BYTES
from station.store.sqlite.dump import Dump
from station.store.sqlite.erasure import Erased, Erasure
from station.store.sqlite.opening import MIN_SQLITE, SQLITE_HEADER
from station.store.sqlite.pending import PendingTests
from station.store.sqlite.recompute import NewRun, RecomputeInput, RecomputeRuns
from station.store.sqlite.recorded_tests import TEST_COLUMNS, RecordedTests
from station.store.sqlite.rows import DIGEST_STREAM_KEYS, canonical_json, digest, sha256
from station.store.sqlite.summary import SummaryRows


class SqliteStore(
    Athletes,
    Certificates,
    RecordedTests,
    RecomputeRuns,
    BulkLoad,
    PendingTests,
    AuditLog,
    SummaryRows,
    Erasure,
    Dump,
):
    """Persistence for athletes, tests, analysis runs, certificates and the audit log.

    Thread-safe: one connection guarded by a lock, so the app may call it from
    its acquisition worker and its GUI thread.  Validation of user input and
    the analysis itself happen in :class:`station.store.Store`; this class
    trusts its arguments but the schema's CHECK constraints and triggers still
    guard the data.
    """


__all__ = [
    "ATHLETE_COLUMNS",
    "BUSY_TIMEOUT_MS",
    "CHECKPOINT_AFTER_BYTES",
    "DIGEST_STREAM_KEYS",
    "Erased",
    "NewRun",
    "RecomputeInput",
    "MIN_SQLITE",
    "SQLITE_HEADER",
    "TEST_COLUMNS",
    "AuditRecord",
    "SqliteStore",
    "canonical_json",
    "digest",
    "sha256",
]
