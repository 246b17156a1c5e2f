"""What a result means for the clinician, in words: the change since the previous valid test
with its MDC verdict, and the reference lines that apply to the athlete.

Qt-free, so the Results screen, the test report and the command line say the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from station.present.history_data import (
    Change,
    TrendPoint,
    change_between,
    has_result,
    previous_valid,
    trend_points,
)
from station.present.protocols import key_of
from station.present.times import day_text
from station.present.units import format_force

LEGS = ("left", "right")


@dataclass(frozen=True)
class ChangeSince:
    """A test's change since the athlete's previous valid test (None: nothing to compare)."""

    previous: TrendPoint | None
    changes: dict[str, Change]
    mdc_n: float
    reason: str = ""  # why there is no change, in words

    def lines(self, unit: str) -> list[str]:
        """ "Left +67 N: real change" per leg."""
        return [
            f"{leg.capitalize()} {format_force(c.delta_n, unit, signed=True)}: {c.label}"
            for leg, c in self.changes.items()
        ]

    def heading(self) -> str:
        if self.previous is None:
            return self.reason
        return f"Change since the previous valid test ({day_text(self.previous.when)})"


def change_since_previous(points: Sequence[TrendPoint], test_id: int, mdc_n: float) -> ChangeSince:
    """The change of test ``test_id`` against the athlete's latest earlier valid test."""
    point = next((p for p in points if p.test_id == test_id), None)
    if point is None:
        return ChangeSince(None, {}, mdc_n, "This test is voided: no change is judged for it.")
    if not has_result(point):
        return ChangeSince(None, {}, mdc_n, "No reps in this test: no change to judge.")
    before = previous_valid(points).get(test_id)
    if before is None:
        return ChangeSince(
            None,
            {},
            mdc_n,
            "First test with a result for this athlete in this protocol: no change to judge yet.",
        )
    return ChangeSince(before, change_between(before, point, mdc_n), mdc_n)


def change_for_test(store: Any, test: Any, mdc_n: float) -> ChangeSince:
    """:func:`change_since_previous` read from the store (voided tests are left out), among
    the tests of the same protocol and knee angle only."""
    points = trend_points(store.tests.of_athlete(test.athlete_id), key_of(test))
    return change_since_previous(points, test.id, mdc_n)
