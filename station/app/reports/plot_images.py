"""Plots drawn for paper: a test's rep curves and whole session, rendered to images.

Reports need pictures, not widgets: each plot here is built off screen,
sized for the page, drawn at twice its size for sharp print, and returned as
a QImage.  The same colours and line styles as the screens (left blue, right
vermillion, every trace named with its unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem

from station.app.shell import theme
from station.present.numbers import format_number
from station.present.units import force_unit, format_force, from_newtons

PRINT_PEN = 2.0  # pens are in device pixels: the page image is drawn at 3x, so thicken them

REP_STYLES = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
    Qt.PenStyle.DashDotDotLine,
)


def render(view: pg.GraphicsView, width: int, height: int, scale: float = 3.0) -> QImage:
    """A pyqtgraph view laid out at ``width`` × ``height`` (logical px), drawn with ``scale``
    times as many pixels (the scene is vector, so text and lines stay sharp)."""
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.resize(width, height)
    view.show()  # off screen: lays the plot out at this size
    QApplication.processEvents()
    image = QImage(int(width * scale), int(height * scale), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    source = view.mapToScene(view.viewport().rect()).boundingRect()
    view.scene().render(painter, QRectF(image.rect()), source)
    painter.end()
    view.hide()
    return image


def scalable_legend(**options: Any) -> pg.LegendItem:
    """A legend for a layout cell that scales with the page: pyqtgraph's legends ignore
    transformations (to keep a constant size on screen), so printed at 3× they would shrink
    to a third of the text around them."""
    legend = pg.LegendItem(**options)
    legend.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, False)
    return legend


def _plot(
    title: str, unit: str, x_label: str
) -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem, pg.LegendItem]:
    """A titled plot with its legend in a row of its own above it (never over the curves;
    a legend inside the view box also does not scale with the page's resolution)."""
    view = pg.GraphicsLayoutWidget()
    view.setBackground("w")
    view.ci.addLabel(title, row=0, col=0, size="11pt")
    legend = scalable_legend(colCount=6, labelTextSize="10pt")
    view.addItem(legend, row=1, col=0)
    item = view.addPlot(row=2, col=0)
    item.hideButtons()
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setLabel("left", f"Force ({force_unit(unit).symbol})", **{"font-size": "10pt"})
    item.setLabel("bottom", x_label, **{"font-size": "10pt"})
    for axis in ("left", "bottom"):
        item.getAxis(axis).setTickFont(theme.font(9))
        item.getAxis(axis).enableAutoSIPrefix(False)
    return view, item, legend


def _converted(values: np.ndarray, unit: str) -> np.ndarray:
    return np.asarray(values, dtype=np.float64) / force_unit(unit).newtons


def rep_curves_image(
    metrics: dict[str, Any],
    curves: dict[str, np.ndarray] | None,
    unit: str,
    force_lines: Sequence[tuple[float, str]] = (),
    size: tuple[int, int] = (700, 320),
) -> QImage:
    """Each rep's left and right curves from its onset (dash pattern per rep, grey if excluded)."""
    plot, item, legend = _plot(
        "Each rep's left and right force, from the rep's onset", unit, "Time from rep onset (s)"
    )
    reps = metrics.get("reps") or []
    low, high = 0.0, 0.0  # the curves' range, in the unit
    if curves and "time_s" in curves:
        time_s = np.asarray(curves["time_s"], dtype=np.float64)
        for i, rep in enumerate(reps):
            lo, hi = np.searchsorted(time_s, [rep["start_s"], rep["end_s"] + 1e-9])
            x = time_s[lo:hi] - rep["start_s"]
            style = REP_STYLES[i % len(REP_STYLES)]
            excluded = bool(rep.get("excluded"))
            for leg, colour in (("left", theme.LEFT_COLOUR), ("right", theme.RIGHT_COLOUR)):
                y = _converted(np.asarray(curves.get(f"{leg}_n", []))[lo:hi], unit)
                if len(y) == len(x):
                    pen = pg.mkPen(
                        "#9AA0A6" if excluded else colour, width=2 * PRINT_PEN, style=style
                    )
                    item.plot(x, y, pen=pen, connect="finite")
                    if np.isfinite(y).any():
                        low, high = min(low, float(np.nanmin(y))), max(high, float(np.nanmax(y)))
            label = f"Rep {rep['number']}" + (" (excluded)" if excluded else "")
            sample = pg.PlotDataItem(pen=pg.mkPen("#3C4043", width=2 * PRINT_PEN, style=style))
            legend.addItem(sample, label)
    symbol = force_unit(unit).symbol
    for leg, colour in (("Left", theme.LEFT_COLOUR), ("Right", theme.RIGHT_COLOUR)):
        sample = pg.PlotDataItem(pen=pg.mkPen(colour, width=3 * PRINT_PEN))
        legend.addItem(sample, f"{leg} leg ({symbol})")
    _force_lines(item, force_lines, unit)
    if force_lines:
        # A line's label sits above it: leave room for it over the highest line.
        highest = max(from_newtons(value_n, unit) or 0.0 for value_n, _ in force_lines)
        top = max(high * 1.05, highest * 1.15)
        item.setYRange(low - 0.03 * top, top, padding=0)  # and 0 a little above the bottom
    return render(plot, *size)


def session_image(
    metrics: dict[str, Any],
    curves: dict[str, np.ndarray] | None,
    unit: str,
    size: tuple[int, int] = (700, 240),
) -> QImage:
    """The whole recording, both legs, each rep shaded and numbered."""
    plot, item, legend = _plot("The whole test", unit, "Time since start (s)")
    symbol = force_unit(unit).symbol
    top = 0.0
    if curves and "time_s" in curves:
        x = np.asarray(curves["time_s"], dtype=np.float64)
        for leg, colour in (("left", theme.LEFT_COLOUR), ("right", theme.RIGHT_COLOUR)):
            y = _converted(np.asarray(curves.get(f"{leg}_n", [])), unit)
            if len(y) == len(x):
                pen = pg.mkPen(colour, width=1.5 * PRINT_PEN)
                curve = item.plot(x, y, pen=pen, connect="finite")
                legend.addItem(curve, f"{leg.capitalize()} leg ({symbol})")
        for rep in metrics.get("reps") or []:
            shade = QColor("#9AA0A6" if rep.get("excluded") else "#FBBC04")
            shade.setAlpha(50)
            region = pg.LinearRegionItem(
                (rep["start_s"], rep["end_s"]),
                movable=False,
                brush=pg.mkBrush(shade),
                pen=pg.mkPen(None),
            )
            item.addItem(region)
            tag = pg.TextItem(f"{rep['number']}", color="#3C4043", anchor=(0.5, 1))
            tag.setFont(theme.font(9, bold=True))
            peak = max((rep.get(leg) or {}).get("peak_force_n") or 0.0 for leg in ("left", "right"))
            tag.setPos((rep["start_s"] + rep["end_s"]) / 2, (from_newtons(peak, unit) or 0) * 1.12)
            item.addItem(tag)
            top = max(top, (from_newtons(peak, unit) or 0.0) * 1.3)
        if top > 0:
            item.setYRange(min(0.0, item.viewRange()[1][0]), top, padding=0)  # tags never clipped
    return render(plot, *size)


def _force_lines(item: pg.PlotItem, lines: Sequence[tuple[float, str]], unit: str) -> None:
    """Dashed lines with their labels placed so no two labels meet: labels take turns
    between the left and the middle of the plot, above and below their lines (the legend
    has its own row above the plot, so no label can cover it)."""
    for i, (value_n, text) in enumerate(sorted(lines)):
        above = i % 2 == 0
        line = pg.InfiniteLine(
            pos=from_newtons(value_n, unit),
            angle=0,
            pen=pg.mkPen(theme.REFERENCE_COLOUR, width=PRINT_PEN, style=Qt.PenStyle.DashLine),
            label=text,
            labelOpts={
                "position": 0.02 if i % 4 < 2 else 0.5,
                "color": theme.REFERENCE_COLOUR,
                "fill": pg.mkBrush(255, 255, 255, 200),
                "anchors": [(0, 1), (0, 1)] if above else [(0, 0), (0, 0)],
            },
        )
        line.label.setFont(theme.font(8))
        item.addItem(line)


def bars_image(
    legs: Sequence[tuple[str, float | None, float | None]],
    unit: str,
    size: tuple[int, int] = (700, 190),
) -> QImage:
    """The headline: a horizontal bar per leg (max force), labelled in the unit and N/kg.

    ``legs``: (leg, max force in N, N/kg or None)."""
    view = pg.GraphicsLayoutWidget()
    view.setBackground("w")
    item = view.addPlot(row=0, col=0)
    item.hideButtons()
    item.setMouseEnabled(False, False)
    symbol = force_unit(unit).symbol
    top = max([from_newtons(n, unit) or 0.0 for _, n, _ in legs] + [1.0])
    for row, (leg, force_n, per_kg) in enumerate(legs):
        value = from_newtons(force_n, unit) or 0.0
        colour = theme.LEFT_COLOUR if leg == "left" else theme.RIGHT_COLOUR
        bar = pg.BarGraphItem(
            x0=[0], y=[row], height=0.6, width=[value], brush=pg.mkBrush(colour), pen=None
        )
        item.addItem(bar)
        words = f"{leg.capitalize()}  {format_force(force_n, unit)}"
        if per_kg is not None:
            words += f"  ·  {format_number(per_kg, 2)} N/kg"
        tag = pg.TextItem(words, color="#1F1F1F", anchor=(0, 0.5))
        tag.setFont(theme.font(12, bold=True))
        tag.setPos(value + top * 0.02, row)
        item.addItem(tag)
    item.setYRange(-0.6, len(legs) - 0.4, padding=0)
    item.setXRange(0, top * 1.6, padding=0)
    item.invertY(True)
    item.hideAxis("left")
    item.setLabel("bottom", f"Max force ({symbol})", **{"font-size": "10pt"})
    item.getAxis("bottom").setTickFont(theme.font(9))
    return render(view, *size)


def per_kg_trend_image(points: Sequence[Any], size: tuple[int, int] = (700, 230)) -> QImage:
    """Max force per body mass (N/kg) per leg over the test dates."""
    from station.app.history.trend_plot import MonthAxis

    view = pg.GraphicsLayoutWidget()
    view.setBackground("w")
    view.ci.addLabel("Max force per body mass", row=0, col=0, size="11pt")
    legend = scalable_legend(colCount=2, labelTextSize="10pt")
    view.addItem(legend, row=1, col=0)
    item = view.addPlot(row=2, col=0, axisItems={"bottom": MonthAxis()})
    item.hideButtons()
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setLabel("left", "N/kg", **{"font-size": "10pt"})
    for axis in ("left", "bottom"):
        item.getAxis(axis).setTickFont(theme.font(9))
    for leg, colour in (("left", theme.LEFT_COLOUR), ("right", theme.RIGHT_COLOUR)):
        pairs = [
            (p.timestamp, getattr(p, f"{leg}_max_n_per_kg"))
            for p in points
            if getattr(p, f"{leg}_max_n_per_kg") is not None
        ]
        if pairs:
            x, y = zip(*pairs, strict=True)
            curve = item.plot(
                list(x),
                list(y),
                pen=pg.mkPen(colour, width=1.5 * PRINT_PEN),
                symbol="o",
                symbolBrush=colour,
                symbolPen=None,
                symbolSize=8,
            )
            legend.addItem(curve, f"{leg.capitalize()} leg (N/kg)")
    return render(view, *size)
