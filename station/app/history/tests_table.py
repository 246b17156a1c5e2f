"""An athlete's tests as a table: one row per test, newest first, forces in the display unit.

Each row also says how max force changed since the test before it, judged
against the minimal detectable change, so a clinician scanning the list sees
which changes are real without opening the plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from station.app.shell import theme
from station.present.formulas import point_band
from station.present.history_data import TrendPoint, change_between, has_result, previous_valid
from station.present.numbers import format_number
from station.present.side_switches import stored_formulas_text
from station.present.times import time_text, zone_name
from station.present.units import force_unit, format_force, format_value

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
IMBALANCE_COLUMN = 6


class TestsTableModel(QAbstractTableModel):
    """Rows of :class:`TrendPoint` (given oldest first, shown newest first)."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[TrendPoint] = []
        self._previous: dict[int, TrendPoint] = {}
        self.unit = "N"
        self.mdc_n = 60.1

    def set_points(self, points: Sequence[TrendPoint], unit: str, mdc_n: float) -> None:
        self.beginResetModel()
        ordered = list(points)
        self._previous = previous_valid(ordered)
        self._rows = list(reversed(ordered))
        self.unit = force_unit(unit).symbol
        self.mdc_n = mdc_n
        self.endResetModel()

    def headers(self) -> list[str]:
        u = self.unit
        return [
            f"Date ({zone_name()})",
            "Reps",
            f"Left max\n({u})",
            f"Right max\n({u})",
            f"Left avg\n({u})",
            f"Right avg\n({u})",
            "Imbalance\nmax (%)",
            "Stronger",
            "Change in max since the\nprevious valid test",
        ]

    def point(self, row: int) -> TrendPoint:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.headers())

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.ToolTipRole and section == IMBALANCE_COLUMN:
            # Every screen names the formula (metrics.md).
            return f"Imbalance of the max force: {stored_formulas_text(self._rows)}."
        return None

    def change_text(self, point: TrendPoint) -> tuple[str, bool]:
        """("L +12 N (within MDC), R +71 N (real change)", any real?) against the test before."""
        if point.voided:
            return "voided: not in the trend or any change", False
        if point.training:
            return "training session: not in the trend or any change", False
        if not has_result(point):
            return "no reps: nothing to compare", False
        before = self._previous.get(point.test_id)
        if before is None:
            return "first test with a result", False
        changes = change_between(before, point, self.mdc_n)
        if not changes:
            return "–", False
        parts = [
            f"{leg[0].upper()} {format_force(c.delta_n, self.unit, signed=True)} ({c.label})"
            for leg, c in changes.items()
        ]
        return ", ".join(parts), any(c.real for c in changes.values())

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        p = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = [
                time_text(p.when),
                f"{p.reps - p.excluded_reps}"
                + (f" (+{p.excluded_reps} excl.)" if p.excluded_reps else ""),
                format_value(p.left_max_n, self.unit),
                format_value(p.right_max_n, self.unit),
                format_value(p.left_avg_n, self.unit),
                format_value(p.right_avg_n, self.unit),
                format_number(p.imbalance_max_pct, 1),
                p.stronger_max or "–",
                self.change_text(p)[0],
            ]
            return values[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and 2 <= column <= 6:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if p.voided or p.training:
                return QBrush(QColor("#80868B"))
            if column in (2, 4):
                return QBrush(QColor(theme.LEFT_COLOUR))
            if column in (3, 5):
                return QBrush(QColor(theme.RIGHT_COLOUR))
            if column == 6 and p.imbalance_max_pct is not None:
                return QBrush(QColor(theme.imbalance_band(point_band(p)).colour))
        if role == Qt.ItemDataRole.FontRole:
            return theme.font(11, bold=column == 8 and self.change_text(p)[1])
        if role == SORT_ROLE:
            return p.timestamp
        return None
