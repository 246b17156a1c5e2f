"""The recording as a listener of a link's bytes: everything in and out, on disk.

The link hands every byte it receives (before decoding it), every command it
sends, the rig's INFO and its own state changes and errors to the tee; the
tee writes them to the attached :class:`~firmware_bridge.recording.RecordingWriter`.
A recorder that fails (a full disk) is detached and the failure reported
through ``on_failure``: the link goes on, nothing is raised in its reader.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from firmware_bridge.messages import Info
from firmware_bridge.recording import RecordingWriter

log = logging.getLogger(__name__)


class RecordingTee:
    """Bytes and events of a link, to its recorder (if one is attached).

    Times are on the link's clock; the recorder's ``start_monotonic`` must
    be on the same clock (it is, with the default ``time.monotonic``).
    """

    def __init__(
        self, recorder: RecordingWriter | None, on_failure: Callable[[Exception], None]
    ) -> None:
        self._recorder = recorder
        self._recorded_info: Info | None = None
        self._lock = threading.RLock()
        self._on_failure = on_failure

    @property
    def recorder(self) -> RecordingWriter | None:
        return self._recorder

    def attach(self, recorder: RecordingWriter, info: Info | None) -> None:
        """Record from now on (the header gets ``info`` if it lacks it)."""
        with self._lock:
            self._recorder = recorder
            self._recorded_info = None
            if info is not None:
                self.info(info)

    def detach(self) -> RecordingWriter | None:
        """Stop recording; returns the writer (still open) after its last write."""
        with self._lock:
            recorder, self._recorder = self._recorder, None
            return recorder

    def received(self, data: bytes, now: float) -> None:
        """Bytes from the rig, exactly as read."""
        self._apply(lambda rec: rec.write(data, now - rec.start_monotonic))

    def sent(self, data: bytes, now: float) -> None:
        """Bytes the host sent to the rig."""
        self._apply(lambda rec: rec.write_sent(data, now - rec.start_monotonic))

    def note(self, event: str, **fields: Any) -> None:
        """A link event (a state change, an error) in the file."""
        self._apply(lambda rec: rec.note(event, **fields))

    def info(self, info: Info) -> None:
        """Put a new INFO in the recording's header, once per change."""
        with self._lock:
            recorder = self._recorder
            if recorder is None or info == self._recorded_info:
                return
            if self._recorded_info is None and recorder.header.get("info") == info.to_dict():
                self._recorded_info = info
                return
            try:
                recorder.set_info(info)
                self._recorded_info = info
            except Exception as exc:
                self._failed(exc)

    def _apply(self, action: Callable[[RecordingWriter], None]) -> None:
        with self._lock:
            recorder = self._recorder
            if recorder is None:
                return
            try:
                action(recorder)
            except Exception as exc:
                self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """(under the lock) stop recording and say so; the link goes on."""
        self._recorder = None
        log.error("recording stopped: %s", exc)
        self._on_failure(exc)
