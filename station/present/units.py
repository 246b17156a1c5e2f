"""Force in the unit the clinic reads: newtons, kilograms-force or pounds-force.

Everything is measured, stored and exported in newtons (metrics.md); only
what a screen or a report shows is converted, here and nowhere else, so a
figure and its unit can never disagree: ``format_force(312.4, "kgf")`` ->
``"31.9 kgf"``.  The figure itself is written by
:func:`station.present.numbers.format_number`, like every number shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from station.present.numbers import format_number

STANDARD_GRAVITY = 9.80665  # N per kgf, exactly (as calibration.md)
NEWTONS_PER_LBF = 4.4482216152605  # N per lbf, exactly


@dataclass(frozen=True)
class ForceUnit:
    """A display unit: its symbol, newtons per unit, and decimals worth showing."""

    symbol: str
    newtons: float
    decimals: int
    name: str


UNITS: dict[str, ForceUnit] = {
    "N": ForceUnit("N", 1.0, 0, "newtons (N)"),
    "kgf": ForceUnit("kgf", STANDARD_GRAVITY, 1, "kilograms-force (kgf)"),
    "lbf": ForceUnit("lbf", NEWTONS_PER_LBF, 1, "pounds-force (lbf)"),
}
DEFAULT_UNIT = "N"


def force_unit(symbol: str | None) -> ForceUnit:
    """The unit for a symbol; anything unknown falls back to newtons (never a wrong number)."""
    return UNITS.get(symbol or DEFAULT_UNIT, UNITS[DEFAULT_UNIT])


def from_newtons(value_n: float | None, unit: str) -> float | None:
    """``value_n`` newtons in ``unit``; None and non-finite values stay None."""
    if value_n is None or not math.isfinite(value_n):
        return None
    return float(value_n) / force_unit(unit).newtons


def to_newtons(value: float, unit: str) -> float:
    """A value typed in ``unit`` back to newtons (settings are stored in N)."""
    return float(value) * force_unit(unit).newtons


def format_force(
    value_n: float | None, unit: str, decimals: int | None = None, *, signed: bool = False
) -> str:
    """``value_n`` shown in ``unit`` with the unit symbol, e.g. "31.9 kgf"; a dash if missing."""
    chosen = force_unit(unit)
    value = from_newtons(value_n, chosen.symbol)
    places = chosen.decimals if decimals is None else decimals
    return f"{format_number(value, places, signed=signed)} {chosen.symbol}"


def format_value(value_n: float | None, unit: str, decimals: int | None = None) -> str:
    """The number alone (table cells whose header carries the unit)."""
    chosen = force_unit(unit)
    places = chosen.decimals if decimals is None else decimals
    return format_number(from_newtons(value_n, chosen.symbol), places)
