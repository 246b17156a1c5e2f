"""Run slow calls (opening a port, rig commands, analysing and saving a test) off the GUI thread.

The GUI must never wait on I/O: a rig command waits up to a second for its
ACK and saving a long test analyses the whole recording.  A :class:`TaskRunner`
runs each call on one worker thread, in order, and delivers its result or its
exception back on the GUI thread through a queued Qt signal, so callbacks can
touch widgets safely.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

Callback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class TaskRunner(QObject):
    """A single worker thread whose results come back as GUI-thread callbacks."""

    _finished = Signal(object, object, object)  # callback, value, error callback/exception pair

    def __init__(self, name: str = "station-task", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._finished.connect(self._deliver)
        self._lock = threading.Lock()
        self.pending = 0

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> Future:
        """Run ``fn()`` on the worker, then ``on_done(value)`` or ``on_error(exc)`` on the GUI
        thread."""
        with self._lock:
            self.pending += 1

        def work() -> Any:
            try:
                value = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the GUI, never lost
                self._finished.emit(None, None, (on_error, exc))
                raise
            self._finished.emit(on_done, value, None)
            return value

        return self._pool.submit(work)

    def _deliver(self, on_done: Callback | None, value: Any, failure: Any) -> None:
        with self._lock:
            self.pending -= 1
        if failure is not None:
            on_error, exc = failure
            if on_error is None:
                raise exc
            on_error(exc)
        elif on_done is not None:
            on_done(value)

    @property
    def idle(self) -> bool:
        return self.pending == 0

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=False)
