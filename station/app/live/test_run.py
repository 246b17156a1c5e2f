"""One test from Start to a stored result: the store's live.begin → RecordingWriter path.

Why a separate object: the order matters and every step can fail.

1. ``store.live.begin`` registers the test and names its in-progress file;
   the recording is created there before the rig is asked to stream, so a
   crash at any later moment leaves a file the store recovers on next start.
2. The acquisition attaches the writer and restarts the stream; every byte
   from the rig is written (and flushed every 0.5 s) from the reader thread.
3. On Stop the writer is detached and closed, then ``store.live.finish``
   analyses the whole recording with the clinic's analysis settings (read
   from the Settings screen's preferences at Start) and commits it, on a
   worker thread.

A failure to save keeps the in-progress recording and the pending test, so
:meth:`retry_save` (or crash recovery) can still commit it: nothing recorded
is dropped.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, Signal

from firmware_bridge.recording import RecordingWriter
from station.analysis import AnalysisSettings
from station.app.rig.acquisition import Acquisition
from station.app.shell.dialogs import user_message
from station.app.shell.tasks import TaskRunner
from station.store.protocols import TestProtocol

log = logging.getLogger(__name__)


class RunState(StrEnum):
    """Where one test is between Start and a stored result."""

    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    SAVING = "saving"
    SAVE_FAILED = "save_failed"


IDLE = RunState.IDLE
STARTING = RunState.STARTING
RUNNING = RunState.RUNNING
STOPPING = RunState.STOPPING
SAVING = RunState.SAVING
SAVE_FAILED = RunState.SAVE_FAILED


class TestRun(QObject):
    """Start, stop and save one test at a time."""

    __test__ = False  # not a pytest class

    state_changed = Signal(str)
    started = Signal()
    saved = Signal(object)  # the stored TestRecord
    discarded = Signal(object)  # where the discarded recording was moved (a Path, or None)
    failed = Signal(str)  # one line for a dialog

    def __init__(
        self,
        store: Any,
        acquisition: Acquisition,
        operator: str = "",
        analysis_settings: Callable[[], AnalysisSettings] | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.acquisition = acquisition
        self.operator = operator or None
        # The clinic's analysis rules (the Settings screen), read at each Start: the test is
        # analysed and stored with them.  None: the analysis defaults.
        self.analysis_settings = analysis_settings
        self.settings: AnalysisSettings | None = None
        self.tasks = TaskRunner("station-store", self)
        self.state = IDLE
        self.pending: Any = None
        self.writer: RecordingWriter | None = None
        self.athlete: Any = None
        self.notes = ""
        self.keep = True  # False: Stop discards the test (asked when it had no reps)
        self.flag = ""  # why a test kept on purpose is unusual: saved with its notes

    @property
    def active(self) -> bool:
        """A test is being recorded or saved (leaving the screen or the app would cut it)."""
        return self.state in (STARTING, RUNNING, STOPPING, SAVING)

    def _set_state(self, state: RunState) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    # -- start -------------------------------------------------------------------
    def start(self, athlete: Any, kind: TestProtocol | None = None) -> None:
        """Begin a test for ``athlete`` on the connected rig (asynchronously), of protocol
        ``kind`` (default Nordic): stored with the test, which is analysed under it."""
        if self.active:
            return
        acquisition = self.acquisition
        choice = acquisition.calibration
        if choice is None or not acquisition.is_connected:
            self.failed.emit("Connect a rig before starting a test.")
            return
        try:
            self.settings = None if self.analysis_settings is None else self.analysis_settings()
        except ValueError as exc:
            self.failed.emit(
                f"The analysis settings cannot be used ({user_message(exc)}): correct them on "
                "the Settings screen, then start again."
            )
            return
        self.athlete = athlete
        self.notes = ""
        self.keep, self.flag = True, ""
        self._set_state(STARTING)
        certificate = choice.certificate.to_dict()
        serial = acquisition.serial_number
        info = acquisition.info
        url = acquisition.url
        kind = kind or TestProtocol()
        metadata = {
            "athlete_id": athlete.id,
            "source": acquisition.kind,
            "calibration_source": choice.source,
            # The recording says what it is: an import of it (replay, or after a lost
            # database) is analysed under the same protocol.
            "protocol": kind.protocol,
            "knee_angle_deg": kind.knee_angle_deg,
            "position": kind.position,
        }

        def prepare() -> tuple[Any, RecordingWriter]:
            pending = self.store.live.begin(
                athlete.id,
                certificate=certificate,
                rig_serial=serial,
                operator=self.operator,
                protocol=kind.protocol,
                knee_angle_deg=kind.knee_angle_deg,
                position=kind.position,
            )
            try:
                writer = RecordingWriter(
                    pending.path,
                    port=url,
                    info=info,
                    calibration=certificate,
                    metadata={**metadata, "pending_id": pending.id},
                )
            except BaseException:
                with contextlib.suppress(Exception):
                    self.store.live.abort(pending)
                raise
            return pending, writer

        self.tasks.submit(prepare, self._prepared, self._start_failed)

    def _prepared(self, prepared: tuple[Any, RecordingWriter]) -> None:
        self.pending, self.writer = prepared
        self.acquisition.begin_recording(self.writer, self._recording, self._start_failed)

    def _recording(self) -> None:
        self._set_state(RUNNING)
        self.started.emit()

    def _start_failed(self, exc: BaseException) -> None:
        writer, pending = self.writer, self.pending
        self.writer = self.pending = None

        def clean() -> None:
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
            if pending is not None:
                with contextlib.suppress(Exception):
                    self.store.live.abort(pending)

        self.tasks.submit(clean)
        self._set_state(IDLE)
        self.failed.emit(f"The test could not start: {user_message(exc)}")

    # -- stop and save --------------------------------------------------------------
    def stop(self, keep: bool = True, flag: str = "") -> None:
        """Stop recording, then analyse and store the test (asynchronously).

        ``keep=False`` discards it instead (the recording is moved to the discarded
        folder, never deleted); ``flag`` says why a kept test is unusual and is saved
        at the head of its notes.
        """
        if self.state != RUNNING:
            return
        self.keep, self.flag = keep, flag
        self._set_state(STOPPING)
        self.acquisition.end_recording(self._stopped)

    def _stopped(self, writer: RecordingWriter | None) -> None:
        writer = writer or self.writer
        self.writer = writer
        if self.keep:
            self._save()
        else:
            self._discard()

    def _discard(self) -> None:
        self._set_state(SAVING)
        writer, pending = self.writer, self.pending

        def drop() -> Any:
            if writer is not None and not writer.closed:
                writer.close()
            return self.store.live.abort(pending)

        def done(moved: Any) -> None:
            self.pending = self.writer = None
            self._set_state(IDLE)
            self.discarded.emit(moved)

        self.tasks.submit(drop, done, self._save_failed)

    def _save(self) -> None:
        self._set_state(SAVING)
        writer, pending = self.writer, self.pending
        notes = "\n".join(t for t in (self.flag, self.notes) if t) or None
        settings = self.settings

        def commit() -> Any:
            if writer is not None and not writer.closed:
                writer.close()
            return self.store.live.finish(pending, notes=notes, settings=settings)

        self.tasks.submit(commit, self._committed, self._save_failed)

    def _committed(self, test: Any) -> None:
        self.pending = None
        self.writer = None
        self._set_state(IDLE)
        self.saved.emit(test)

    def _save_failed(self, exc: BaseException) -> None:
        self._set_state(SAVE_FAILED)
        where = getattr(self.pending, "path", None)
        self.failed.emit(
            f"The test could not be saved: {user_message(exc)}. The recording is kept"
            + (f" ({where})" if where else "")
            + "; try saving again, or it will be offered for recovery at the next start."
        )

    def retry_save(self) -> None:
        if self.state == SAVE_FAILED and self.pending is not None:
            self._save() if self.keep else self._discard()

    def abandon(self) -> None:
        """Give up a failed save: the recording stays for crash recovery."""
        if self.state == SAVE_FAILED:
            self.pending = self.writer = None
            self._set_state(IDLE)

    def shutdown(self) -> Any:
        """The app closes: a test still running is stopped, its file closed and, since the
        user chose to close, saved as a normal test (noted as cut short by the close, never
        called a crash).  If saving fails it stays for recovery at the next start.  Returns
        the saved test, or None."""
        writer, pending = self.writer, self.pending
        was_running = self.state in (STARTING, RUNNING, STOPPING)
        if writer is not None and not writer.closed:
            with contextlib.suppress(Exception):
                self.acquisition.close()
                writer.close()
        self.tasks.shutdown(wait=True)
        if not was_running or pending is None or self.pending is None:
            return None
        note = "The station was closed during this test: it was saved at that moment."
        try:
            test = self.store.live.finish(
                pending, notes="\n".join(t for t in (note, self.notes) if t), settings=self.settings
            )
        except Exception:  # noqa: BLE001 - kept in progress: offered for recovery next time
            log.warning("a test cut short by closing the station could not be saved", exc_info=True)
            return None
        self.pending = self.writer = None
        self._set_state(IDLE)
        return test
