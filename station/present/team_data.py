"""The latest result of every athlete in a team, and which of them stand out.

Two store queries whatever the squad's size: ``store.athletes.find(team=...)`` for
the roster (with those who never tested) and ``store.tests.latest(team)`` for every
athlete's newest test.  No Qt and no SQL here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.analysis import ReferenceLine
from station.present.formulas import point_band
from station.present.history_data import TrendPoint, point_from_summary
from station.present.numbers import format_percent
from station.present.protocols import NORDIC, ProtocolKey, key_of

ALL_TEAMS = ""  # the team filter meaning "every athlete"


@dataclass(frozen=True)
class TeamRow:
    """An athlete and their latest test (None when they have none yet)."""

    athlete: Any
    latest: TrendPoint | None


def teams(store: Any) -> list[str]:
    """The team names in use, sorted (case-insensitively)."""
    names = {a.team.strip() for a in store.athletes.find() if a.team and a.team.strip()}
    return sorted(names, key=str.lower)


def latest_results(
    store: Any, team: str | None, key: ProtocolKey = (NORDIC, None)
) -> list[TeamRow]:
    """Every athlete (not archived) of ``team``, or of all teams for ALL_TEAMS, with their
    latest test of protocol group ``key`` (default Nordic: the team's reference lines are
    Nordic figures; another protocol or angle is never put beside it)."""
    athletes = store.athletes.find(team=team or None)
    newest = store.tests.latest(team or None)
    rows = []
    for athlete in athletes:
        t = newest.get(athlete.id)
        if t is not None and key_of(t) != key:  # their newest is of another group
            t = next((s for s in store.tests.of_athlete(athlete.id) if key_of(s) == key), None)
        latest = None
        if t is not None:
            latest = point_from_summary(
                t.id, t.recorded_at, t.summary or {}, t.reps, t.excluded_reps, protocol=key
            )
        rows.append(TeamRow(athlete, latest))
    return rows


def force_value(point: TrendPoint, leg: str, line: ReferenceLine) -> float | None:
    """The leg's force a reference line is compared with (its ``compared_with``: avg or max)."""
    return point.force(leg, line.compared_with)


def concerns(
    point: TrendPoint | None, force_line: ReferenceLine | None, imbalance_pct: float | None
) -> list[str]:
    """Why a result stands out, in words (empty: nothing to flag).

    A leg below the force line, or an imbalance (on max force) at or above
    the chosen percentage.
    """
    if point is None:
        return []
    out = []
    if force_line is not None:
        legs = [
            leg
            for leg in ("left", "right")
            if force_line.crosses(force_value(point, leg, force_line)) is True
        ]
        if legs:
            which = " and ".join(legs)
            out.append(f"{which} {force_line.compared_with} < {force_line.value:g} N")
    imbalance = point_band(point)  # the percentage difference, whatever the formula
    if imbalance_pct is not None and imbalance is not None and imbalance >= imbalance_pct:
        out.append(f"imbalance {format_percent(imbalance)} ≥ {imbalance_pct:g} %")
    return out


def short_source(line: ReferenceLine) -> str:
    """ "Timmins et al. 2016" from "Timmins et al. 2016, Br J Sports Med"."""
    return line.source.split(",")[0].strip()
