"""The live plot's display clock: at most one redraw per frame, whenever data waits.

Sample blocks reach the GUI at the rig's cadence, not the screen's: at 80 Hz
a rig sends a few samples every 50-100 ms, at 2 kHz a block every 15 ms, and
after any hold-up of the GUI thread several batches arrive back to back (the
acquisition hands them over in one wake-up, or in a few wake-ups in a row).
Redrawing once per batch would redraw for bursts nobody sees and tie the
plot's cost to the rig's block size.  Instead, a batch only *asks* for a
frame: the first request after a quiet spell is drawn on the next pass of the
event loop (no added latency), and requests within one frame interval of the
last frame wait for the next frame boundary, however many there are.  The
clock never ticks while nothing arrives.

The interval (10 ms, at most 100 frames a second) is below the batch period
of the usual rig frames (15 ms at 2 kHz, 50 ms at 80 Hz), so at those rates
no batch waits: a cap at the batch rate or under it (16 ms against 15 ms
batches) delays every batch a little more than the last, a saw-tooth that
took the 2 kHz device-to-pixel latency from 5.7 to 20.8 ms (p95,
bench/bench_app.py).  The cap matters for rigs that send a few samples a
frame, many hundred frames a second: without it the plot would redraw on
every pass of the event loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer

FRAME_INTERVAL_MS = 10  # at most 100 frames a second


class FrameClock(QObject):
    """Calls ``draw`` once per frame while :meth:`request` was called since the last one.

    ``clock`` (seconds, monotonic) is injectable so tests can place frames in time.
    """

    def __init__(
        self,
        draw: Callable[[], None],
        interval_ms: int = FRAME_INTERVAL_MS,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.interval_ms = int(interval_ms)
        self.clock = clock
        self.frames = 0  # frames drawn (read by tests)
        self.requests = 0  # requests made (read by tests: many requests, few frames)
        self._draw = draw
        self._last_frame = -math.inf
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._frame)

    @property
    def pending(self) -> bool:
        """A frame is asked for and not drawn yet."""
        return self._timer.isActive()

    def delay_ms(self) -> int:
        """How long a request made now waits: until one interval after the last frame."""
        wait_s = self._last_frame + self.interval_ms / 1000.0 - self.clock()
        return math.ceil(round(wait_s * 1000.0, 6)) if wait_s > 0 else 0

    def request(self) -> None:
        """New data to show: draw it on the next frame (one frame for any number of calls)."""
        self.requests += 1
        if not self._timer.isActive():
            self._timer.start(self.delay_ms())

    def cancel(self) -> None:
        """Forget a frame asked for (what it would show is gone: a new test, a new rig)."""
        self._timer.stop()

    def _frame(self) -> None:
        self._last_frame = self.clock()
        self.frames += 1
        self._draw()
