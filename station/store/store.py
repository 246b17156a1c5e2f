"""The store as the app and the CLI use it: services over one backend.

:class:`Store` is assembled from one small service per job, each holding the
backend and the other services it needs:

- ``store.athletes`` (:mod:`.athletes`): register, find, change, archive;
  body mass and injuries; ``store.athlete_import`` (:mod:`.athlete_import`):
  many athletes from a CSV file;
- ``store.certificates`` (:mod:`.certificates`): certificates and verifications;
- ``store.tests`` (:mod:`.stored_tests`): stored tests read back and corrected;
- ``store.new_tests`` (:mod:`.new_tests`): capture -> analysis -> a new test,
  the one path for an imported file, a live test and a recovered one;
- ``store.live`` (:mod:`.live`) and ``store.recovery`` (:mod:`.recovery`):
  tests being recorded, and those a crash left unfinished;
- ``store.runs`` (:mod:`.recompute`): rep exclusions and recomputes;
- ``store.exports`` (:mod:`.export_rows`): summary rows and pseudonyms;
- ``store.erasure`` (:mod:`.erasing`): the right to erasure.

Rules every service keeps:

- nothing half-written: every change is one backend transaction, and every
  value is checked before the transaction starts;
- nothing lost: a committed test's raw bytes are in the database before its
  in-progress file is removed; a crashed test is found on the next start and
  can be recovered; a discarded partial recording is moved aside, not deleted;
  a recompute or an exclusion adds an analysis run, it never replaces one;
- every change to an athlete, a test or a rep is in the audit log, with who.

Which backend holds the data (SQLite in a folder or file, or PostgreSQL) is
chosen by :meth:`Store.open`'s ``database`` (see :mod:`.database_choice`);
nothing outside ``station.store`` knows which one it has.
"""

from __future__ import annotations

import getpass
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.errors import NordicError
from station import paths
from station.store import database_choice
from station.store.athlete_import import AthleteImporter
from station.store.athletes import Athletes
from station.store.backend import Backend
from station.store.certificates import Certificates
from station.store.erasing import Erasure
from station.store.errors import ConflictError
from station.store.export_rows import Exports
from station.store.in_progress import InProgress
from station.store.live import LiveTests
from station.store.locations import open_backend
from station.store.models import AuditEntry
from station.store.new_tests import TestCreation
from station.store.recompute import Runs
from station.store.recovery import Recovery
from station.store.stored_tests import StoredTests

log = logging.getLogger(__name__)


def default_actor() -> str:
    """Who is making changes when nobody says: the logged-in user."""
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):
        return "unknown"


def open_store(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    database: str | None = None,
    actor: str | None = None,
) -> Store:
    """Open (creating if needed) the store of the data folder (see station.paths),
    or the database ``database`` names (see :mod:`station.store.database_choice`)."""
    return Store.open(data_dir, database=database, actor=actor)


@dataclass(frozen=True)
class Upgrade:
    """The database was upgraded when opened: from which schema, and where the copy is."""

    from_version: int
    backup: Path | None


class Store:
    """Athletes, tests, reps, certificates and the audit trail of one store."""

    def __init__(
        self,
        folder: Path,
        backend: Backend,
        actor: str | None = None,
        location: str | None = None,
    ) -> None:
        self.folder = folder
        self._backend = backend
        self.actor = actor or default_actor()
        self._location = location
        who = self.actor
        self.athletes = Athletes(backend, who)
        self.athlete_import = AthleteImporter(backend, who, self.athletes)
        self.certificates = Certificates(backend, who)
        self.tests = StoredTests(backend, who, self.athletes)
        self.new_tests = TestCreation(backend, who, self.athletes, self.certificates, self.tests)
        self._in_progress = InProgress(backend, who, folder, self.certificates, self.new_tests)
        self.live = LiveTests(self._in_progress, self.athletes)
        self.recovery = Recovery(self._in_progress)
        self.runs = Runs(backend, who, self.tests, self.new_tests)
        self.exports = Exports(backend, who, self.athletes)
        self.erasure = Erasure(self.athletes, self._in_progress)

    @classmethod
    def open(
        cls,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        database: str | None = None,
        actor: str | None = None,
    ) -> Store:
        """The store of the data folder, or of ``database`` (a folder, ``sqlite:///FILE``
        or ``postgresql://...``); the data folder keeps tests in progress either way."""
        folder = paths.ensure_data_dir(data_dir)
        location = paths.database_location(database)
        try:
            backend = open_backend(location, folder)
        except (NordicError, OSError) as exc:
            if location is not None:
                _scrub(exc, location)
            raise
        if location is not None:
            log.info("store opened: %s", database_choice.masked(location))
        return cls(folder, backend, actor, location)

    def close(self) -> None:
        self._in_progress.release_all()
        self._backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path | None:
        """The database file of an embedded store (what a backup copies); None on a server."""
        return self._backend.path

    @property
    def backend(self) -> Backend:
        """The backend, for the store's own tests and benchmarks only: the app and
        the CLI never use it (tests/test_architecture.py checks)."""
        return self._backend

    @property
    def location(self) -> str:
        """Where the data is, as it may be shown (a folder, a file, or a URL without
        its password)."""
        if self._location is None:
            return str(self.folder)
        return database_choice.masked(self._location)

    @property
    def upgrade(self) -> Upgrade | None:
        """The schema upgrade made when this store was opened, if one was."""
        version = self._backend.migrated_from
        if version is None:
            return None
        return Upgrade(version, self._backend.backup_path)

    def audit_log(
        self, entity: str | None = None, entity_id: int | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Every change, oldest first: to ``entity`` ("athlete", "test", "rep"...) and
        ``entity_id`` when given."""
        return self._backend.audit_log(entity, entity_id, limit)

    def test_audit_log(self, test_id: int) -> list[AuditEntry]:
        """A test's changes and its reps', in time order (one trail for people to read)."""
        entries = self.audit_log("test", test_id) + self.audit_log("rep", test_id)
        return sorted(entries, key=lambda entry: (entry.at, entry.id))


def _scrub(exc: BaseException, database: str) -> None:
    """Raise a copy of ``exc`` without the location's password when its message holds it."""
    text = str(exc)
    clean = database_choice.scrub(text, database)
    if clean != text:
        raise database_choice.LocationError(clean) from None


__all__ = ["ConflictError", "Store", "Upgrade", "default_actor", "open_store"]
