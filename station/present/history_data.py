"""An athlete's tests as a time series, and what counts as a real change.

Plain Python over the store's public values (no Qt, no SQL), so the history
screen, the team screen and the reports compute the same numbers, and tests
can check them without a window.  metrics.md: a change in max force is
*real* only when it is larger than the minimal detectable change in use
(Opar et al. 2013: 60.1–76.2 N); anything smaller is *within MDC*.

Every point carries its protocol group (:mod:`station.present.protocols`): a change
is judged only between tests of the same protocol and knee angle, and
:func:`trend_points` with ``key`` gives one group's series alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from station.present.protocols import NORDIC, ProtocolKey, protocol_key

LEGS = ("left", "right")
REAL_CHANGE = "real change"
WITHIN_MDC = "within MDC"


def parse_instant(text: str) -> dt.datetime:
    """A stored instant ("2026-05-10T10:00:00.000Z") as an aware UTC datetime."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class TrendPoint:
    """One test's session figures (N and %), as the trend plot and tables need them."""

    test_id: int
    when: dt.datetime
    left_max_n: float | None
    right_max_n: float | None
    left_avg_n: float | None
    right_avg_n: float | None
    imbalance_max_pct: float | None
    imbalance_avg_pct: float | None
    stronger_max: str | None
    l_r_ratio_max: float | None
    reps: int
    excluded_reps: int
    voided: bool = False  # shown only when asked for; never in trends or change judgements
    left_max_n_per_kg: float | None = None
    right_max_n_per_kg: float | None = None
    training: bool = False  # a training session: listed only when asked for, never in trends
    protocol: ProtocolKey = (NORDIC, None)  # compared only with points of the same group
    asymmetry_formula: str = "pct_difference"  # of imbalance_*_pct, as the test was analysed

    @property
    def timestamp(self) -> float:
        """Seconds since the epoch (pyqtgraph's date axis)."""
        return self.when.timestamp()

    def force(self, leg: str, measure: str = "max") -> float | None:
        return getattr(self, f"{leg}_{measure}_n")


def point_from_summary(
    test_id: int,
    recorded_at: str,
    summary: dict[str, Any],
    reps: int = 0,
    excluded_reps: int = 0,
    voided: bool = False,
    protocol: ProtocolKey = (NORDIC, None),
) -> TrendPoint:
    """A trend point from a test's summary dict (the analysis JSON's ``summary``)."""
    left = summary.get("left") or {}
    right = summary.get("right") or {}
    return TrendPoint(
        test_id=int(test_id),
        when=parse_instant(recorded_at),
        left_max_n=_number(left.get("max_force_n")),
        right_max_n=_number(right.get("max_force_n")),
        left_avg_n=_number(left.get("avg_force_n")),
        right_avg_n=_number(right.get("avg_force_n")),
        imbalance_max_pct=_number(summary.get("imbalance_max_pct")),
        imbalance_avg_pct=_number(summary.get("imbalance_avg_pct")),
        stronger_max=summary.get("stronger_max") or summary.get("stronger"),
        l_r_ratio_max=_number(summary.get("l_r_ratio_max")),
        reps=int(reps),
        excluded_reps=int(excluded_reps),
        voided=bool(voided),
        left_max_n_per_kg=_number(left.get("relative_max_force_n_per_kg")),
        right_max_n_per_kg=_number(right.get("relative_max_force_n_per_kg")),
        protocol=protocol,
        asymmetry_formula=str(summary.get("asymmetry_formula") or "pct_difference"),
    )


TRAINING = "training"  # the protocol of a training session (metrics.md: not a test)


def is_training(summary: Any) -> bool:
    """A training session, not a test: left out of history, trends and change judgements."""
    return getattr(summary, "protocol", None) == TRAINING


def trend_points(
    summaries: Iterable[Any], key: ProtocolKey | None = None, include_training: bool = False
) -> list[TrendPoint]:
    """Trend points from the store's TestSummary rows, oldest first (the one place every
    screen's series comes from): with ``key`` only the tests of that protocol group;
    training sessions only with ``include_training`` (then whatever ``key`` is)."""
    points = [
        replace(
            point_from_summary(
                s.id,
                s.recorded_at,
                s.summary or {},
                s.reps,
                s.excluded_reps,
                bool(getattr(s, "voided", False)),
                protocol_key(getattr(s, "protocol", None), getattr(s, "knee_angle_deg", None)),
            ),
            training=is_training(s),
        )
        for s in summaries
        if include_training or not is_training(s)
    ]
    if key is not None:
        points = [p for p in points if p.protocol == key or p.training]
    return sorted(points, key=lambda p: (p.when, p.test_id))


@dataclass(frozen=True)
class Change:
    """A leg's change between two tests, judged against the minimal detectable change."""

    leg: str
    before_n: float
    after_n: float
    mdc_n: float

    @property
    def delta_n(self) -> float:
        return self.after_n - self.before_n

    @property
    def real(self) -> bool:
        """Larger than the MDC (a change exactly at the MDC is not called a change; stored
        forces are rounded to 0.01 N, so float noise below a micronewton is ignored)."""
        return round(abs(self.delta_n), 6) > round(self.mdc_n, 6)

    @property
    def label(self) -> str:
        return REAL_CHANGE if self.real else WITHIN_MDC


def change_between(
    before: TrendPoint, after: TrendPoint, mdc_n: float, measure: str = "max"
) -> dict[str, Change]:
    """Each leg's change from ``before`` to ``after`` (legs without both values are left out;
    nothing when they are of different protocols or angles: never compared)."""
    out: dict[str, Change] = {}
    if before.protocol != after.protocol:
        return out
    for leg in LEGS:
        a, b = before.force(leg, measure), after.force(leg, measure)
        if a is not None and b is not None:
            out[leg] = Change(leg, a, b, float(mdc_n))
    return out


def has_result(point: TrendPoint, measure: str = "max") -> bool:
    """Whether a test counts in a change judgement: not voided, not a training session,
    with a force for both legs (a test without reps has none to compare)."""
    if point.voided or point.training:
        return False
    return all(point.force(leg, measure) is not None for leg in LEGS)


def valid_points(points: Sequence[TrendPoint], measure: str = "max") -> list[TrendPoint]:
    """The tests a change is judged between: those with a result, not voided."""
    return [p for p in points if has_result(p, measure)]


def previous_valid(points: Sequence[TrendPoint], measure: str = "max") -> dict[int, TrendPoint]:
    """For each test (by id), the latest earlier test with a result of the same protocol
    group: what its change is judged against."""
    out: dict[int, TrendPoint] = {}
    last: dict[ProtocolKey, TrendPoint] = {}
    for point in points:
        if point.protocol in last:
            out[point.test_id] = last[point.protocol]
        if has_result(point, measure):
            last[point.protocol] = point
    return out


def last_change(
    points: Sequence[TrendPoint], mdc_n: float, measure: str = "max"
) -> dict[str, Change]:
    """The change from the previous valid test to the last valid one (empty with fewer than
    two tests that have a result)."""
    valid = valid_points(points, measure)
    if valid:  # the last valid test's own protocol group only
        valid = [p for p in valid if p.protocol == valid[-1].protocol]
    if len(valid) < 2:
        return {}
    return change_between(valid[-2], valid[-1], mdc_n, measure)


def no_change_text(points: Sequence[TrendPoint], measure: str = "max") -> str:
    """Why no change can be judged yet, in words ("" when one can)."""
    valid = len(valid_points(points, measure))
    if valid >= 2:
        return ""
    if not points:
        return "No test yet."
    if valid == 0:
        return "No test with a result yet: a change is judged between two tests with reps."
    if len(points) == 1:
        return "One test so far: a change is judged from the second test on."
    return "Only one test with a result so far: a change is judged from the second one on."


def dated_injuries(injuries: Iterable[Any]) -> tuple[list[Any], int]:
    """(injuries with a date, oldest first; how many have no date and cannot be placed)."""
    every = list(injuries)
    dated = [i for i in every if getattr(i, "occurred_on", None) is not None]
    return sorted(dated, key=lambda i: i.occurred_on), len(every) - len(dated)


def day_timestamp(day: dt.date) -> float:
    """Midday UTC of a date, in epoch seconds (an injury's place on the date axis)."""
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp()


def injury_text(injury: Any, with_date: bool = True, with_return: bool = True) -> str:
    """ "left biceps femoris (long head), grade 2b, 2026-03-30, back 2026-05-04": an injury
    record in words (side, region, grade, dates; the note is not part of it)."""
    side = {"both": "both legs"}.get(injury.side, f"{injury.side} leg")
    region = getattr(injury, "region", "") or ""
    parts = [f"{injury.side} {region}" if region else side]
    grade = getattr(injury, "grade", None)
    if grade:
        parts.append(f"grade {grade}")
    if with_date:
        day = getattr(injury, "occurred_on", None)
        parts.append(day.isoformat() if day is not None else "date unknown")
    back = getattr(injury, "return_to_play", None)
    if back is not None and with_return:
        parts.append(f"back to play {back.isoformat()}")
    return ", ".join(parts)
