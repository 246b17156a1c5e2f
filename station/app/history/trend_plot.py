"""An athlete's history over time: max and avg force per leg, imbalance, lines and injuries.

Two plots share one date axis.  Above, force per leg (max: solid line and
filled marks; avg: dashed line and open marks), the published reference lines
with their sources, and a band of ± the minimal detectable change around the
previous test's max force: a last test outside its band is a real change,
inside it is not (metrics.md).  Below, the imbalance (%) with its lines.
Injuries are vertical marks across both.  Every trace is named with its unit
in the legend, so colour is never the only cue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from station.analysis import ReferenceLine
from station.app.reports.plot_images import scalable_legend
from station.app.shell import theme
from station.present.formulas import point_band
from station.present.history_data import (
    Change,
    TrendPoint,
    change_between,
    dated_injuries,
    day_timestamp,
    injury_text,
)
from station.present.team_data import short_source
from station.present.times import local
from station.present.units import force_unit, format_force, from_newtons

INJURY_COLOUR = "#7B1FA2"  # purple: apart from the legs' blue and vermillion
DAY_S = 86400.0
LABEL_STYLE = {"font-size": "12pt"}


def _nan(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


class MonthAxis(pg.DateAxisItem):
    """A date axis whose labels always carry the month and year ("Mar 2026", "12 Mar
    2026"), never a bare day number or hour, in the clinic's local time zone."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        day = 86400.0
        out = []
        for value in values:
            try:
                when = local(dt.datetime.fromtimestamp(value, dt.UTC))
            except (OverflowError, OSError, ValueError):
                out.append("")
                continue
            out.append(f"{when:%b %Y}" if spacing >= 20 * day else f"{when:%d %b %Y}")
        return out


class TrendPlot(pg.GraphicsLayoutWidget):
    """Force and imbalance of one athlete's tests against the date."""

    def __init__(
        self,
        parent: QWidget | None = None,
        change_title: bool = True,
        legend_columns: int = 4,
        pen_scale: float = 1.0,
        legend_size: str = "11pt",
    ) -> None:
        super().__init__(parent=parent)
        self.change_title = change_title  # the screen says it above the plot instead
        self.pen_scale = pen_scale  # lines and marks are in device pixels: thicker for print
        self.setBackground("w")
        # Legends sit in rows of their own above each plot, so they never hide data.
        self.force_legend = scalable_legend(labelTextSize=legend_size, colCount=legend_columns)
        self.addItem(self.force_legend, row=0, col=0)
        self.force_plot = self.addPlot(row=1, col=0, axisItems={"bottom": MonthAxis()})
        self.imbalance_legend = scalable_legend(labelTextSize=legend_size, colCount=2)
        self.addItem(self.imbalance_legend, row=2, col=0)
        self.imbalance_plot = self.addPlot(row=3, col=0, axisItems={"bottom": MonthAxis()})
        self.ci.layout.setRowStretchFactor(1, 3)
        self.ci.layout.setRowStretchFactor(3, 2)
        self.imbalance_plot.setXLink(self.force_plot)
        for item in (self.force_plot, self.imbalance_plot):
            item.setMenuEnabled(False)
            item.hideButtons()
            item.showGrid(x=True, y=True, alpha=0.25)
            for axis in ("left", "bottom"):
                item.getAxis(axis).setTickFont(theme.font(10))
                item.getAxis(axis).enableAutoSIPrefix(False)
            item.getAxis("left").setWidth(70)
        self.imbalance_plot.setLabel("left", "Imbalance (%)", **LABEL_STYLE)
        self.imbalance_plot.setLabel("bottom", "Test date", **LABEL_STYLE)
        self.unit = "N"
        self.points: list[TrendPoint] = []
        self.change: dict[str, Change] = {}
        self.labels: list[str] = []  # every text drawn on the plots (tests read these)

    def _px(self, width: float) -> float:
        return width * self.pen_scale

    # -- drawing --------------------------------------------------------------------
    def show_history(
        self,
        points: Sequence[TrendPoint],
        injuries: Sequence[Any] = (),
        references: Sequence[ReferenceLine] = (),
        mdc_n: float = 60.1,
        unit: str = "N",
    ) -> None:
        """Draw ``points`` (oldest first) with their lines, MDC band and injuries."""
        self.unit = force_unit(unit).symbol
        self.points = list(points)
        self.labels = []
        for item, legend in (
            (self.force_plot, self.force_legend),
            (self.imbalance_plot, self.imbalance_legend),
        ):
            item.clear()
            legend.clear()
        self.force_plot.setLabel("left", f"Force ({self.unit})", **LABEL_STYLE)
        self.force_plot.setTitle(None)
        if not self.points:
            self.change = {}
            self._message("No tests yet: the trend appears after the first test.")
            return
        x = np.array([p.timestamp for p in self.points])
        self._force_series(x)
        self._imbalance_series(x)
        self._references(references)
        self.change = (
            change_between(self.points[-2], self.points[-1], mdc_n) if len(self.points) > 1 else {}
        )
        self._mdc_band(mdc_n)
        self._injuries(injuries)
        self._ranges(x, injuries, references)

    def _message(self, text: str) -> None:
        label = pg.TextItem(text, color="#444444", anchor=(0.5, 0.5))
        label.setFont(theme.font(12))
        self.force_plot.addItem(label)
        label.setPos(0, 0)
        self.force_plot.setXRange(-1, 1)
        self.force_plot.setYRange(-1, 1)
        self.labels.append(text)

    def _force_series(self, x: np.ndarray) -> None:
        for leg, colour in (("left", theme.LEFT_COLOUR), ("right", theme.RIGHT_COLOUR)):
            symbol = "o" if leg == "left" else "s"
            for measure, style, filled in (
                ("max", Qt.PenStyle.SolidLine, True),
                ("avg", Qt.PenStyle.DashLine, False),
            ):
                y = _nan([from_newtons(p.force(leg, measure), self.unit) for p in self.points])
                name = f"{leg.capitalize()} {measure} ({self.unit})"
                curve = self.force_plot.plot(
                    x,
                    y,
                    connect="finite",
                    pen=pg.mkPen(colour, width=self._px(2.5 if filled else 1.8), style=style),
                    symbol=symbol,
                    symbolSize=self._px(10 if filled else 8),
                    symbolPen=pg.mkPen(colour, width=self._px(1.5)),
                    symbolBrush=pg.mkBrush(colour) if filled else pg.mkBrush("w"),
                )
                self.force_legend.addItem(curve, name)
                self.labels.append(name)

    def _imbalance_series(self, x: np.ndarray) -> None:
        for measure, style, filled in (
            ("max", Qt.PenStyle.SolidLine, True),
            ("avg", Qt.PenStyle.DashLine, False),
        ):
            values = [getattr(p, f"imbalance_{measure}_pct") for p in self.points]
            # banded on the percentage difference, whatever formula a test is in
            bands = [theme.imbalance_band(point_band(p, measure)) for p in self.points]
            brushes = [pg.mkBrush(b.colour if filled else "w") for b in bands]
            pens = [pg.mkPen(b.colour, width=self._px(1.5)) for b in bands]
            name = f"Imbalance on {measure} (%)"
            curve = self.imbalance_plot.plot(
                x,
                _nan(values),
                connect="finite",
                pen=pg.mkPen("#3C4043", width=self._px(2 if filled else 1.5), style=style),
                symbol="o" if filled else "t",
                symbolSize=self._px(10 if filled else 9),
                symbolBrush=brushes,
                symbolPen=pens,
            )
            self.imbalance_legend.addItem(curve, name)
            self.labels.append(name)

    def _references(self, references: Sequence[ReferenceLine]) -> None:
        """Dashed lines with their source; per plot, the lowest line's label sits under it and
        the others' above theirs, so two close lines (256 N, 279 N) keep readable labels."""
        lowest = {
            measure: min(
                (line.value for line in references if line.measure == measure), default=None
            )
            for measure in ("force_n", "imbalance_pct")
        }
        for line in references:
            if line.measure == "force_n":
                target, value = self.force_plot, from_newtons(line.value, self.unit)
                shown = format_force(line.value, self.unit)
            else:
                target, value, shown = self.imbalance_plot, line.value, f"{line.value:g} %"
            comparison = "<" if line.comparison == "below" else "≥"
            context = f", {line.context}" if line.context else ""
            text = (
                f"{short_source(line)} ({line.population}{context}): "
                f"{line.compared_with} {comparison} {shown}"
            )
            anchor = (0, 0) if line.value == lowest[line.measure] else (0, 1)
            item = pg.InfiniteLine(
                pos=value,
                angle=0,
                pen=pg.mkPen(
                    theme.REFERENCE_COLOUR, width=self._px(1.2), style=Qt.PenStyle.DashLine
                ),
                label=text,
                labelOpts={
                    "position": 0.01,
                    "anchors": [anchor, anchor],
                    "color": theme.REFERENCE_COLOUR,
                },
            )
            item.label.setFont(theme.font(9))
            item.setToolTip(
                f"{line.source}\nRelative risk {line.relative_risk or '–'}\n"
                "A reference line, never a diagnosis."
            )
            target.addItem(item)
            self.labels.append(text)

    def _mdc_band(self, mdc_n: float) -> None:
        """± MDC around the previous test's max force, from that test to the last one."""
        if len(self.points) < 2:
            return
        before, last = self.points[-2], self.points[-1]
        x0, x1 = before.timestamp, last.timestamp
        for leg, colour in (("left", theme.LEFT_COLOUR), ("right", theme.RIGHT_COLOUR)):
            change = self.change.get(leg)
            if change is None:
                continue
            centre = from_newtons(change.before_n, self.unit) or 0.0
            half = from_newtons(mdc_n, self.unit) or 0.0
            tint = QColor(colour)
            tint.setAlpha(40)
            low = pg.PlotDataItem([x0, x1], [centre - half] * 2, pen=pg.mkPen(None))
            high = pg.PlotDataItem([x0, x1], [centre + half] * 2, pen=pg.mkPen(None))
            band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(tint))
            self.force_plot.addItem(band)
            for edge in (low, high):
                edge.setPen(pg.mkPen(colour, width=self._px(1), style=Qt.PenStyle.DotLine))
                self.force_plot.addItem(edge)
        self._change_title()
        self.force_legend.addItem(
            pg.BarGraphItem(x=[0], height=[1], width=1, brush=pg.mkBrush(150, 150, 150, 80)),
            f"± MDC {format_force(mdc_n, self.unit)} around the previous max",
        )
        self.labels.append(f"± MDC {format_force(mdc_n, self.unit)} around the previous max")

    def _change_title(self) -> None:
        """The last change per leg, in words, as the force plot's title (never clipped)."""
        parts = []
        for leg, colour in (("left", theme.LEFT_COLOUR), ("right", theme.RIGHT_COLOUR)):
            change = self.change.get(leg)
            if change is None:
                continue
            text = f"{leg} {format_force(change.delta_n, self.unit, signed=True)} ({change.label})"
            weight = "bold" if change.real else "normal"
            parts.append(f"<span style='color:{colour}; font-weight:{weight}'>{text}</span>")
            self.labels.append(text)
        if parts and self.change_title:
            self.force_plot.setTitle("Last change: " + " · ".join(parts), size="12pt")

    def _injuries(self, injuries: Sequence[Any]) -> None:
        dated, _ = dated_injuries(injuries)
        for injury in dated:
            what = injury_text(injury, with_date=False, with_return=False)
            text = f"Injury, {what} ({injury.occurred_on.isoformat()})"
            for item, with_label in ((self.force_plot, True), (self.imbalance_plot, False)):
                mark = pg.InfiniteLine(
                    pos=day_timestamp(injury.occurred_on),
                    angle=90,
                    pen=pg.mkPen(INJURY_COLOUR, width=self._px(2), style=Qt.PenStyle.DashDotLine),
                    label=f"✚ {text}" if with_label else None,
                    labelOpts={
                        "position": 0.97,
                        "anchors": [(0, 0), (0, 0)],
                        "color": INJURY_COLOUR,
                        "fill": pg.mkBrush(255, 255, 255, 210),
                    },
                )
                if with_label:
                    mark.label.setFont(theme.font(9, bold=True))
                mark.setToolTip(f"{text}: {injury.note}" if injury.note else text)
                item.addItem(mark)
            self.labels.append(text)

    def _ranges(
        self, x: np.ndarray, injuries: Sequence[Any], references: Sequence[ReferenceLine]
    ) -> None:
        dated, _ = dated_injuries(injuries)
        stamps = list(x) + [day_timestamp(i.occurred_on) for i in dated]
        lo, hi = min(stamps), max(stamps)
        pad = max(3 * DAY_S, 0.08 * (hi - lo))
        # Room on the right for the change labels beside the last test.
        self.force_plot.setXRange(lo - pad, hi + pad, padding=0)
        forces = [
            from_newtons(v, self.unit)
            for p in self.points
            for v in (p.left_max_n, p.right_max_n, p.left_avg_n, p.right_avg_n)
            if v is not None
        ]
        forces += [
            from_newtons(line.value, self.unit) for line in references if line.measure == "force_n"
        ]
        if forces:
            # From a round number under the lowest value: changes of a few tens of newtons
            # must stay visible, and the axis says where it starts.
            step = from_newtons(50.0, self.unit) or 50.0
            bottom = max(0.0, (min(forces) * 0.7) // step * step)
            self.force_plot.setYRange(bottom, max(forces) * 1.12, padding=0)
        imbalances = [
            v
            for p in self.points
            for v in (p.imbalance_max_pct, p.imbalance_avg_pct)
            if v is not None
        ]
        lines = [line.value for line in references if line.measure == "imbalance_pct"]
        self.imbalance_plot.setYRange(0, max([25.0, *imbalances, *lines]) * 1.2, padding=0)
