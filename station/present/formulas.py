"""How each asymmetry formula is named wherever an imbalance figure is shown.

metrics.md ("Asymmetry formulas"): a clinic chooses ``pct_difference`` (the
default), ``signed_pct`` or ``symmetry_index``, and every screen, report and
export names the formula used.  A stored test names the formula it was analysed
in (its result settings, and its summary's ``asymmetry_formula``); tests stored
before the choice existed were analysed in ``pct_difference``.  Plain Python, no
Qt: the screens, the PDF reports and the History line share these words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from station.analysis import AnalysisSettings, asymmetry
from station.present.history_data import TrendPoint

DEFAULT_FORMULA = AnalysisSettings.asymmetry_formula
# Short label of each formula (metrics.md, Asymmetry formulas).
FORMULA_NAMES = {
    "pct_difference": "percentage difference",
    "signed_pct": "signed percentage",
    "symmetry_index": "symmetry index",
}
# The formula itself, as the screens and reports print it.
FORMULA_TEXTS = {
    "pct_difference": "100 × (stronger − weaker) ÷ stronger",
    "signed_pct": "100 × (L − R) ÷ max(L, R)",
    "symmetry_index": "100 × (L − R) ÷ ((L + R) ÷ 2)",
}


def stored_formula(settings: Mapping[str, Any] | None) -> str:
    """The formula a stored test was analysed in, from its result settings (or summary);
    ``pct_difference`` for tests stored before the choice existed."""
    formula = (settings or {}).get("asymmetry_formula")
    return formula if formula in FORMULA_TEXTS else DEFAULT_FORMULA


def formula_label(formula: str) -> str:
    """The formula's short label with its key: "signed percentage (signed_pct)"."""
    return f"{FORMULA_NAMES.get(formula, formula)} ({formula})"


def formula_text(formula: str) -> str:
    """The formula written out ("100 × (L − R) ÷ max(L, R)"), with its sign's meaning where
    it is signed."""
    text = FORMULA_TEXTS.get(formula, formula)
    return text if formula == DEFAULT_FORMULA else f"{text}, positive: left stronger"


def is_signed(formula: str) -> bool:
    """Whether the formula's figure carries the side as its sign."""
    return formula != DEFAULT_FORMULA


def band_percent(
    value: float | None, formula: str, left: float | None = None, right: float | None = None
) -> float | None:
    """The figure the imbalance colour band (Bourne et al. 2015, defined on the percentage
    difference) is judged on: the percentage difference of the same legs, never a negative
    number.  ``value`` is the figure in ``formula``; with the legs given the difference is
    taken from them, else from the figure itself where that is exact (``signed_pct`` is the
    difference with a sign)."""
    if value is None or not math.isfinite(value):
        return None
    if formula == DEFAULT_FORMULA:
        return value
    if left is not None and right is not None and math.isfinite(left) and math.isfinite(right):
        difference = asymmetry(left, right, DEFAULT_FORMULA)
        if difference is not None:
            return difference
    if formula == "signed_pct":
        return abs(value)
    # symmetry index S (|S| < 200) from the difference D: D = 200|S| / (200 + |S|)
    size = abs(value)
    return 200.0 * size / (200.0 + size) if size < 200.0 else 100.0


def point_band(point: TrendPoint, measure: str = "max") -> float | None:
    """The percentage difference a stored test's imbalance on ``measure`` ("max" or "avg")
    is banded and flagged on, whatever formula it was analysed in."""
    return band_percent(
        getattr(point, f"imbalance_{measure}_pct"),
        point.asymmetry_formula,
        point.force("left", measure),
        point.force("right", measure),
    )


def summary_band(summary: Mapping[str, Any], measure: str = "max") -> float | None:
    """The same for a stored analysis summary (the analysis JSON's ``summary``)."""
    return band_percent(
        summary.get(f"imbalance_{measure}_pct"),
        stored_formula(summary),
        (summary.get("left") or {}).get(f"{measure}_force_n"),
        (summary.get("right") or {}).get(f"{measure}_force_n"),
    )


BAND_NOTE = (
    "The colour bands are judged on the percentage difference of the same legs, "
    "100 × (stronger − weaker) ÷ stronger, the form the Bourne et al. 2015 figures use."
)


def band_note(formula: str) -> str:
    """What the colour band of a figure in ``formula`` is judged on, for its tooltip."""
    return "" if formula == DEFAULT_FORMULA else BAND_NOTE
