"""The live force plot: left and right traces of the last few seconds.

It draws from a :class:`~station.app.live.plot_buffer.PlotBuffer` on its display
clock (:class:`~station.app.live.frame_clock.FrameClock`), never per sample nor per
batch of blocks: arriving samples ask for a frame (:meth:`LivePlot.show_latest`),
and one frame draws whatever arrived since the last.  A frame is one ``setData``
per trace, on views of the buffer, with pyqtgraph clipping to the visible range
and peak-preserving downsampling to the pixel width.  The axes are set by hand
and move in steps (the time axis pages forward a second at a time, the force
axis snaps to 50 N), because re-laying out the axes and grid is the dearest
part of a frame: most frames only redraw the two traces, the axes coming from
their cached pixmaps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPaintEvent
from PySide6.QtWidgets import QGraphicsItem, QWidget

from station.app.live.frame_clock import FrameClock
from station.app.live.plot_buffer import PlotBuffer
from station.app.shell import theme
from station.present.units import force_unit

MIN_Y_SPAN_N = 100.0  # a quiet trace still shows a sensible scale
Y_HEADROOM = 1.1
FORCE_STEP_N = 50.0
FLOOR_STEP_N = 10.0  # below zero only noise and a bad tare show: a finer step
TIME_STEP_S = 1.0
SHRINK_AFTER_FRAMES = 180  # about three seconds of frames
DOWNSAMPLE_FACTOR = 1.0  # samples per pixel kept by the automatic downsampling


def set_force_axis(item: pg.PlotItem, unit: str, label: str = "Force", **style: Any) -> None:
    """Label a plot's left axis in the display unit; the data stay in newtons.

    The axis scales its tick labels (pyqtgraph picks round ticks in the shown unit),
    so curves, reference lines and axis ranges are all still set in N.
    """
    chosen = force_unit(unit)
    axis = item.getAxis("left")
    axis.setScale(1.0 / chosen.newtons)
    item.setLabel("left", label, units=chosen.symbol, **style)


def leg_name(leg: str, unit: str) -> str:
    """A legend entry: "Left leg (kgf)"."""
    return f"{leg.capitalize()} leg ({force_unit(unit).symbol})"


class LivePlot(pg.PlotWidget):
    """Force against time for both legs: :meth:`show_latest` as samples arrive (drawn on
    the next frame), :meth:`refresh` to draw at once."""

    def __init__(self, window_s: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.window_s = window_s
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.25)
        self.unit = "N"
        self.label_style = {"font-size": "13pt"}
        label_style = self.label_style
        item.setLabel("left", "Force", units="N", **label_style)
        item.setLabel("bottom", "Time", units="s", **label_style)
        for axis in ("left", "bottom"):
            item.getAxis(axis).setTickFont(theme.font(11))
            item.getAxis(axis).enableAutoSIPrefix(False)
            # Major and minor grid lines only: the finest level adds hundreds of lines a frame.
            item.getAxis(axis).setStyle(maxTickLevel=1)
            # Each axis draws its ticks, labels and grid lines across the whole plot, so every
            # frame's traces overlap it: kept as a pixmap, it is drawn again only when it
            # changes (a page of the time axis, a new force scale), not on every frame
            # (a frame's paint 1.5 ms instead of 2.2 ms, bench/bench_sync_app.py's window).
            item.getAxis(axis).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.legend = item.addLegend(offset=(10, 10), labelTextSize="13pt")
        # About two samples per pixel after peak-preserving downsampling: peaks survive,
        # and a frame draws a few thousand segments instead of tens of thousands.
        curve_options = {"connect": "finite", "autoDownsampleFactor": DOWNSAMPLE_FACTOR}
        self.left_curve = item.plot(
            name=leg_name("left", "N"), pen=pg.mkPen(theme.LEFT_COLOUR, width=2.5), **curve_options
        )
        self.right_curve = item.plot(
            name=leg_name("right", "N"),
            pen=pg.mkPen(theme.RIGHT_COLOUR, width=2.5),
            **curve_options,
        )
        for curve in (self.left_curve, self.right_curve):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        self.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.enableAutoRange(enable=False)
        self.frames = 0
        self.bands: list[pg.LinearRegionItem] = []
        self.highlight: PlotBuffer | None = None
        self.highlight_curves: list[pg.PlotDataItem] = []
        self._band_top = 0.0  # the force axis always shows the highest band
        self._y_top = self._y_bottom = 0.0  # set by clear_traces
        self.frame_clock = FrameClock(self._draw_latest, parent=self)
        self._latest: PlotBuffer | None = None
        self._latest_marker: Any = None
        self.clear_traces()
        # What the last refresh showed (set by the owner), and a hook called after each
        # paint: how tests and the benchmark see frames reach the screen.
        self.shown_marker: Any = None
        self.paint_listener: Callable[[], None] | None = None

    def show_latest(self, buffer: PlotBuffer, marker: Any = None) -> None:
        """New samples in ``buffer``: drawn on the next frame, with any that follow before it
        (``marker``: what they are, shown as :attr:`shown_marker` once drawn)."""
        self._latest = buffer
        self._latest_marker = marker
        self.frame_clock.request()

    def _draw_latest(self) -> None:
        buffer, self._latest = self._latest, None
        if buffer is None:
            return
        self.shown_marker = self._latest_marker
        self.refresh(buffer)

    def set_reference(self, value_n: float | None, label: str = "") -> None:
        """Draw the athlete's reference line (a force in N; None: none applies)."""
        item = self.getPlotItem()
        old = getattr(self, "reference_line", None)
        if old is not None:
            item.removeItem(old)
        self.reference_line = None
        if value_n is None:
            return
        self.reference_line = pg.InfiniteLine(
            pos=value_n,
            angle=0,
            pen=pg.mkPen(theme.REFERENCE_COLOUR, width=1.5, style=Qt.PenStyle.DashLine),
            label=label,
            # Below the line at its right end: inside the plot, clear of the legend.
            labelOpts={
                "position": 0.98,
                "color": theme.REFERENCE_COLOUR,
                "anchors": [(1, 0), (1, 0)],
            },
        )
        item.addItem(self.reference_line)

    def set_bands(self, bands: Sequence[tuple[float, float, str]]) -> None:
        """Shade force bands behind the traces, each ``(low N, high N, colour)`` (a training
        zone, one per leg when they differ); an empty list removes them.  The force axis
        grows to show the highest band whole."""
        item = self.getPlotItem()
        for band in self.bands:
            item.removeItem(band)
        self.bands = []
        for low, high, colour in bands:
            fill = QColor(colour)
            fill.setAlpha(45)
            edge = QColor(colour)
            edge.setAlpha(160)
            band = pg.LinearRegionItem(
                values=(low, high),
                orientation="horizontal",
                movable=False,
                brush=fill,
                pen=pg.mkPen(edge, width=1.5, style=Qt.PenStyle.DashLine),
            )
            band.setZValue(-10)  # behind the traces
            item.addItem(band)
            self.bands.append(band)
        self._band_top = max((high for _, high, _ in bands), default=0.0)
        top = max(self._y_top, self._min_top())
        if top != self._y_top:
            self._y_top = top
            self.setYRange(self._y_bottom, self._y_top, padding=0)

    def set_highlight(
        self, buffer: PlotBuffer | None, colour: str = theme.GOOD, label: str = ""
    ) -> None:
        """Draw ``buffer``'s samples as a wide halo in ``colour`` behind the traces (NaN where
        nothing is highlighted: e.g. a leg's force only while it is in a training zone, the
        trace keeping its leg's colour on top), named ``label`` in the legend.  None
        removes the halo."""
        item = self.getPlotItem()
        for curve in self.highlight_curves:
            self.legend.removeItem(curve)
            item.removeItem(curve)
        self.highlight_curves = []
        self.highlight = buffer
        if buffer is None:
            return
        for _ in range(buffer.channels):
            curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=9), connect="finite")
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            curve.setZValue(-5)  # behind the traces, in front of any band
            item.addItem(curve)
            self.highlight_curves.append(curve)
        if label:
            self.legend.addItem(self.highlight_curves[0], label)

    def set_unit(self, unit: str) -> None:
        """Label the force axis and legend in ``unit`` (the buffer stays in newtons)."""
        item = self.getPlotItem()
        set_force_axis(item, unit, **self.label_style)
        for curve, leg in ((self.left_curve, "left"), (self.right_curve, "right")):
            label = self.legend.getLabel(curve)
            if label is not None:
                label.setText(leg_name(leg, unit))
        self.unit = force_unit(unit).symbol

    def clear_traces(self) -> None:
        """Empty traces and the starting axes (a new test)."""
        self.frame_clock.cancel()
        self._latest = None
        self.left_curve.setData([], [])
        self.right_curve.setData([], [])
        for curve in self.highlight_curves:
            curve.setData([], [])
        self._y_top = self._min_top()
        self._y_bottom = -FLOOR_STEP_N
        self._shrink_votes = 0
        self._x_start = 0.0
        self.setYRange(self._y_bottom, self._y_top, padding=0)
        self.setXRange(0, self.window_s + TIME_STEP_S, padding=0)

    def refresh(self, buffer: PlotBuffer) -> None:
        """Show the buffer's last ``window_s`` seconds."""
        n = int((self.window_s + TIME_STEP_S) * buffer.sample_rate_hz)
        x, y = buffer.view(n)
        if len(x) == 0:
            return
        self.left_curve.setData(x, y[0])
        self.right_curve.setData(x, y[1])
        if self.highlight is not None:
            hx, hy = self.highlight.view(n)
            for channel, curve in enumerate(self.highlight_curves):
                curve.setData(hx, hy[channel])
        end = float(x[-1])
        # Page the time axis a whole step at a time: the newest sample stays in view with
        # between one and two steps of room on its right.
        start = max(
            0.0, math.floor((end - self.window_s + TIME_STEP_S) / TIME_STEP_S) * TIME_STEP_S
        )
        if start != self._x_start:
            self._x_start = start
            self.setXRange(start, start + self.window_s + TIME_STEP_S, padding=0)
        with np.errstate(all="ignore"):
            finite = np.isfinite(y).any()
            top = float(np.nanmax(y)) if finite else 0.0
            bottom = float(np.nanmin(y)) if finite else 0.0
        top = max(self._min_top(), math.ceil(top * Y_HEADROOM / FORCE_STEP_N) * FORCE_STEP_N)
        bottom = min(-FLOOR_STEP_N, math.floor(bottom * Y_HEADROOM / FLOOR_STEP_N) * FLOOR_STEP_N)
        # Grow at once; shrink only when the trace has stayed well inside for a while.
        if top > self._y_top or bottom < self._y_bottom:
            self._y_top, self._y_bottom = max(top, self._y_top), min(bottom, self._y_bottom)
            self._shrink_votes = 0
            self.setYRange(self._y_bottom, self._y_top, padding=0)
        elif top < self._y_top or bottom > self._y_bottom:
            self._shrink_votes += 1
            if self._shrink_votes >= SHRINK_AFTER_FRAMES:
                self._y_top, self._y_bottom = top, bottom
                self._shrink_votes = 0
                self.setYRange(self._y_bottom, self._y_top, padding=0)
        else:
            self._shrink_votes = 0
        self.frames += 1

    def _min_top(self) -> float:
        """The lowest top of the force axis: a sensible scale, and any band whole."""
        band = math.ceil(self._band_top * Y_HEADROOM / FORCE_STEP_N) * FORCE_STEP_N
        return max(MIN_Y_SPAN_N, band)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        super().paintEvent(event)
        if self.paint_listener is not None:
            self.paint_listener()
