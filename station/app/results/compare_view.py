"""Two stored tests side by side: their strongest reps overlaid, their figures in columns.

The curves are the stored processed curves (zero-phase filtered force), each
leg's strongest rep aligned at the rep's onset, so shapes and peaks compare
directly; test A is drawn solid, test B dashed, and every trace is named.
The table puts A and B in columns with the change between them, judged
against the minimal detectable change for max and avg force.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.app.shell import theme
from station.present.history_data import REAL_CHANGE, Change
from station.present.numbers import format_number
from station.present.times import when_text
from station.present.units import force_unit, format_force, format_value, from_newtons
from station.store import Store


@dataclass(frozen=True)
class LoadedTest:
    """A stored test with its current metrics and curves (what comparing needs)."""

    record: Any  # station.store.TestRecord
    metrics: dict[str, Any]
    curves: dict[str, np.ndarray] | None

    @property
    def label(self) -> str:
        return when_text(self.record.recorded_at)


def load_test(store: Store, test_id: int) -> LoadedTest:
    """Read a test, its current metrics and curves from the store."""
    record = store.tests.get(test_id)
    metrics = dict(record.result.metrics) if record.result is not None else {}
    return LoadedTest(record, metrics, store.tests.curves(test_id, raw=False))  # filtered only


def strongest_rep(metrics: dict[str, Any], leg: str) -> dict[str, Any] | None:
    """The included rep with the leg's highest peak."""
    reps = [r for r in metrics.get("reps") or [] if not r.get("excluded")]
    scored = [(r.get(leg, {}).get("peak_force_n"), r) for r in reps]
    scored = [(peak, r) for peak, r in scored if isinstance(peak, int | float)]
    return max(scored, key=lambda pr: pr[0])[1] if scored else None


def rep_curve(test: LoadedTest, rep: dict[str, Any], leg: str) -> tuple[np.ndarray, np.ndarray]:
    """(time from onset in s, force in N) of one leg within one rep; empty if no curves."""
    curves = test.curves
    if not curves or "time_s" not in curves or f"{leg}_n" not in curves:
        return np.zeros(0), np.zeros(0)
    time_s = np.asarray(curves["time_s"], dtype=np.float64)
    lo, hi = np.searchsorted(time_s, [rep["start_s"], rep["end_s"] + 1e-9])
    force = np.asarray(curves[f"{leg}_n"], dtype=np.float64)[lo:hi]
    return time_s[lo:hi] - rep["start_s"], force


def _summary(test: LoadedTest) -> dict[str, Any]:
    return test.metrics.get("summary") or {}


def comparison_rows(
    a: LoadedTest, b: LoadedTest, unit: str, mdc_n: float
) -> list[tuple[str, str, str, str, str | None]]:
    """(figure, A, B, change, verdict) rows; verdict is REAL_CHANGE/WITHIN_MDC for forces."""
    sa, sb = _summary(a), _summary(b)
    symbol = force_unit(unit).symbol
    rows: list[tuple[str, str, str, str, str | None]] = [("Date", a.label, b.label, "", None)]
    for leg in ("left", "right"):
        for measure in ("max", "avg"):
            va = (sa.get(leg) or {}).get(f"{measure}_force_n")
            vb = (sb.get(leg) or {}).get(f"{measure}_force_n")
            change, verdict = "", None
            if isinstance(va, int | float) and isinstance(vb, int | float):
                change = format_force(vb - va, unit, signed=True)
                verdict = Change(leg, float(va), float(vb), mdc_n).label
            rows.append(
                (
                    f"{leg.capitalize()} {measure} force ({symbol})",
                    format_value(va, unit),
                    format_value(vb, unit),
                    change,
                    verdict,
                )
            )
    for key, label in (
        ("imbalance_max_pct", "Imbalance on max (%)"),
        ("imbalance_avg_pct", "Imbalance on avg (%)"),
    ):
        va, vb = sa.get(key), sb.get(key)
        change = ""
        if isinstance(va, int | float) and isinstance(vb, int | float):
            change = f"{format_number(vb - va, 1, signed=True)} points"
        rows.append((label, format_number(va, 1), format_number(vb, 1), change, None))
    rows.append(
        (
            "Stronger leg (max)",
            str(sa.get("stronger_max") or "–"),
            str(sb.get("stronger_max") or "–"),
            "",
            None,
        )
    )
    rows.append(
        (
            "L:R ratio (max)",
            format_number(sa.get("l_r_ratio_max"), 2),
            format_number(sb.get("l_r_ratio_max"), 2),
            "",
            None,
        )
    )
    rows.append(
        (
            "Reps included / found",
            f"{sa.get('reps_included', '–')} / {sa.get('reps_detected', '–')}",
            f"{sb.get('reps_included', '–')} / {sb.get('reps_detected', '–')}",
            "",
            None,
        )
    )
    rows.append(("Rig", a.record.rig_serial or "–", b.record.rig_serial or "–", "", None))
    return rows


class CompareView(QWidget):
    """Overlaid curves above, figures side by side below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setLabel("bottom", "Time from rep onset (s)", **{"font-size": "12pt"})
        for axis in ("left", "bottom"):
            item.getAxis(axis).setTickFont(theme.font(10))
            item.getAxis(axis).enableAutoSIPrefix(False)
        item.setTitle("Each leg's strongest rep: test A solid, test B dashed", size="12pt")
        self.legend = item.addLegend(offset=(10, 10), labelTextSize="10pt")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Figure", "Test A", "Test B", "Change B − A"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plot)
        splitter.addWidget(self.table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.rows: list[tuple[str, str, str, str, str | None]] = []

    def compare(self, a: LoadedTest, b: LoadedTest, unit: str = "N", mdc_n: float = 60.1) -> None:
        """Show test ``a`` against test ``b``."""
        symbol = force_unit(unit).symbol
        item = self.plot.getPlotItem()
        item.clear()
        self.legend.clear()
        item.setLabel("left", f"Force ({symbol})", **{"font-size": "12pt"})
        for test, name, style in ((a, "A", Qt.PenStyle.SolidLine), (b, "B", Qt.PenStyle.DashLine)):
            for leg, colour in (("left", theme.LEFT_COLOUR), ("right", theme.RIGHT_COLOUR)):
                rep = strongest_rep(test.metrics, leg)
                if rep is None:
                    continue
                x, y = rep_curve(test, rep, leg)
                converted = np.array([from_newtons(v, symbol) or np.nan for v in y])
                item.plot(
                    x,
                    converted,
                    name=f"{name} {test.label} {leg} (rep {rep['number']}, {symbol})",
                    pen=pg.mkPen(colour, width=2.5, style=style),
                    connect="finite",
                )
        self.rows = comparison_rows(a, b, unit, mdc_n)
        self.table.setHorizontalHeaderLabels(
            ["Figure", f"Test A ({a.label})", f"Test B ({b.label})", "Change B − A"]
        )
        self.table.setRowCount(len(self.rows))
        for r, (label, va, vb, change, verdict) in enumerate(self.rows):
            text = f"{change} ({verdict})" if verdict and change else change
            for c, value in enumerate((label, va, vb, text)):
                cell = QTableWidgetItem(value)
                cell.setFont(theme.font(11, bold=c == 0))
                if c in (1, 2):
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if c == 3 and verdict == REAL_CHANGE:
                    cell.setForeground(
                        QBrush(QColor(theme.DANGER if change.startswith("-") else theme.GOOD))
                    )
                self.table.setItem(r, c, cell)
