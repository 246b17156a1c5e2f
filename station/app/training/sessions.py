"""What training mode reads from the store: an athlete's last max, and their training list.

Qt-free, through the store's public API only.  A training session is a stored
test whose protocol is ``training``; its zone and per-leg figures are in its
result's metrics under ``"training"`` (``store.live.finish``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from station.present.history_data import TRAINING, is_training, parse_instant

NORDIC = "nordic_eccentric"


@dataclass(frozen=True)
class LastMax:
    """Each leg's max force of the athlete's latest Nordic test with a result."""

    left_n: float
    right_n: float
    test_id: int
    when: dt.datetime

    @property
    def legs(self) -> tuple[float, float]:
        return (self.left_n, self.right_n)


@dataclass(frozen=True)
class TrainingSession:
    """One line of an athlete's training list."""

    test_id: int
    when: dt.datetime
    zone: str
    figures: dict[str, Any]  # "left"/"right": reps, reps_in_zone, time_in_zone_s, impulse...
    duration_s: float | None


def _force(summary: dict[str, Any], leg: str) -> float | None:
    value = (summary.get(leg) or {}).get("max_force_n")
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return float(value)
    return None


def last_max(store: Any, athlete_id: int) -> LastMax | None:
    """The latest Nordic test with a max force on both legs (None: the athlete has none)."""
    for test in store.tests.of_athlete(athlete_id):  # newest first, voided left out
        if test.protocol != NORDIC:
            continue
        left, right = _force(test.summary or {}, "left"), _force(test.summary or {}, "right")
        if left is not None and right is not None:
            return LastMax(left, right, int(test.id), parse_instant(test.recorded_at))
    return None


def training_figures(store: Any, test_id: int) -> dict[str, Any]:
    """The zone figures saved with a training session (in its first run that has them: a
    later recompute of the recording does not carry the live figures)."""
    for run in store.tests.results(test_id):
        figures = (run.metrics or {}).get(TRAINING)
        if figures:
            return dict(figures)
    return {}


def describe_zone(zone: dict[str, Any]) -> str:
    """A stored zone in words, as ``TargetZone.describe`` says it."""
    low, high = zone.get("low_n") or [], zone.get("high_n") or []
    if len(low) != 2 or len(high) != 2:
        return "–"
    bands = [f"{lo:.0f}–{hi:.0f} N" for lo, hi in zip(low, high, strict=True)]
    percent = zone.get("percent")
    if zone.get("mode") == "%" and percent:
        return f"{percent[0]:g}–{percent[1]:g} % (L {bands[0]} · R {bands[1]})"
    return bands[0] if bands[0] == bands[1] else f"L {bands[0]} · R {bands[1]}"


def training_sessions(store: Any, athlete_id: int) -> list[TrainingSession]:
    """An athlete's training sessions, newest first."""
    out = []
    for test in store.tests.of_athlete(athlete_id):
        if not is_training(test):
            continue
        figures = training_figures(store, test.id)
        out.append(
            TrainingSession(
                int(test.id),
                parse_instant(test.recorded_at),
                describe_zone(figures.get("zone") or {}),
                figures,
                test.duration_s,
            )
        )
    return out
