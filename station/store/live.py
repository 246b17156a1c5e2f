"""Tests recorded live, and the recovery of those a crash interrupted.

A test in progress is a row in the database plus a recording file (and its
lock) in in-progress/; it is committed, recovered or discarded, never lost.
Part of :class:`~station.store.Store`.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from calibration.certificate import Certificate
from firmware_bridge.capture import CaptureError
from station import paths
from station.analysis import AnalysisSettings
from station.store import processing, protocols, validate
from station.store.certificates import as_certificate
from station.store.errors import NotFoundError, StoreError
from station.store.importing import analysed_test, capture_started, read_stable
from station.store.locks import FileLock, is_locked
from station.store.models import Athlete, OrphanFile, PendingTest, TestRecord
from station.store.parts import StoreParts

RECORDING_SUFFIX = ".nsrec"
LOCK_SUFFIX = ".lock"


class LiveTests(StoreParts):
    @property
    def in_progress(self) -> Path:
        return paths.in_progress_dir(self.folder)

    def begin_test(
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
        then call :meth:`finish_test` (or :meth:`abort_test`).  If the station
        dies meanwhile, :meth:`pending_tests` finds the test on the next start.
        """
        who = self._who(by)
        subject = self._changeable(athlete)
        cert = None if certificate is None else as_certificate(certificate)
        operator = validate.text_field(operator, "operator")
        notes_text = validate.notes(notes)
        kind = protocols.resolve(protocol, knee_angle_deg, position)
        rig_serial = validate.text_field(rig_serial, "rig serial")
        rate = None if rate_hz is None else validate.sample_rate_hz(rate_hz)
        folder = self.in_progress
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
        self._locks[pending_id] = lock
        return self._pending_state(self.backend.get_pending(pending_id, folder))  # type: ignore[arg-type]

    def _pending_state(self, pending: PendingTest) -> PendingTest:
        lock_path = pending.path.with_name(pending.path.name + LOCK_SUFFIX)
        ours = pending.id in self._locks
        live = ours or is_locked(lock_path)
        try:
            size: int | None = pending.path.stat().st_size
        except FileNotFoundError:
            size = None
        return replace(pending, live=live, size=size)

    def pending_tests(self, *, include_live: bool = True) -> list[PendingTest]:
        """Tests begun and not finished; ``live`` False means left by a crash."""
        out = [self._pending_state(p) for p in self.backend.list_pending(self.in_progress)]
        return out if include_live else [p for p in out if not p.live]

    def get_pending(self, pending_id: int) -> PendingTest:
        pending = self.backend.get_pending(int(pending_id), self.in_progress)
        if pending is None:
            raise NotFoundError(
                f"no unfinished test {pending_id}: see 'nordic-station recover --list'"
            )
        return self._pending_state(pending)

    def finish_test(
        self,
        pending: PendingTest | int,
        *,
        notes: str | None = None,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> TestRecord:
        """Commit a recorded test (the recording must be closed); removes the in-progress file."""
        state = self.get_pending(pending.id if isinstance(pending, PendingTest) else pending)
        if state.id not in self._locks and state.live:
            raise StoreError(f"test {state.id} is being recorded by another process")
        extra = validate.notes(notes) if notes is not None else None
        return self._commit_pending(state, recovered=False, notes=extra, settings=settings, by=by)

    def recover_test(
        self,
        pending_id: int,
        *,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> TestRecord:
        """Import what a crashed test recorded, flagged as recovered."""
        state = self.get_pending(pending_id)
        if state.live:
            raise StoreError(
                f"test {state.id} is still being recorded (process {state.pid} on {state.host}): "
                "finish it there"
            )
        return self._commit_pending(state, recovered=True, notes=None, settings=settings, by=by)

    def _commit_pending(
        self,
        state: PendingTest,
        *,
        recovered: bool,
        notes: str | None,
        settings: AnalysisSettings | Mapping[str, Any] | None,
        by: str | None,
    ) -> TestRecord:
        who = self._who(by)
        if state.size is None or state.size == 0:
            raise StoreError(
                f"test {state.id} recorded nothing ({state.path.name} is "
                f"{'missing' if state.size is None else 'empty'}): discard it with "
                f"'nordic-station recover --discard {state.id}'"
            )
        try:
            blob, capture = read_stable(state.path, state.rate_hz)
        except CaptureError as exc:
            if not recovered:  # a live test: most likely the recording is still open
                raise StoreError(
                    f"test {state.id}: {exc} (close the recording before finishing the test)"
                ) from None
            raise StoreError(
                f"test {state.id}: {exc}; discard it with 'nordic-station recover --discard "
                f"{state.id}'"
            ) from None
        stored_cert = (
            None
            if state.certificate_id is None
            else self.get_certificate(state.certificate_id).data
        )
        chosen = processing.certificate_for(capture, stored_cert, f"test {state.id}")
        when = capture_started(capture) or state.started_at
        kind = protocols.TestProtocol(state.protocol, state.knee_angle_deg, state.position)
        analysed = self._analyse(state.athlete_id, capture, chosen, when, kind.settings(settings))
        warnings = list(analysed.warnings)
        if recovered:
            warnings.insert(
                0,
                "recovered after the station stopped during the test: the recording may end early",
            )
        text = state.notes if notes is None else "\n".join(t for t in (state.notes, notes) if t)
        source = "recovered" if recovered else "live"
        new = analysed_test(
            state.athlete_id,
            when,
            kind,
            blob,
            analysed,
            source,
            source=source,
            recovered=recovered,
            rig_serial=analysed.rig_serial or state.rig_serial,
            operator=state.operator,
            notes=text,
            pending_id=state.id,
            warnings=warnings,
        )
        test_id = self.backend.save_test(new, who)
        # Committed: the bytes are in the database, so the in-progress file can go.
        state.path.unlink(missing_ok=True)
        self._drop_lock(state)
        return self.get_test(test_id)

    def _drop_lock(self, state: PendingTest) -> None:
        lock = self._locks.pop(state.id, None)
        lock_path = state.path.with_name(state.path.name + LOCK_SUFFIX)
        if lock is not None:
            lock.release(remove=True)
        else:
            probe = FileLock(lock_path)
            if probe.acquire():
                probe.release(remove=True)

    def abort_test(self, pending: PendingTest | int, *, by: str | None = None) -> Path | None:
        """Cancel a test in progress: its partial recording is moved to discarded/."""
        state = self.get_pending(pending.id if isinstance(pending, PendingTest) else pending)
        if state.id not in self._locks and state.live:
            raise StoreError(f"test {state.id} is being recorded by another process")
        return self._discard(state, "abort", by)

    def discard_pending(self, pending_id: int, *, by: str | None = None) -> Path | None:
        """Give up an unfinished test; its partial recording is moved aside, not deleted."""
        state = self.get_pending(pending_id)
        if state.live:
            raise StoreError(
                f"test {state.id} is still being recorded (process {state.pid} on {state.host})"
            )
        return self._discard(state, "discard", by)

    def _discard(self, state: PendingTest, action: str, by: str | None) -> Path | None:
        moved: Path | None = None
        if state.path.exists():
            target_dir = paths.discarded_dir(self.folder)
            target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            moved = target_dir / state.path.name
            os.replace(state.path, moved)
        self.backend.delete_pending(
            state.id,
            self._who(by),
            action,
            {
                "athlete_id": state.athlete_id,
                "started_at": state.started_at,
                "size": state.size,
                "moved_to": None if moved is None else str(moved),
            },
        )
        self._drop_lock(state)
        return moved

    def orphan_files(self) -> list[OrphanFile]:
        """Recordings in in-progress/ that no unfinished test claims.

        One whose bytes are already stored is what a crash between commit and
        clean-up leaves; any other is kept for the user to import by hand.
        """
        folder = self.in_progress
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

    def clean_in_progress(self) -> list[Path]:
        """Remove in-progress files whose bytes are safely stored, and stale locks."""
        removed = []
        for orphan in self.orphan_files():
            if orphan.committed:
                orphan.path.unlink(missing_ok=True)
                removed.append(orphan.path)
        folder = self.in_progress
        if folder.is_dir():
            claimed = {p.path.name + LOCK_SUFFIX for p in self.backend.list_pending(folder)}
            for path in folder.glob("*" + LOCK_SUFFIX):
                if path.name not in claimed and not is_locked(path):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed
