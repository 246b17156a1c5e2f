"""Where an athlete stands within the clinic's own data (issue 15 §5a).

The group: every athlete of the same sport and sex, in the same age band on the
test day, with a valid test of the same protocol and knee angle.  Each athlete
counts once, with their latest such test (the athlete shown counts with the test
shown).  A percentile is given only when the group has at least
:data:`MIN_GROUP` athletes: below that it would describe a handful of people.

Measures (docs/analysis.md, Percentiles): *strength* is the mean of the two legs'
session max force (N); *relative strength* is that ÷ the body mass on the test
day (N/kg, only tests with a body mass).  A test without both legs' max (an
isometric test of one leg) has no strength and is not in any group.

Percentile rank (mid-rank): 100 × (number below + ½ × number equal) ÷ N, the
athlete included in N.  Qt-free, over the store's public API only.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from station.present.history_data import parse_instant
from station.present.protocols import ProtocolKey, key_label, key_of

log = logging.getLogger(__name__)

MIN_GROUP = 20
# Age bands on the test day, as (label, first age, first age of the next band).
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("under 16", 0, 16),
    ("16–17", 16, 18),
    ("18–24", 18, 25),
    ("25–34", 25, 35),
    ("35–44", 35, 45),
    ("45 and over", 45, 200),
)


def age_years(born: dt.date, on: dt.date) -> int:
    """Whole years of age on ``on`` (birthdays counted on the day)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_band(born: dt.date | None, on: dt.date) -> str | None:
    """The age band on ``on``; None without a date of birth (or one after ``on``)."""
    if born is None or born > on:
        return None
    age = age_years(born, on)
    return next(label for label, low, high in AGE_BANDS if low <= age < high)


def percentile_rank(value: float, values: Sequence[float]) -> float:
    """Mid-rank percentile of ``value`` among ``values`` (which include it): 100 × (below +
    ½ × equal) ÷ N.  The lowest of 20 distinct values is 2.5, the highest 97.5."""
    if not values:
        raise ValueError("a percentile needs at least one value")
    below = sum(1 for v in values if v < value)
    equal = sum(1 for v in values if v == value)
    return 100.0 * (below + 0.5 * equal) / len(values)


def strength_n(summary: dict[str, Any]) -> float | None:
    """Mean of the two legs' session max force (N); None unless both are known."""
    legs: list[float] = []
    for leg in ("left", "right"):
        value = (summary.get(leg) or {}).get("max_force_n")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value):
            return None
        legs.append(float(value))
    return (legs[0] + legs[1]) / 2.0


@dataclass(frozen=True)
class Group:
    protocol: ProtocolKey
    sport: str
    sex: str
    age_band: str

    def text(self) -> str:
        return f"{key_label(self.protocol)} · {self.sport} · {self.sex} · {self.age_band}"


@dataclass(frozen=True)
class Standing:
    """A test's place in its group.  ``force_percentile`` / ``per_kg_percentile`` are
    None when the group (with that measure) has fewer than :data:`MIN_GROUP` athletes;
    ``reason`` then says why."""

    group: Group | None
    force_n: float | None
    force_group: int
    force_percentile: float | None
    per_kg: float | None
    per_kg_group: int
    per_kg_percentile: float | None
    reason: str = ""


@dataclass(frozen=True)
class _Entry:
    athlete_id: int
    force_n: float
    per_kg: float | None


def _group_key(athlete: Any, test: Any) -> Group | None:
    sport = (getattr(athlete, "sport", None) or "").strip().casefold()
    sex = getattr(athlete, "sex", None)
    band = age_band(getattr(athlete, "date_of_birth", None), parse_instant(test.recorded_at).date())
    if not sport or not sex or band is None:
        return None
    return Group(key_of(test), sport, sex, band)


def _entry(athlete_id: int, test: Any, body_mass_kg: float | None) -> _Entry | None:
    force = strength_n(test.summary or {})
    if force is None:
        return None
    per_kg = force / body_mass_kg if body_mass_kg else None
    return _Entry(athlete_id, force, per_kg)


def _latest_in_group(store: Any, athlete: Any, group: Group) -> _Entry | None:
    """The athlete's latest valid test in ``group`` (tests come newest first)."""
    for test in store.tests.of_athlete(athlete.id):
        if key_of(test) != group.protocol or _group_key(athlete, test) != group:
            continue
        entry = _entry(athlete.id, test, _mass_of(test))
        if entry is not None:
            return entry
    return None


def _mass_of(test: Any) -> float | None:
    mass = getattr(test, "body_mass_kg", None)
    return float(mass) if mass else None


def standing(store: Any, test: Any, min_group: int = MIN_GROUP) -> Standing:
    """Where ``test`` (a stored TestRecord with a result) stands in its group."""
    athlete = store.athletes.get(test.athlete_id)
    summary = test.result.summary if test.result is not None else {}
    force = strength_n(summary)
    group = _group_key(athlete, test)
    per_kg = force / test.body_mass_kg if force is not None and test.body_mass_kg else None
    if force is None:
        return Standing(group, None, 0, None, None, 0, None, "no max force for both legs")
    if group is None:
        return Standing(
            None, force, 0, None, per_kg, 0, None, "needs the athlete's sport, sex and birth date"
        )
    entries = [_Entry(athlete.id, force, per_kg)]
    for other in _candidates(store, athlete, group):
        entry = _latest_in_group(store, other, group)
        if entry is not None:
            entries.append(entry)
    return _place(group, entries, force, per_kg, min_group)


def _candidates(store: Any, athlete: Any, group: Group) -> Iterable[Any]:
    """Other athletes who may be in ``group`` (sport and sex match; the age band and the
    protocol are checked per test)."""
    for other in store.athletes.find():
        if other.id == athlete.id or getattr(other, "erased_at", None):
            continue
        if (other.sport or "").strip().casefold() == group.sport and other.sex == group.sex:
            yield other


def _place(
    group: Group, entries: list[_Entry], force: float, per_kg: float | None, min_group: int
) -> Standing:
    forces = [e.force_n for e in entries]
    masses = [e.per_kg for e in entries if e.per_kg is not None]
    force_pct = percentile_rank(force, forces) if len(forces) >= min_group else None
    kg_pct = (
        percentile_rank(per_kg, masses) if per_kg is not None and len(masses) >= min_group else None
    )
    reason = (
        ""
        if force_pct is not None
        else f"{len(forces)} athlete(s) in this group: a percentile needs at least {min_group}"
    )
    log.debug("standing among %d athletes (%d with body mass)", len(forces), len(masses))
    return Standing(group, force, len(forces), force_pct, per_kg, len(masses), kg_pct, reason)


def standing_text(result: Standing) -> str:
    """One or two lines for a screen or report."""
    if result.group is None or result.force_percentile is None:
        return f"Percentile within this clinic: none ({result.reason})."
    text = (
        f"P{result.force_percentile:.0f} in N among {result.force_group} athletes "
        f"({result.group.text()})"
    )
    if result.per_kg_percentile is not None:
        text += f"; P{result.per_kg_percentile:.0f} in N/kg among {result.per_kg_group}"
    elif result.per_kg is not None:
        text += f"; N/kg: only {result.per_kg_group} with a body mass"
    return text + "."
