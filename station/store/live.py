"""Tests recorded live: begun (a row and a locked file in in-progress/), then finished or aborted.

``store.live`` of a :class:`~station.store.Store`; what a crash leaves is
found and recovered by :mod:`station.store.recovery`.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from calibration.certificate import Certificate
from station.analysis import AnalysisSettings
from station.store import protocols, validate
from station.store.athletes import Athletes
from station.store.certificates import as_certificate
from station.store.errors import StoreError
from station.store.in_progress import LOCK_SUFFIX, RECORDING_SUFFIX, InProgress
from station.store.locks import FileLock
from station.store.models import Athlete, PendingTest, TestRecord
from station.store.parts import Service


class LiveTests(Service):
    """Start a test, then commit its recording (or cancel it)."""

    def __init__(self, in_progress: InProgress, athletes: Athletes) -> None:
        super().__init__(in_progress.backend, in_progress.actor)
        self.in_progress = in_progress
        self.athletes = athletes

    def begin(
        self,
        athlete: Athlete | int | str,
        *,
        certificate: Certificate | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        rig_serial: str | None = None,
        operator: str | None = None,
        notes: str | None = None,
        protocol: str | None = None,
        rate_hz: float | None = None,
        by: str | None = None,
        knee_angle_deg: float | str | None = None,
        position: str | None = None,
    ) -> PendingTest:
        """Start a test: returns where to record (``PendingTest.path``, not yet created).

        Record into that path with ``firmware_bridge.recording.RecordingWriter``,
        then call :meth:`finish` (or :meth:`abort`).  If the station dies
        meanwhile, ``store.recovery.pending()`` finds the test on the next start.
        """
        who = self._who(by)
        subject = self.athletes.changeable(athlete)
        cert = None if certificate is None else as_certificate(certificate)
        operator = validate.text_field(operator, "operator")
        notes_text = validate.notes(notes)
        kind = protocols.resolve(protocol, knee_angle_deg, position)
        rig_serial = validate.text_field(rig_serial, "rig serial")
        rate = None if rate_hz is None else validate.sample_rate_hz(rate_hz)
        folder = self.in_progress.folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        file_name = f"test-{uuid.uuid4().hex}{RECORDING_SUFFIX}"
        lock = FileLock(folder / (file_name + LOCK_SUFFIX))
        if not lock.acquire():  # a fresh random name: only a broken file system gets here
            raise StoreError(f"cannot lock {lock.path}: check the data folder")
        try:
            pending_id = self.backend.insert_pending(
                subject.id,
                file_name,
                kind.protocol,
                rig_serial,
                None if cert is None else cert.to_dict(),
                operator,
                notes_text,
                socket.gethostname(),
                os.getpid(),
                who,
                rate,
                kind.knee_angle_deg,
                kind.position,
            )
        except BaseException:
            lock.release(remove=True)
            raise
        self.in_progress.locks[pending_id] = lock
        return self.in_progress.get(pending_id)

    def finish(
        self,
        pending: PendingTest | int,
        *,
        notes: str | None = None,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        by: str | None = None,
        training: Mapping[str, Any] | None = None,
    ) -> TestRecord:
        """Commit a recorded test (the recording must be closed); removes the in-progress file.

        ``training``: a training session's live zone figures, kept in its first result's
        metrics under ``"training"`` (they come from the live view, not the analysis)."""
        state = self._ours(pending)
        extra = validate.notes(notes) if notes is not None else None
        return self.in_progress.commit(
            state, recovered=False, notes=extra, settings=settings, by=by, training=training
        )

    def abort(self, pending: PendingTest | int, *, by: str | None = None) -> Path | None:
        """Cancel a test in progress: its partial recording is moved to discarded/."""
        return self.in_progress.discard(self._ours(pending), "abort", by)

    def _ours(self, pending: PendingTest | int) -> PendingTest:
        state = self.in_progress.get(pending.id if isinstance(pending, PendingTest) else pending)
        if state.id not in self.in_progress.locks and state.live:
            raise StoreError(f"test {state.id} is being recorded by another process")
        return state
