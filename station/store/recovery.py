"""Tests a crash left unfinished, and stray files in in-progress/: found, recovered or discarded.

``store.recovery`` of a :class:`~station.store.Store`.  A recovered test is
saved like any other (:mod:`station.store.new_tests`), flagged as recovered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from station.analysis import AnalysisSettings
from station.store.errors import StoreError
from station.store.in_progress import LOCK_SUFFIX, InProgress
from station.store.locks import is_locked
from station.store.models import OrphanFile, PendingTest, TestRecord
from station.store.parts import Service


class Recovery(Service):
    """What is in progress or was left by a crash, and what to do with it."""

    def __init__(self, in_progress: InProgress) -> None:
        super().__init__(in_progress.backend, in_progress.actor)
        self.in_progress = in_progress

    @property
    def folder(self) -> Path:
        """The in-progress folder (recordings of tests not yet committed)."""
        return self.in_progress.folder

    def pending(self, *, include_live: bool = True) -> list[PendingTest]:
        """Tests begun and not finished; ``live`` False means left by a crash."""
        return self.in_progress.pending(include_live=include_live)

    def get(self, pending_id: int) -> PendingTest:
        return self.in_progress.get(pending_id)

    def recover(
        self,
        pending_id: int,
        *,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> TestRecord:
        """Import what a crashed test recorded, flagged as recovered."""
        state = self._not_live(pending_id, ": finish it there")
        return self.in_progress.commit(state, recovered=True, notes=None, settings=settings, by=by)

    def discard(self, pending_id: int, *, by: str | None = None) -> Path | None:
        """Give up an unfinished test; its partial recording is moved aside, not deleted."""
        return self.in_progress.discard(self._not_live(pending_id, ""), "discard", by)

    def _not_live(self, pending_id: int, advice: str) -> PendingTest:
        state = self.in_progress.get(pending_id)
        if state.live:
            raise StoreError(
                f"test {state.id} is still being recorded (process {state.pid} on {state.host})"
                + advice
            )
        return state

    def orphan_files(self) -> list[OrphanFile]:
        """Recordings in in-progress/ that no unfinished test claims.

        One whose bytes are already stored is what a crash between commit and
        clean-up leaves; any other is kept for the user to import by hand.
        """
        folder = self.folder
        if not folder.is_dir():
            return []
        claimed = {p.path.name for p in self.backend.list_pending(folder)}
        out = []
        for path in sorted(folder.iterdir()):
            if path.name.endswith(LOCK_SUFFIX) or path.name in claimed or not path.is_file():
                continue
            data = path.read_bytes()
            committed = bool(data) and self.backend.recording_exists(
                hashlib.sha256(data).hexdigest()
            )
            out.append(OrphanFile(path, len(data), committed))
        return out

    def clean(self) -> list[Path]:
        """Remove in-progress files whose bytes are safely stored, and stale locks."""
        removed = []
        for orphan in self.orphan_files():
            if orphan.committed:
                orphan.path.unlink(missing_ok=True)
                removed.append(orphan.path)
        folder = self.folder
        if folder.is_dir():
            claimed = {p.path.name + LOCK_SUFFIX for p in self.backend.list_pending(folder)}
            for path in folder.glob("*" + LOCK_SUFFIX):
                if path.name not in claimed and not is_locked(path):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed
