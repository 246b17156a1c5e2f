"""The SQLite backend: the embedded store of a single station.

:class:`SqliteStore` implements :class:`~station.store.backend.Backend`
with the statements shared with PostgreSQL (:mod:`station.store.sql`) and
what only SQLite needs, each in its own module:

- :mod:`.opening` checks, sets up and upgrades the file; :mod:`.checkpoint`
  folds the write-ahead log in off the save path; :mod:`.connection` holds
  the connection and its transactions (each public method is one, so a
  failure leaves nothing half-written) and turns SQLite's errors into the
  store's;
- :mod:`.dialect` says what the shared statements need said SQLite's way;
- :mod:`.erasure` erases an athlete from the file and its backups and
  rewrites them so no old byte is left.

Every statement is parameterised; column names that are interpolated are
checked against a fixed list first.
"""

from __future__ import annotations

from station.store.sql import (
    ATHLETE_COLUMNS,
    DIGEST_STREAM_KEYS,
    TEST_COLUMNS,
    AuditRecord,
    Erased,
    NewRun,
    RecomputeInput,
    Statements,
    canonical_json,
    digest,
    sha256,
)
from station.store.sqlite.checkpoint import BUSY_TIMEOUT_MS, CHECKPOINT_AFTER_BYTES
from station.store.sqlite.connection import Connection
from station.store.sqlite.erasure import Erasure
from station.store.sqlite.opening import MIN_SQLITE, SQLITE_HEADER


class SqliteStore(Erasure, Connection, Statements):
    """Persistence for athletes, tests, analysis runs, certificates and the audit log
    in one SQLite file.

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
