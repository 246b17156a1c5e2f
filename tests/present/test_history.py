"""A change is judged against the previous valid test; "one test so far" only when true."""

from __future__ import annotations

import dataclasses
import datetime as dt

from station.present.history_data import (
    TrendPoint,
    last_change,
    no_change_text,
    previous_valid,
)


def point(
    test_id: int, left: float | None, right: float | None, voided: bool = False
) -> TrendPoint:
    when = dt.datetime(2026, 1, test_id, tzinfo=dt.UTC)
    return TrendPoint(
        test_id, when, left, right, left, right, 5.0, 5.0, "left", 1.0, 3, 0
    )  # fmt: skip


EMPTY = point(2, None, None)  # an accidental test with no reps


def test_an_empty_test_does_not_break_the_change() -> None:
    points = [point(1, 300.0, 300.0), EMPTY, point(3, 380.0, 310.0)]
    change = last_change(points, 60.1)
    assert change["left"].before_n == 300.0 and change["left"].real
    assert previous_valid(points)[3].test_id == 1
    assert no_change_text(points) == ""


def test_a_voided_test_is_never_the_previous_one() -> None:
    wrong = dataclasses.replace(point(2, 500.0, 500.0), voided=True)
    points = [point(1, 300.0, 300.0), wrong, point(3, 310.0, 300.0)]
    assert last_change(points, 60.1)["left"].before_n == 300.0


def test_one_test_so_far_only_when_there_is_one() -> None:
    assert no_change_text([point(1, 300.0, 300.0)]).startswith("One test so far")
    assert no_change_text([point(1, 300.0, 300.0), EMPTY]).startswith("Only one test with a result")
    assert no_change_text([EMPTY]).startswith("No test with a result")
    assert no_change_text([]) == "No test yet."
