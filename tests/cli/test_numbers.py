"""The command line's tables round as the screens and reports do."""

from __future__ import annotations

import pytest

from station.cli.common import fmt
from station.present.numbers import MINUS, format_number


@pytest.mark.parametrize(
    ("value", "digits"), [(6.55, 1), (2.5, 0), (-12.25, 1), (0.049, 1), (301.25, 1)]
)
def test_the_cli_and_the_app_write_the_same_digits(value: float, digits: int) -> None:
    assert fmt(value, digits) == format_number(value, digits).replace(MINUS, "-")


def test_half_away_from_zero_and_a_plain_minus_for_scripts() -> None:
    assert fmt(6.55) == "6.6"  # f"{6.55:.1f}" would say 6.5
    assert fmt(-12.25) == "-12.3"
    assert fmt(None) == ""
