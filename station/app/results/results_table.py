"""The reps table of a result: one row per rep, built from the analysis JSON.

The table reads the same ``to_dict()`` that ``nordic-station analyze --json``
prints (analyze-cli.md), so what a clinician sees on screen and what a script
reads are the same numbers by construction.  Columns for torque and N/kg
appear only when the athlete's lever arm or body mass is known.  Peak forces
are shown in the clinic's display unit (N, kgf, lbf: :mod:`station.present.units`);
impulse, torque and N/kg stay in SI units, as the reports show them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from station.app.shell import theme
from station.present.formulas import (
    DEFAULT_FORMULA,
    band_note,
    band_percent,
    formula_label,
    formula_text,
)
from station.present.numbers import format_number
from station.present.units import force_unit, from_newtons

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """One table column: its header (with unit), how to read it, decimals."""

    header: str
    path: tuple[str, ...]
    decimals: int = 0
    tooltip: str = ""
    optional: bool = False  # shown only when some row has a value
    force: bool = False  # a force in N: shown in the display unit, "(N)" in the header follows


COLUMNS: tuple[Column, ...] = (
    Column("Rep", ("number",)),
    Column(
        "Left peak\n(N)",
        ("left", "peak_force_n"),
        0,
        "Highest filtered force of the left leg",
        force=True,
    ),
    Column(
        "Right peak\n(N)",
        ("right", "peak_force_n"),
        0,
        "Highest filtered force of the right leg",
        force=True,
    ),
    Column("Imbalance\n(%)", ("imbalance_pct",), 1, formula_text(DEFAULT_FORMULA)),
    Column("Stronger", ("stronger",)),
    Column(
        "Left time\nto peak (s)", ("left", "time_to_peak_s"), 2, "From the rep's onset to the peak"
    ),
    Column(
        "Right time\nto peak (s)",
        ("right", "time_to_peak_s"),
        2,
        "From the rep's onset to the peak",
    ),
    Column(
        "Left impulse\n(N·s)",
        ("left", "impulse_ns"),
        0,
        "Area under the force above the impulse threshold",
    ),
    Column(
        "Right impulse\n(N·s)",
        ("right", "impulse_ns"),
        0,
        "Area under the force above the impulse threshold",
    ),
    Column("Left torque\n(N·m)", ("left", "peak_torque_nm"), 0, "Peak force × lever arm", True),
    Column("Right torque\n(N·m)", ("right", "peak_torque_nm"), 0, "Peak force × lever arm", True),
    Column(
        "Left\n(N/kg)", ("left", "relative_peak_force_n_per_kg"), 2, "Peak force ÷ body mass", True
    ),
    Column(
        "Right\n(N/kg)",
        ("right", "relative_peak_force_n_per_kg"),
        2,
        "Peak force ÷ body mass",
        True,
    ),
    Column("Notes", ("flags",)),
)


def in_unit(column: Column, unit: str) -> Column:
    """``column`` as shown in ``unit``: a force column's header and decimals follow it."""
    chosen = force_unit(unit)
    if not column.force or chosen.symbol == "N":
        return column
    return replace(
        column, header=column.header.replace("(N)", f"({chosen.symbol})"), decimals=chosen.decimals
    )


def with_formula(column: Column, formula: str) -> Column:
    """``column`` naming ``formula`` when it is the imbalance column (metrics.md)."""
    if column.path != ("imbalance_pct",):
        return column
    tip = f"Imbalance as {formula_label(formula)} = {formula_text(formula)}"
    note = band_note(formula)
    return replace(column, tooltip=f"{tip}.\n{note}" if note else tip)


def dig(data: Any, path: tuple[str, ...]) -> Any:
    """``data[path[0]][path[1]]...``, or None where a key is missing."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


ABSENT = "—"  # a leg that was not in the rep (isometric one-leg rep): never 0


def absent_leg(rep: dict[str, Any], column: Column) -> str | None:
    """The leg a cell belongs to (or, for a between-legs cell, the missing one) when the rep
    does not hold it; None when the cell has a value to show."""
    legs = [leg for leg in ("left", "right") if rep.get(leg) is None and "legs" in rep]
    if not legs:
        return None
    head = column.path[0]
    if head in ("left", "right"):
        return head if head in legs else None
    return legs[0] if head in ("imbalance_pct", "stronger") else None


def display_value(value: Any, decimals: int) -> str:
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, int | float):
        return (
            format_number(float(value), decimals)
            if decimals or isinstance(value, float)
            else str(value)
        )
    if isinstance(value, list | tuple):
        return ", ".join(str(v).replace("_", " ") for v in value if v != "excluded")
    return str(value)


class RepsTableModel(QAbstractTableModel):
    """Reps of one result; excluded reps are greyed, struck through and say why."""

    def __init__(self) -> None:
        super().__init__()
        self._reps: list[dict[str, Any]] = []
        self._columns: list[Column] = [c for c in COLUMNS if not c.optional]
        self.unit = "N"
        self.formula = DEFAULT_FORMULA

    def set_reps(
        self, reps: list[dict[str, Any]], unit: str = "N", formula: str = DEFAULT_FORMULA
    ) -> None:
        """Show ``reps`` (analysis JSON, newtons) with forces in ``unit``; their imbalance is
        in ``formula``, the one the test was analysed in."""
        self.beginResetModel()
        self._reps = list(reps)
        self.unit = force_unit(unit).symbol
        self.formula = formula
        self._columns = [
            with_formula(in_unit(c, self.unit), formula)
            for c in COLUMNS
            if not c.optional or any(dig(r, c.path) is not None for r in self._reps)
        ]
        self.endResetModel()

    def rep(self, row: int) -> dict[str, Any]:
        return self._reps[row]

    def columns(self) -> list[Column]:
        return list(self._columns)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._reps)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        column = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip or None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rep = self._reps[index.row()]
        column = self._columns[index.column()]
        excluded = bool(rep.get("excluded"))
        value = dig(rep, column.path)
        missing = absent_leg(rep, column)
        if role == Qt.ItemDataRole.DisplayRole:
            if missing is not None:
                return ABSENT
            if column.path == ("flags",):
                text = display_value(value, 0)
                if excluded:
                    reason = rep.get("exclusion_reason") or ""
                    text = f"EXCLUDED: {reason}" + (f"; {text}" if text else "")
                return text
            if column.force and isinstance(value, int | float) and not isinstance(value, bool):
                value = from_newtons(float(value), self.unit)
            return display_value(value, column.decimals)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.path in (("flags",), ("stronger",)):
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if excluded:
                return QBrush(QColor("#80868B"))
            if (
                column.path == ("imbalance_pct",)
                and isinstance(value, int | float)
                and math.isfinite(value)
            ):
                band = band_percent(
                    float(value),
                    self.formula,
                    dig(rep, ("left", "peak_force_n")),
                    dig(rep, ("right", "peak_force_n")),
                )
                return QBrush(QColor(theme.imbalance_band(band).colour))
            if column.path[:1] == ("left",):
                return QBrush(QColor(theme.LEFT_COLOUR))
            if column.path[:1] == ("right",):
                return QBrush(QColor(theme.RIGHT_COLOUR))
            return None
        if role == Qt.ItemDataRole.FontRole:
            font = theme.font(
                12, bold=column.path in (("left", "peak_force_n"), ("right", "peak_force_n"))
            )
            font.setStrikeOut(excluded and column.path != ("flags",))
            return font
        if role == Qt.ItemDataRole.ToolTipRole and missing is not None:
            return (
                f"The {missing} leg did not pull in this rep (isometric: each leg's reps are "
                "found on their own); no value, and no imbalance for a one-leg rep"
            )
        if role == Qt.ItemDataRole.ToolTipRole and column.path == ("flags",):
            return rep.get("exclusion_reason") if excluded else None
        return None
