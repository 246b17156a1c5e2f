"""Tests in progress: a row in the database plus a recording file (and its lock) in in-progress/.

Shared by :mod:`station.store.live` (tests being recorded now) and
:mod:`station.store.recovery` (those a crash interrupted); a test in progress
is committed, recovered or discarded, never lost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from firmware_bridge.capture import CaptureError
from station import paths
from station.analysis import AnalysisSettings
from station.store.backend import Backend
from station.store.certificates import Certificates
from station.store.errors import NotFoundError, StoreError
from station.store.importing import read_stable
from station.store.locks import FileLock, is_locked
from station.store.models import PendingTest, TestRecord
from station.store.new_tests import Origin, TestCreation
from station.store.parts import Service

RECORDING_SUFFIX = ".nsrec"
LOCK_SUFFIX = ".lock"


class InProgress(Service):
    """The in-progress folder of one data folder, and the locks this process holds in it."""

    def __init__(
        self,
        backend: Backend,
        actor: str,
        data_folder: Path,
        certificates: Certificates,
        new_tests: TestCreation,
    ) -> None:
        super().__init__(backend, actor)
        self.data_folder = data_folder
        self.certificates = certificates
        self.new_tests = new_tests
        self.locks: dict[int, FileLock] = {}

    @property
    def folder(self) -> Path:
        return paths.in_progress_dir(self.data_folder)

    def state(self, pending: PendingTest) -> PendingTest:
        """A pending test with whether someone is recording it and how much is recorded."""
        lock_path = pending.path.with_name(pending.path.name + LOCK_SUFFIX)
        ours = pending.id in self.locks
        live = ours or is_locked(lock_path)
        try:
            size: int | None = pending.path.stat().st_size
        except FileNotFoundError:
            size = None
        return replace(pending, live=live, size=size)

    def pending(self, *, include_live: bool = True) -> list[PendingTest]:
        out = [self.state(p) for p in self.backend.list_pending(self.folder)]
        return out if include_live else [p for p in out if not p.live]

    def get(self, pending_id: int) -> PendingTest:
        pending = self.backend.get_pending(int(pending_id), self.folder)
        if pending is None:
            raise NotFoundError(
                f"no unfinished test {pending_id}: see 'nordic-station recover --list'"
            )
        return self.state(pending)

    def commit(
        self,
        state: PendingTest,
        *,
        recovered: bool,
        notes: str | None,
        settings: AnalysisSettings | Mapping[str, Any] | None,
        by: str | None,
        training: Mapping[str, Any] | None = None,
    ) -> TestRecord:
        """Save what a pending test recorded as a test, then remove its file and lock."""
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
            else self.certificates.get(state.certificate_id).data
        )
        text = state.notes if notes is None else "\n".join(t for t in (state.notes, notes) if t)
        source = "recovered" if recovered else "live"
        first = (
            ("recovered after the station stopped during the test: the recording may end early",)
            if recovered
            else ()
        )
        origin = Origin(
            source=source,
            reason=source,
            protocol=state.protocol,
            knee_angle_deg=state.knee_angle_deg,
            position=state.position,
            operator=state.operator,
            notes=text,
            rig_serial=state.rig_serial,
            recovered=recovered,
            pending_id=state.id,
            warnings=first,
            training=None if training is None else dict(training),
        )
        test = self.new_tests.save_capture(
            state.athlete_id,
            blob,
            capture,
            origin,
            certificate=stored_cert,
            described_as=f"test {state.id}",
            recorded_at=None,
            started_at=state.started_at,
            settings=settings,
            who=who,
        )
        # Committed: the bytes are in the database, so the in-progress file can go.
        state.path.unlink(missing_ok=True)
        self.drop_lock(state)
        return test

    def drop_lock(self, state: PendingTest) -> None:
        lock = self.locks.pop(state.id, None)
        lock_path = state.path.with_name(state.path.name + LOCK_SUFFIX)
        if lock is not None:
            lock.release(remove=True)
        else:
            probe = FileLock(lock_path)
            if probe.acquire():
                probe.release(remove=True)

    def discard(self, state: PendingTest, action: str, by: str | None) -> Path | None:
        """Move a pending test's partial recording to discarded/ and forget the test."""
        moved: Path | None = None
        if state.path.exists():
            target_dir = paths.discarded_dir(self.data_folder)
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
        self.drop_lock(state)
        return moved

    def release_all(self) -> None:
        for lock in self.locks.values():
            lock.release()
        self.locks.clear()
