"""Every number people read is written by one function, with one rounding rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from station.present.numbers import MINUS, format_number, format_percent, parse_number
from station.present.units import format_force


@pytest.mark.parametrize(
    ("value", "decimals", "shown"),
    [
        (6.55, 1, "6.6"),  # the binary float is a hair below 6.55; f"{6.55:.1f}" gives 6.5
        (6.549, 1, "6.5"),
        (2.5, 0, "3"),  # half away from zero, not to even
        (-2.5, 0, f"{MINUS}3"),
        (312.4, 0, "312"),
        (-0.04, 1, "0.0"),  # a rounded zero has no sign
        (0.0, 2, "0.00"),
        (None, 1, "–"),
        (math.nan, 1, "–"),
        (math.inf, 0, "–"),
    ],
)
def test_one_rounding_rule(value: float | None, decimals: int, shown: str) -> None:
    assert format_number(value, decimals) == shown


def test_a_change_never_reads_plus_zero() -> None:
    assert format_number(-0.3, 0, signed=True) == f"{MINUS}0.3"
    assert format_force(-0.3, "N", signed=True) == f"{MINUS}0.3 N"
    assert format_force(12.0, "N", signed=True) == "+12 N"
    assert format_force(0.0, "N", signed=True) == "0 N"
    assert format_number(0.0004, 0, signed=True) == "0"  # too small for two more places


def test_percent() -> None:
    assert format_percent(6.55) == "6.6 %"
    assert format_percent(None) == "–"


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 3))
def test_the_shown_figure_is_the_value_rounded(value: float, decimals: int) -> None:
    shown = parse_number(format_number(value, decimals))
    assert abs(shown - value) <= 0.5 * 10**-decimals + 1e-9 * max(1.0, abs(value))


def test_plurals() -> None:
    from station.present.numbers import count

    assert count(1, "athlete") == "1 athlete"
    assert count(0, "test") == "0 tests"
    assert count(2, "injury", "injuries") == "2 injuries"
