"""The store as the app and the CLI use it.

:class:`Store` checks every value a person typed, runs the analysis on a
capture's bytes, keeps the files of tests in progress, and hands finished
records to a backend (:class:`~station.store.sqlite.SqliteStore`) that holds
all the SQL.  Rules it keeps:

- nothing half-written: every change is one backend transaction, and every
  value is checked before the transaction starts;
- nothing lost: a committed test's raw bytes are in the database before its
  in-progress file is removed; a crashed test is found on the next start and
  can be recovered; a discarded partial recording is moved aside, not deleted;
  a recompute or an exclusion adds an analysis run, it never replaces one;
- every change to an athlete, a test or a rep is in the audit log, with who.

Its methods live in one module per job (:mod:`.athletes`, :mod:`.athlete_import`,
:mod:`.certificates`, :mod:`.importing`, :mod:`.live`, :mod:`.stored_tests`,
:mod:`.recompute`, :mod:`.recompute_all`, :mod:`.export_rows`, :mod:`.erasing`);
this module assembles them and opens the data folder.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from station import paths
from station.store.athlete_import import AthleteImporting
from station.store.athletes import Athletes
from station.store.backend import Backend
from station.store.certificates import Certificates
from station.store.erasing import Erasing
from station.store.errors import ConflictError
from station.store.export_rows import ExportRows
from station.store.importing import Importing
from station.store.live import LiveTests
from station.store.locations import open_backend
from station.store.locks import FileLock
from station.store.recompute import Recomputing
from station.store.recompute_all import RecomputingAll
from station.store.stored_tests import StoredTests


def default_actor() -> str:
    """Who is making changes when nobody says: the logged-in user."""
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):
        return "unknown"


def open_store(
    data_dir: str | os.PathLike[str] | None = None, *, actor: str | None = None
) -> Store:
    """Open (creating if needed) the store in the data folder (see station.paths)."""
    return Store.open(data_dir, actor=actor)


class Store(
    Athletes,
    AthleteImporting,
    Certificates,
    Importing,
    LiveTests,
    StoredTests,
    Recomputing,
    RecomputingAll,
    ExportRows,
    Erasing,
):
    """Athletes, tests, reps, certificates and the audit trail of one data folder."""

    def __init__(self, folder: Path, backend: Backend, actor: str | None = None) -> None:
        self.folder = folder
        self.backend = backend
        self.actor = actor or default_actor()
        self._locks: dict[int, FileLock] = {}

    @classmethod
    def open(
        cls,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        actor: str | None = None,
        database: str | None = None,
    ) -> Store:
        folder = paths.ensure_data_dir(data_dir)
        return cls(folder, open_backend(database, folder), actor)

    def close(self) -> None:
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path | None:
        return self.backend.path


__all__ = ["ConflictError", "Store", "default_actor", "open_store"]
