"""Which leg is stronger from test to test, and whether the imbalance really changed.

Issue 15 §4: a clinician should not chase a side that flips.  Over one
athlete's tests of ONE protocol group (voided tests and training sessions
left out, as everywhere in the history), this says

- the stronger side (max force) of each test, how often it switched between
  consecutive tests and the share of consecutive pairs that switched;
- the imbalance's own noise: the typical error (Hopkins 2000, Sports Med
  30:1-15: SD of the test-to-test differences ÷ √2) of the athlete's signed
  imbalance, and whether the latest change of that imbalance is larger than
  its smallest real change, MDC95 = 1.96 × √2 × TE.

The imbalance is taken in the clinic's asymmetry formula (metrics.md), always
in its signed form (positive: left stronger), so a switch of side counts its
full swing: ``pct_difference`` is signed as ``signed_pct``.  Plain Python, no
Qt: the History screen and the history report print the same line.  The exact
definitions are in docs/analysis.md ("Stronger side and imbalance noise").
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from station.analysis import asymmetry
from station.present.formulas import FORMULA_NAMES, formula_label
from station.present.history_data import TrendPoint, valid_points
from station.present.numbers import count, format_number

MIN_TESTS = 3  # two test-to-test differences: the fewest an SD can be taken of
Z95 = 1.96
WITHIN_NOISE = "within its own noise"
BEYOND_NOISE = "beyond its own noise"
NOT_ENOUGH = "not enough tests to judge"


def stored_formulas_text(points: Sequence[TrendPoint]) -> str:
    """The formulas the listed tests' stored imbalance figures are in, named ("percentage
    difference (pct_difference)"; several joined when tests were analysed differently)."""
    used = dict.fromkeys(p.asymmetry_formula for p in points) or {"pct_difference": None}
    return ", ".join(formula_label(f) for f in used)


def signed_imbalance(left: float, right: float, formula: str = "pct_difference") -> float | None:
    """The imbalance in ``formula``, signed with the side (+ left stronger, − right stronger):
    percentage difference is signed as ``signed_pct`` (same size, side as the sign)."""
    signed = "signed_pct" if formula == "pct_difference" else formula
    return asymmetry(left, right, signed)


def stronger_side(left: float, right: float) -> str:
    """ "left", "right" or "equal": the leg with the higher max force."""
    return "left" if left > right else "right" if right > left else "equal"


@dataclass(frozen=True)
class ImbalanceNoise:
    """The latest change of the signed imbalance judged against the athlete's own noise."""

    te_pp: float  # typical error of the imbalance, percentage points
    latest_change_pp: float  # last test's imbalance − the one before (+: toward the left)
    differences: int  # test-to-test differences the TE comes from

    @property
    def mdc_pp(self) -> float:
        """Smallest real change (95 %): 1.96 × √2 × TE."""
        return Z95 * math.sqrt(2.0) * self.te_pp

    @property
    def beyond(self) -> bool:
        """Larger than the MDC (exactly at it is not; rounding noise under 1e-6 pp ignored)."""
        return round(abs(self.latest_change_pp), 6) > round(self.mdc_pp, 6)

    @property
    def label(self) -> str:
        return BEYOND_NOISE if self.beyond else WITHIN_NOISE


@dataclass(frozen=True)
class SideSwitches:
    """The stronger side over one protocol group's tests, oldest first."""

    formula: str
    sides: tuple[str, ...]  # per test: "left", "right" or "equal"
    imbalances_pp: tuple[float, ...]  # per test, signed (+ left stronger)
    switches: int  # consecutive named sides that differ ("equal" tests are skipped)
    comparisons: int  # consecutive pairs of named sides
    noise: ImbalanceNoise | None  # None with fewer than MIN_TESTS tests

    @property
    def tests(self) -> int:
        return len(self.sides)

    @property
    def share(self) -> float | None:
        """Switches per comparison (None with nothing to compare)."""
        return self.switches / self.comparisons if self.comparisons else None

    def stronger(self, side: str) -> int:
        """How many tests had ``side`` stronger."""
        return self.sides.count(side)

    def switch_text(self) -> str:
        """ "switched 2 times in 6 tests (left 4, right 2)"."""
        tally = f"left {self.stronger('left')}, right {self.stronger('right')}"
        if self.stronger("equal"):
            tally += f", equal {self.stronger('equal')}"
        if self.tests == 1:
            return f"{self.sides[0]} in the only test"
        if self.switches == 0:
            return f"never switched in {count(self.tests, 'test')} ({tally})"
        times = "once" if self.switches == 1 else f"{self.switches} times"
        return f"switched {times} in {count(self.tests, 'test')} ({tally})"

    def noise_text(self) -> str:
        """ "last imbalance change +9.1 pp toward the left: within its own noise (±11.4 pp)"."""
        if self.noise is None:
            return f"imbalance change: {NOT_ENOUGH} ({MIN_TESTS} tests needed, {self.tests} so far)"
        change = self.noise.latest_change_pp
        toward = " toward the left" if change > 0 else " toward the right" if change < 0 else ""
        return (
            f"last imbalance change {format_number(change, 1, signed=True)} pp{toward}: "
            f"{self.noise.label} (±{format_number(self.noise.mdc_pp, 1)} pp)"
        )

    def text(self) -> str:
        """The one line the History screen and the history report print."""
        return f"Stronger side: {self.switch_text()} · {self.noise_text()}"

    def formula_text(self) -> str:
        """The formula the imbalance is in, named (every screen and report names it)."""
        name = FORMULA_NAMES.get(self.formula, self.formula)
        return f"imbalance as {name} ({self.formula}), signed: + left stronger"

    def explanation(self) -> str:
        """What is judged, for a tooltip or a report's note."""
        return (
            "Stronger side: the leg with the higher max force in each test; a switch is a "
            "change of side between consecutive tests (a test with equal legs is skipped). "
            f"Imbalance noise: the {self.formula_text()}, in percentage points; its typical "
            "error TE = SD of the test-to-test differences ÷ √2 (Hopkins 2000), over this "
            "athlete's tests of this protocol; the last change is real (beyond its own noise) "
            "only when larger than MDC95 = 1.96 × √2 × TE. A side that flips within the noise "
            f"is not a change to chase. Judged from {MIN_TESTS} tests on."
        )


def typical_error(values: Sequence[float]) -> float:
    """Hopkins' typical error of a series of repeated measures: SD of the consecutive
    differences ÷ √2 (ValueError with fewer than three values)."""
    if len(values) < MIN_TESTS:
        raise ValueError(f"a typical error needs at least {MIN_TESTS} values")
    differences = [b - a for a, b in zip(values, values[1:], strict=False)]
    return statistics.stdev(differences) / math.sqrt(2.0)


def side_switches(
    points: Sequence[TrendPoint], formula: str = "pct_difference"
) -> SideSwitches | None:
    """The stronger side and imbalance noise over ``points`` (one protocol group, as
    ``trend_points(tests, key)`` gives it); only tests with a result count, and only those
    of the last such test's protocol group, so groups never mix.  None without any."""
    valid = valid_points(points)
    if valid:
        valid = [p for p in valid if p.protocol == valid[-1].protocol]
    sides: list[str] = []
    imbalances: list[float] = []
    for point in valid:
        left, right = point.left_max_n, point.right_max_n
        assert left is not None and right is not None  # valid_points keeps both
        value = signed_imbalance(left, right, formula)
        if value is None:  # no force on either leg: no side, no imbalance
            continue
        sides.append(stronger_side(left, right))
        imbalances.append(value)
    if not sides:
        return None
    named = [s for s in sides if s != "equal"]
    switches = sum(a != b for a, b in zip(named, named[1:], strict=False))
    noise = None
    if len(imbalances) >= MIN_TESTS:
        noise = ImbalanceNoise(
            te_pp=typical_error(imbalances),
            latest_change_pp=imbalances[-1] - imbalances[-2],
            differences=len(imbalances) - 1,
        )
    return SideSwitches(
        formula=formula,
        sides=tuple(sides),
        imbalances_pp=tuple(imbalances),
        switches=switches,
        comparisons=max(len(named) - 1, 0),
        noise=noise,
    )
