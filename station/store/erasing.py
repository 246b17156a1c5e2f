"""Erasing an athlete on request (the right to erasure).

Part of :class:`~station.store.Store`.  The database, its write-ahead log and
every backup copy lose the athlete's name, date of birth, notes, free text and
raw recordings (see :mod:`station.store.sqlite.erasure`); the recordings of
their unfinished or discarded tests are deleted from the data folder.  What
is left are numbers (forces, body masses, dates of tests) under "erased
athlete", and an audit entry saying who erased them, when and why.
"""

from __future__ import annotations

import logging
from pathlib import Path

from station import paths
from station.store import validate
from station.store.errors import ConflictError
from station.store.models import Athlete
from station.store.parts import StoreParts
from station.store.sql import Erased

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"


class Erasing(StoreParts):
    def erase_athlete(
        self, athlete: Athlete | int | str, reason: str, *, by: str | None = None
    ) -> Erased:
        """Erase an athlete's identifying data everywhere the station keeps it.

        Irreversible.  A reason is required (kept in the audit, unless it repeats
        what is erased).  Refused while one of their tests is being recorded.  Running
        it again on an erased athlete finishes an erasure a full disk interrupted.
        """
        current = self.resolve_athlete(athlete)
        why = validate.text_field(reason, "reason", required=True)
        assert why is not None
        live = [p for p in self.pending_tests() if p.athlete_id == current.id and p.live]
        if live:
            raise ConflictError(
                f"athlete {current.id} is being tested right now: finish or cancel that test, "
                "then erase"
            )
        outcome = self.backend.erase_athlete(current.id, why, self._who(by))
        folder = paths.in_progress_dir(self.folder)
        for name in outcome.pending_files:
            for path in (folder / name, folder / (name + LOCK_SUFFIX)):
                _remove(path)
        discarded = paths.discarded_dir(self.folder).resolve()
        for text in outcome.discarded_files:
            path = Path(text)
            if path.resolve().parent == discarded:  # only files the station moved there
                _remove(path)
        log.info("athlete %d erased (data folder files removed too)", current.id)
        return outcome


def _remove(path: Path) -> None:
    """Overwrite, then delete, a file holding an erased athlete's recording."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with open(path, "r+b") as handle:
        handle.write(b"\0" * size)
        handle.flush()
    path.unlink()
