"""Rate of force development and impulse windows per rep and leg (metrics.md).

One row per leg of each rep (an isometric one-leg rep has one row), columns RFD
0–50 … 0–250 ms and impulse 0–50 … 0–250 ms, read from the same analysis JSON
``nordic-station analyze --json`` prints.  A window without a value says why,
in the cell and its tooltip: the rig's rate cannot resolve it (sample period >
W / 2), it ran into missing samples, or the leg's onset was not found.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from station.analysis.settings import RFD_WINDOWS_MS
from station.app.shell import theme
from station.present.numbers import format_number

Index = QModelIndex | QPersistentModelIndex
LEGS = ("left", "right")
NOT_RESOLVED = "not resolved"
CUT = "cut"
NO_ONSET = "no onset"
WHY = {
    NOT_RESOLVED: "The rig's sample rate ({rate} Hz) cannot resolve a {w} ms window: a window "
    "is computed only when the sample period is at most W ÷ 2 (flag rfd_window_unavailable).",
    CUT: "This window ran into missing samples, a restart or the end of the recording "
    "(flag rfd_window_cut).",
    NO_ONSET: "The leg's rise through the onset threshold was not seen, so no window starts "
    "(flag onset_not_found).",
}
KEYS = tuple(f"0-{w}ms" for w in RFD_WINDOWS_MS)
TITLE = "RFD (N/s) and impulse (N·s), 0–50 … 0–250 ms"
HEADERS = (
    "Rep",
    "Leg",
    "Onset\n(s)",
    *(f"RFD\n0–{w}" for w in RFD_WINDOWS_MS),
    *(f"Impulse\n0–{w}" for w in RFD_WINDOWS_MS),
)
FIXED = 3  # Rep, Leg, Onset


def leg_rows(reps: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """(rep, leg) for every leg present in each rep, in rep order."""
    return [(rep, leg) for rep in reps for leg in LEGS if isinstance(rep.get(leg), dict)]


class RfdTableModel(QAbstractTableModel):
    """RFD and impulse windows of one result."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[dict[str, Any], str]] = []
        self._unresolved: set[str] = set()
        self._rate: float | None = None

    def set_result(self, metrics: dict[str, Any]) -> None:
        self.beginResetModel()
        reps = metrics.get("reps") or []
        self._rows = leg_rows(reps)
        self._rate = (metrics.get("stream") or {}).get("sample_rate_hz")
        flags = set(metrics.get("flags") or [])
        # A window the rate cannot resolve is null in every rep of the result.
        self._unresolved = (
            {
                key
                for key in KEYS
                if all(
                    ((rep.get(leg) or {}).get("rfd_window_n_per_s") or {}).get(key) is None
                    for rep, leg in self._rows
                )
            }
            if "rfd_window_unavailable" in flags
            else set()
        )
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section >= FIXED:
            return (
                "RFD 0–W ms (N/s) = (F(onset + W) − F(onset)) ÷ W, on force filtered at the "
                "RFD cut-off"
                if section < FIXED + len(KEYS)
                else "Impulse 0–W ms (N·s) = area under the force from the onset to onset + W"
            )
        return None

    def cell(self, row: int, column: int) -> tuple[str, str | None]:
        """(text, tooltip) of a cell; the tooltip says why a value is missing."""
        rep, leg = self._rows[row]
        data = rep.get(leg) or {}
        if column == 0:
            return str(rep.get("number", "")), None
        if column == 1:
            return leg.capitalize(), None
        if column == 2:
            onset = data.get("onset_s")
            return (
                (format_number(onset, 3), None)
                if onset is not None
                else (
                    NO_ONSET,
                    WHY[NO_ONSET],
                )
            )
        index = column - FIXED
        impulse = index >= len(KEYS)
        key = KEYS[index % len(KEYS)]
        field = "impulse_window_ns" if impulse else "rfd_window_n_per_s"
        value = (data.get(field) or {}).get(key)
        if value is not None:
            return format_number(value, 2 if impulse else 0), None
        reason = (
            NOT_RESOLVED
            if key in self._unresolved
            else NO_ONSET
            if data.get("onset_s") is None
            else CUT
        )
        width = RFD_WINDOWS_MS[index % len(KEYS)]
        return reason, WHY[reason].format(rate=format_number(self._rate), w=width)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        text, why = self.cell(index.row(), index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.ToolTipRole:
            return why
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = (
                Qt.AlignmentFlag.AlignLeft if index.column() == 1 else Qt.AlignmentFlag.AlignRight
            )
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            rep, leg = self._rows[index.row()]
            if rep.get("excluded") or why is not None:
                return QBrush(QColor("#80868B"))
            return QBrush(QColor(theme.LEFT_COLOUR if leg == "left" else theme.RIGHT_COLOUR))
        if role == Qt.ItemDataRole.FontRole:
            font = theme.font(11)
            font.setItalic(why is not None)
            font.setStrikeOut(bool(self._rows[index.row()][0].get("excluded")))
            return font
        return None
