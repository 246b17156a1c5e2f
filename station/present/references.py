"""Which published reference lines apply to an athlete: their sport and their sex.

A cut-off is a line for the group it was measured in.  Showing a soccer line to a
rower, or a line from male players to a woman, suggests a judgement no study
supports: for such athletes the screens and reports say "no published cut-off
for this group" instead.  The built-in lines (metrics.md) were all measured in
male athletes; a clinic's own lines carry no sex unless ``COHORT_SEX`` names one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from station.analysis import ReferenceLine

NO_CUT_OFF = "No published cut-off for this group"

# The sex of the cohort each built-in line comes from (Opar 2015: elite male Australian
# footballers; Timmins 2016: elite male soccer players; Bourne 2015: elite male rugby union).
COHORT_SEX: dict[str, str] = {
    "opar2015_start": "male",
    "opar2015_end": "male",
    "timmins2016": "male",
    "bourne2015_15": "male",
    "bourne2015_20": "male",
}

SPORT_SYNONYMS = {
    "football": "soccer",
    "association football": "soccer",
    "afl": "australian football",
    "aussie rules": "australian football",
    "rugby": "rugby union",
}


def _sport(text: str) -> str:
    value = text.strip().lower()
    return SPORT_SYNONYMS.get(value, value)


def sport_matches(population: str, sport: str | None) -> bool:
    """Whether a line's population is the athlete's sport ("Football" is soccer)."""
    if not sport or not population.strip():
        return False
    a, b = _sport(population), _sport(sport)
    return a == b or a in b or b in a


def sex_matches(line: ReferenceLine | dict[str, Any], sex: str | None) -> bool:
    """Whether a line's cohort is of the athlete's sex (a sex not recorded is not refused)."""
    line_id = line.get("id") if isinstance(line, dict) else line.id
    cohort = COHORT_SEX.get(str(line_id))
    return cohort is None or not sex or sex == cohort


def applies(line: ReferenceLine | dict[str, Any], sport: str | None, sex: str | None) -> bool:
    population = line.get("population", "") if isinstance(line, dict) else line.population
    return sport_matches(str(population), sport) and sex_matches(line, sex)


def applicable_references(
    lines: Iterable[ReferenceLine], sport: str | None, sex: str | None
) -> list[ReferenceLine]:
    """The lines measured in the athlete's group (possibly none)."""
    return [line for line in lines if applies(line, sport, sex)]


def applicable_entries(
    entries: Sequence[dict[str, Any]], chosen: Sequence[ReferenceLine]
) -> list[dict[str, Any]]:
    """A stored result's evaluated lines (the analysis evaluates every line) narrowed to the
    lines chosen for the athlete."""
    ids = {line.id for line in chosen}
    return [entry for entry in entries if entry.get("id") in ids]


def group_text(sport: str | None, sex: str | None) -> str:
    """ "female soccer players", "athletes of an unrecorded sport": the group in words."""
    who = {"female": "female ", "male": "male "}.get(sex or "", "")
    if sport:
        return f"{who}{sport} athletes"
    return f"{who}athletes with no sport recorded"
