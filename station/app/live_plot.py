"""The live force plot: left and right traces of the last few seconds.

It draws from a :class:`~station.app.plot_buffer.PlotBuffer` on the window's
frame timer, never per sample: one ``setData`` per trace per frame, on views
of the buffer, with pyqtgraph clipping to the visible range and peak-preserving
downsampling to the pixel width.  The axes are set by hand (auto-range would
rescan every point each frame).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QWidget

from station.app import theme
from station.app.plot_buffer import PlotBuffer

MIN_Y_SPAN_N = 100.0  # a quiet trace still shows a sensible scale
Y_HEADROOM = 1.15


class LivePlot(pg.PlotWidget):
    """Force against time for both legs; call :meth:`refresh` once per frame."""

    def __init__(self, window_s: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.window_s = window_s
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.25)
        label_style = {"font-size": "13pt"}
        item.setLabel("left", "Force", units="N", **label_style)
        item.setLabel("bottom", "Time", units="s", **label_style)
        for axis in ("left", "bottom"):
            item.getAxis(axis).setTickFont(theme.font(11))
            item.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = item.addLegend(offset=(10, 10), labelTextSize="13pt")
        self.left_curve = item.plot(
            name="Left leg (N)", pen=pg.mkPen(theme.LEFT_COLOUR, width=2.5), connect="finite"
        )
        self.right_curve = item.plot(
            name="Right leg (N)",
            pen=pg.mkPen(theme.RIGHT_COLOUR, width=2.5, style=pg.QtCore.Qt.PenStyle.SolidLine),
            connect="finite",
        )
        for curve in (self.left_curve, self.right_curve):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        self.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.enableAutoRange(enable=False)
        self._y_top = MIN_Y_SPAN_N
        self._y_bottom = -10.0
        self.setYRange(self._y_bottom, self._y_top, padding=0)
        self.setXRange(0, window_s, padding=0)
        self.frames = 0
        # What the last refresh showed (set by the owner), and a hook called after each
        # paint: how tests and the benchmark see frames reach the screen.
        self.shown_marker: Any = None
        self.paint_listener: Callable[[], None] | None = None

    def clear_traces(self) -> None:
        self.left_curve.setData([], [])
        self.right_curve.setData([], [])
        self._y_top = MIN_Y_SPAN_N
        self._y_bottom = -10.0
        self.setYRange(self._y_bottom, self._y_top, padding=0)
        self.setXRange(0, self.window_s, padding=0)

    def refresh(self, buffer: PlotBuffer) -> None:
        """Show the buffer's last ``window_s`` seconds."""
        n = int(self.window_s * buffer.sample_rate_hz)
        x, y = buffer.view(n)
        if len(x) == 0:
            return
        self.left_curve.setData(x, y[0])
        self.right_curve.setData(x, y[1])
        end = float(x[-1])
        start = max(0.0, end - self.window_s) if end > self.window_s else 0.0
        self.setXRange(start, max(start + self.window_s, end), padding=0)
        with np.errstate(all="ignore"):
            top = float(np.nanmax(y)) if np.isfinite(y).any() else 0.0
            bottom = float(np.nanmin(y)) if np.isfinite(y).any() else 0.0
        top = max(MIN_Y_SPAN_N, top * Y_HEADROOM)
        bottom = min(-10.0, bottom * Y_HEADROOM)
        # Grow at once, shrink slowly: the scale does not jump between reps.
        self._y_top = top if top > self._y_top else self._y_top * 0.98 + top * 0.02
        self._y_bottom = bottom if bottom < self._y_bottom else self._y_bottom * 0.98 + bottom * 0.02
        self.setYRange(self._y_bottom, self._y_top, padding=0)
        self.frames += 1

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        super().paintEvent(event)
        if self.paint_listener is not None:
            self.paint_listener()
