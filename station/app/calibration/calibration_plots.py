"""What a calibration found, drawn: each channel's fitted line through its points, and
the residuals (how far each point sits from the line), plus the live reading while measuring.

Ascending and descending points have different marks (filled circles, open
triangles), so hysteresis shows as two marks apart at one load, and every
axis names its unit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from calibration.fit import ChannelFit
from calibration.points import UP
from station.app.shell import theme
from station.present.numbers import format_number
from station.present.units import force_unit

COLOURS = {"left": theme.LEFT_COLOUR, "right": theme.RIGHT_COLOUR}
LABEL = {"font-size": "11pt"}


def _style(item: pg.PlotItem) -> None:
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=True, y=True, alpha=0.25)
    for axis in ("left", "bottom"):
        item.getAxis(axis).setTickFont(theme.font(10))
        item.getAxis(axis).enableAutoSIPrefix(False)


class FitPlots(pg.GraphicsLayoutWidget):
    """Per channel: the fitted line and points (top), the residuals (bottom)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setBackground("w")
        self.titles: list[str] = []

    def show_fits(self, fits: dict[str, ChannelFit], unit: str = "N") -> None:
        self.clear()
        self.titles = []
        symbol = force_unit(unit).symbol
        scale = force_unit(unit).newtons
        for col, (channel, fit) in enumerate(fits.items()):
            colour = COLOURS.get(channel, "#3C4043")
            top = self.addPlot(row=0, col=col)
            _style(top)
            sign = "−" if fit.offset_counts >= 0 else "+"
            title = (
                f"{channel.capitalize()}: force = {fit.gain_n_per_count:.6g} N/count × "
                f"(counts {sign} {format_number(abs(fit.offset_counts))})"
            )
            top.setTitle(title, size="11pt", color=colour)
            self.titles.append(title)
            top.setLabel("left", f"Applied force ({symbol})", **LABEL)
            top.setLabel("bottom", "Reading (counts)", **LABEL)
            legend = top.addLegend(offset=(10, 10), labelTextSize="10pt")
            counts = np.array([p.counts for p in fit.points])
            forces = np.array(fit.forces_n) / scale
            up = np.array([p.direction == UP for p in fit.points])
            span = np.array([counts.min(), counts.max()]) if len(counts) else np.zeros(2)
            top.plot(
                span,
                np.asarray(fit.force_n(span)) / scale,
                pen=pg.mkPen("#3C4043", width=1.5),
                name="fitted line",
            )
            for mask, symbol_name, name, brush in (
                (up, "o", "ascending", pg.mkBrush(colour)),
                (~up, "t", "descending", pg.mkBrush("w")),
            ):
                if mask.any():
                    top.plot(
                        counts[mask],
                        forces[mask],
                        pen=None,
                        symbol=symbol_name,
                        symbolSize=11,
                        symbolPen=pg.mkPen(colour, width=2),
                        symbolBrush=brush,
                        name=name,
                    )
            legend.setParentItem(top.vb)
            bottom = self.addPlot(row=1, col=col)
            _style(bottom)
            bottom.setLabel("left", f"Residual ({symbol})", **LABEL)
            bottom.setLabel("bottom", f"Applied force ({symbol})", **LABEL)
            residuals = np.array(fit.residuals_n) / scale
            bottom.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen("#9AA0A6", width=1)))
            for mask, symbol_name, brush in (
                (up, "o", pg.mkBrush(colour)),
                (~up, "t", pg.mkBrush("w")),
            ):
                if mask.any():
                    bottom.plot(
                        forces[mask],
                        residuals[mask],
                        pen=None,
                        symbol=symbol_name,
                        symbolSize=10,
                        symbolPen=pg.mkPen(colour, width=2),
                        symbolBrush=brush,
                    )
            biggest = float(np.max(np.abs(residuals))) if len(residuals) else 0.0
            limit = max(biggest * 1.5, 0.05)
            bottom.setYRange(-limit, limit, padding=0)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)


class ReadingPlot(pg.PlotWidget):
    """The last few seconds of the reading being measured (counts), to see it settle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        item = self.getPlotItem()
        _style(item)
        item.setLabel("left", "Reading (counts)", **LABEL)
        item.setLabel("bottom", "Rig time (s)", **LABEL)
        item.getAxis("left").setWidth(90)
        self.curve = item.plot(pen=pg.mkPen("#3C4043", width=1.5))
        self.setMouseEnabled(x=False, y=False)
        self.setToolTip("The reading must stay flat (spread below the limit) to be taken.")

    def show_recent(self, recent: Sequence[tuple[float, float]], channel: str | None) -> None:
        if not recent:
            self.curve.setData([], [])
            return
        data = np.asarray(recent, dtype=float)
        colour = COLOURS.get(channel or "", "#3C4043")
        self.curve.setPen(pg.mkPen(colour, width=2))
        self.curve.setData(data[:, 0], data[:, 1])
        self.getPlotItem().setTitle(
            f"{(channel or '').capitalize()} hook, "
            f"last {format_number(data[-1, 0] - data[0, 0])} s",
            size="10pt",
        )
        self.getPlotItem().getViewBox().enableAutoRange(axis="xy")
