"""Stronger side and imbalance noise over an athlete's history (issue 15 §4)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pytest

from station.present.history_data import TrendPoint
from station.present.preferences import Preferences, from_values, validate
from station.present.protocols import ISOMETRIC, NORDIC
from station.present.side_switches import (
    BEYOND_NOISE,
    NOT_ENOUGH,
    WITHIN_NOISE,
    side_switches,
    signed_imbalance,
    stored_formulas_text,
    typical_error,
)


def point(test_id: int, left: float | None, right: float | None) -> TrendPoint:
    return TrendPoint(
        test_id,
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=7 * test_id),
        left,
        right,
        left,
        right,
        None,
        None,
        None,
        None,
        3,
        0,
    )


def series(*pairs: tuple[float, float]) -> list[TrendPoint]:
    return [point(i + 1, left, right) for i, (left, right) in enumerate(pairs)]


def test_alternating_sides_switch_at_every_test() -> None:
    result = side_switches(series((300, 250), (250, 300), (300, 250), (250, 300), (300, 250)))
    assert result is not None
    assert result.sides == ("left", "right", "left", "right", "left")
    assert (result.switches, result.comparisons, result.tests) == (4, 4, 5)
    assert result.share == 1.0
    assert result.switch_text() == "switched 4 times in 5 tests (left 3, right 2)"


def test_a_steady_left_stronger_athlete_never_switches() -> None:
    result = side_switches(series((300, 250), (310, 260), (305, 280), (320, 270)))
    assert result is not None
    assert result.switches == 0 and result.share == 0.0
    assert result.stronger("left") == 4 and result.stronger("right") == 0
    assert result.switch_text() == "never switched in 4 tests (left 4, right 0)"


def test_an_equal_test_is_skipped_not_a_switch() -> None:
    result = side_switches(series((300, 250), (280, 280), (300, 250), (250, 300)))
    assert result is not None
    assert result.sides == ("left", "equal", "left", "right")
    assert (result.switches, result.comparisons) == (1, 2)
    assert "switched once in 4 tests (left 2, right 1, equal 1)" in result.text()


def test_typical_error_by_hand() -> None:
    # Signed imbalances (signed_pct, + left): +20, −10, +10, +5 percentage points.
    result = side_switches(series((100, 80), (90, 100), (100, 90), (100, 95)))
    assert result is not None and result.noise is not None
    assert result.imbalances_pp == pytest.approx((20.0, -10.0, 10.0, 5.0))
    # Differences −30, +20, −5: mean −5, SD = √((625 + 625 + 0) / 2) = 25, TE = 25 / √2.
    assert result.noise.te_pp == pytest.approx(25.0 / math.sqrt(2.0))
    assert result.noise.mdc_pp == pytest.approx(1.96 * 25.0)  # 1.96 × √2 × TE = 49.0
    assert result.noise.latest_change_pp == pytest.approx(-5.0)
    assert result.noise.label == WITHIN_NOISE
    assert result.noise_text() == (
        "last imbalance change −5.0 pp toward the right: within its own noise (±49.0 pp)"
    )
    assert typical_error([20.0, -10.0, 10.0, 5.0]) == pytest.approx(25.0 / math.sqrt(2.0))


def test_a_change_beyond_its_own_noise() -> None:
    # Imbalances +5, +6, +5, +6, +5, −25 pp: a steady athlete whose last test swings right.
    result = side_switches(series((100, 95), (100, 94), (100, 95), (100, 94), (100, 95), (75, 100)))
    assert result is not None and result.noise is not None
    differences = [1.0, -1.0, 1.0, -1.0, -30.0]
    mean = sum(differences) / 5
    sd = math.sqrt(sum((d - mean) ** 2 for d in differences) / 4)
    assert result.noise.te_pp == pytest.approx(sd / math.sqrt(2.0))
    assert result.noise.latest_change_pp == pytest.approx(-30.0)
    assert abs(result.noise.latest_change_pp) > result.noise.mdc_pp
    assert result.noise.label == BEYOND_NOISE
    assert "−30.0 pp toward the right: beyond its own noise" in result.text()
    assert result.switches == 1


def test_fewer_than_three_tests_give_no_judgement() -> None:
    result = side_switches(series((300, 250), (250, 300)))
    assert result is not None
    assert result.noise is None
    assert result.switches == 1
    assert NOT_ENOUGH in result.text()
    assert "3 tests needed, 2 so far" in result.text()
    assert side_switches([]) is None
    with pytest.raises(ValueError):
        typical_error([1.0, 2.0])


def test_voided_training_and_testless_points_do_not_count() -> None:
    points = series((300, 250), (250, 300), (300, 250), (250, 300))
    points[1] = replace(points[1], voided=True)
    points[2] = replace(points[2], training=True)
    points.append(point(9, None, None))  # a test without reps
    result = side_switches(points)
    assert result is not None
    assert result.sides == ("left", "right")
    assert result.noise is None


def test_protocol_groups_never_mix() -> None:
    nordic = series((300, 250), (250, 300), (300, 250))
    iso = [
        replace(point(10 + i, left, right), protocol=(ISOMETRIC, 30.0))
        for i, (left, right) in enumerate(((200, 150), (205, 150), (210, 150)))
    ]
    result = side_switches(nordic + iso)  # the last test's group only: isometric at 30°
    assert result is not None
    assert result.sides == ("left", "left", "left") and result.switches == 0
    only_nordic = side_switches([p for p in nordic + iso if p.protocol == (NORDIC, None)])
    assert only_nordic is not None and only_nordic.switches == 2


def test_the_formula_is_used_and_named() -> None:
    points = series((100, 80), (90, 100), (100, 90))
    by_difference = side_switches(points, "pct_difference")
    by_index = side_switches(points, "symmetry_index")
    assert by_difference is not None and by_index is not None
    assert by_difference.imbalances_pp[0] == pytest.approx(20.0)  # signed as signed_pct
    assert by_index.imbalances_pp[0] == pytest.approx(100 * 20 / 90)
    assert "symmetry index (symmetry_index)" in by_index.formula_text()
    assert "percentage difference (pct_difference)" in by_difference.explanation()
    assert signed_imbalance(80, 100) == pytest.approx(-20.0)
    assert signed_imbalance(0, 0) is None


def test_the_formula_preference_is_checked() -> None:
    assert Preferences().asymmetry_formula == "pct_difference"
    prefs = from_values(lambda key: "symmetry_index" if key.endswith("asymmetry_formula") else None)
    assert prefs.asymmetry_formula == "symmetry_index"
    unknown = from_values(lambda key: "ratio" if key.endswith("asymmetry_formula") else None)
    assert unknown.asymmetry_formula == "pct_difference"
    problem = validate(Preferences(asymmetry_formula="ratio"))
    assert problem is not None and "asymmetry formula" in problem


def test_the_stored_formulas_are_named() -> None:
    points = series((100, 80), (90, 100))
    assert stored_formulas_text(points) == "percentage difference (pct_difference)"
    points[1] = replace(points[1], asymmetry_formula="symmetry_index")
    assert stored_formulas_text(points) == (
        "percentage difference (pct_difference), symmetry index (symmetry_index)"
    )
    assert stored_formulas_text([]) == "percentage difference (pct_difference)"
