"""The statements both backends run: one class per concern, shared by SQLite and PostgreSQL.

:class:`Statements` gathers them; a backend combines it with its own
connection class (a :class:`~station.store.sql.base.Transactions`), which
runs them and supplies the :class:`~station.store.sql.base.Dialect`:

- :mod:`.athletes`, :mod:`.certificates`, :mod:`.recorded_tests`,
  :mod:`.results` (runs, curves, reps), :mod:`.recompute` (runs in batches),
  :mod:`.pending`, :mod:`.audit`, :mod:`.summary` (export rows),
  :mod:`.bulk` and :mod:`.erasure` (an athlete erased on request) hold the
  statements;
- :mod:`.rows` maps rows to dataclasses and holds the helpers they share.

Every statement is parameterised (``?``); column names that are
interpolated are checked against a fixed list first.
"""

from __future__ import annotations

from station.store.sql.athletes import ATHLETE_COLUMNS, Athletes
from station.store.sql.audit import AuditLog, AuditRecord
from station.store.sql.bulk import BulkLoad
from station.store.sql.certificates import Certificates
from station.store.sql.erasure import Erased
from station.store.sql.pending import PendingTests
from station.store.sql.recompute import NewRun, RecomputeInput, RecomputeRuns
from station.store.sql.recorded_tests import TEST_COLUMNS, RecordedTests
from station.store.sql.rows import DIGEST_STREAM_KEYS, canonical_json, digest, sha256
from station.store.sql.summary import SummaryRows


class Statements(
    Athletes,
    Certificates,
    RecordedTests,
    RecomputeRuns,
    BulkLoad,
    PendingTests,
    AuditLog,
    SummaryRows,
):
    """Every shared statement class; a backend adds its connection and its erasure."""


__all__ = [
    "ATHLETE_COLUMNS",
    "DIGEST_STREAM_KEYS",
    "TEST_COLUMNS",
    "AuditRecord",
    "Erased",
    "NewRun",
    "RecomputeInput",
    "Statements",
    "canonical_json",
    "digest",
    "sha256",
]
