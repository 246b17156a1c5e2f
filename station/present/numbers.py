"""The one way a number is written for people: on every screen, report and export.

Every figure goes through :func:`format_number`, so the same value can never
read 6.5 % in one place and 6.6 % in another.  Rounding is half away from zero
on the value's shortest decimal form (6.55 -> 6.6, although the binary float
6.55 is a hair below it and ``f"{6.55:.1f}"`` gives 6.5).  A negative figure
carries a true minus sign ("−0.3"), a rounded zero carries no sign, and a
signed figure (a change) never reads "+0": it keeps one more decimal instead.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MINUS = "\u2212"  # a typographic minus: "−0.3 N" (a hyphen reads as a dash in tables)
MISSING = "–"  # what a missing or non-finite value shows (never "nan")
EXTRA_DECIMALS = 2  # how many more places a non-zero change may take before it reads 0


def _rounded(value: float, decimals: int) -> Decimal:
    step = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP)


def format_number(value: float | None, decimals: int = 0, *, signed: bool = False) -> str:
    """``value`` with ``decimals`` places for display; a dash when missing or not finite.

    ``signed`` (a change) writes "+" before a positive figure and, when the
    figure would round to zero although the value is not zero, keeps up to
    two more decimals ("−0.3", never "+0").
    """
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return MISSING
    places = max(0, int(decimals))
    rounded = _rounded(value, places)
    if signed and rounded == 0 and value != 0:
        for extra in range(1, EXTRA_DECIMALS + 1):
            finer = _rounded(value, places + extra)
            if finer != 0:
                rounded = finer
                break
    if rounded == 0:
        return f"{abs(rounded):f}"
    text = f"{abs(rounded):f}"
    if rounded < 0:
        return MINUS + text
    return ("+" + text) if signed else text


def format_percent(value: float | None, decimals: int = 1, *, signed: bool = False) -> str:
    """ "6.6 %" (a dash with no unit when missing)."""
    text = format_number(value, decimals, signed=signed)
    return text if text == MISSING else f"{text} %"


def parse_number(text: str) -> float:
    """A figure as written by :func:`format_number` back to a float (for tests and exports)."""
    return float(text.strip().replace(MINUS, "-").rstrip("%").strip())


def count(n: int, word: str, plural: str | None = None) -> str:
    """ "1 athlete", "2 athletes", "0 tests": a count with its noun in the right number."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"
