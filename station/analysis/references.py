"""Reference lines from the literature (metrics.md), as data with their sources.

They are lines drawn beside a result, never a diagnosis.  Each line says what
it is compared with: by default the session's avg force per leg (mean of the
included reps' peaks) or the avg-force imbalance.  The lines are configurable:
``ReferenceLine.from_dict`` reads a clinic's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from firmware_bridge.errors import InputError
from station.analysis.summary import Summary

MEASURES = ("force_n", "imbalance_pct")
COMPARISONS = ("below", "at_least")
COMPARED_WITH = ("avg", "max")


@dataclass(frozen=True)
class ReferenceLine:
    """One published cut-off: ``measure`` ``comparison`` ``value`` carries ``relative_risk``."""

    id: str
    source: str
    population: str
    measure: str  # "force_n" (per leg) or "imbalance_pct" (between legs)
    comparison: str  # "below" (value < line) or "at_least" (value >= line)
    value: float
    relative_risk: float | None = None
    context: str = ""
    compared_with: str = "avg"  # the session's "avg" or "max" force

    def __post_init__(self) -> None:
        if self.measure not in MEASURES or self.comparison not in COMPARISONS:
            raise InputError(f"reference line {self.id!r}: unknown measure or comparison")
        if self.compared_with not in COMPARED_WITH:
            raise InputError(f"reference line {self.id!r}: compared_with must be avg or max")

    def crosses(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value < self.value if self.comparison == "below" else value >= self.value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceLine:
        try:
            return cls(**data)
        except TypeError as exc:
            raise InputError(f"bad reference line: {exc}") from None


DEFAULT_REFERENCES: tuple[ReferenceLine, ...] = (
    ReferenceLine(
        "opar2015_start",
        "Opar et al. 2015, Med Sci Sports Exerc",
        "Australian football",
        "force_n",
        "below",
        256.0,
        2.7,
        "start of preseason",
    ),
    ReferenceLine(
        "opar2015_end",
        "Opar et al. 2015, Med Sci Sports Exerc",
        "Australian football",
        "force_n",
        "below",
        279.0,
        4.3,
        "end of preseason",
    ),
    ReferenceLine(
        "timmins2016",
        "Timmins et al. 2016, Br J Sports Med",
        "soccer",
        "force_n",
        "below",
        337.0,
        4.4,
    ),
    ReferenceLine(
        "bourne2015_15",
        "Bourne et al. 2015, Am J Sports Med",
        "rugby union",
        "imbalance_pct",
        "at_least",
        15.0,
        2.4,
    ),
    ReferenceLine(
        "bourne2015_20",
        "Bourne et al. 2015, Am J Sports Med",
        "rugby union",
        "imbalance_pct",
        "at_least",
        20.0,
        3.4,
    ),
)


def evaluate_references(
    summary: Summary, lines: Sequence[ReferenceLine] = DEFAULT_REFERENCES
) -> list[dict[str, Any]]:
    """Each line with the compared values and whether the session is on its far side."""
    out = []
    for line in lines:
        entry = line.to_dict()
        if line.measure == "force_n":
            values = {
                leg: getattr(getattr(summary, leg), f"{line.compared_with}_force_n")
                for leg in ("left", "right")
            }
            entry["result"] = {
                leg: {"value": values[leg], "crossed": line.crosses(values[leg])} for leg in values
            }
        else:
            imbalance = (
                summary.imbalance_avg if line.compared_with == "avg" else summary.imbalance_max
            )
            # The lines are percentage differences, whatever formula the result shows.
            value = imbalance.difference_pct
            entry["result"] = {"value": value, "crossed": line.crosses(value)}
        out.append(entry)
    return out
