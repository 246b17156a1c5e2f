"""Session numbers per leg, from the included reps only.

- max force (N): the highest included rep peak (the NordBord's "max");
- avg force (N): the mean of the included reps' peaks (the NordBord's "avg");
- imbalance (in the settings' asymmetry formula) and L:R ratio on the session
  max and on the session avg.

In an isometric test a rep may hold one leg only: each leg's max and avg are
over the included reps that hold that leg.

Kept apart from detection so that excluding a rep recomputes the summary
without touching the curves or the reps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from station.analysis.metrics import Imbalance, Rep


@dataclass(frozen=True)
class LegSummary:
    """One leg over the included reps: its best and average rep, absolute and relative."""

    max_force_n: float | None
    avg_force_n: float | None
    max_rep: int | None  # number of the rep holding the max
    relative_max_force_n_per_kg: float | None = None
    relative_avg_force_n_per_kg: float | None = None
    max_torque_nm: float | None = None
    avg_torque_nm: float | None = None
    reps: int = 0  # included reps with this leg in them


@dataclass(frozen=True)
class Summary:
    """The session: both legs, the imbalance of their best and of their average reps."""

    left: LegSummary
    right: LegSummary
    imbalance_max: Imbalance
    imbalance_avg: Imbalance
    reps_detected: int
    reps_included: int


def _leg(
    reps: Sequence[Rep], name: str, body_mass_kg: float | None, lever_arm_m: float | None
) -> LegSummary:
    legs = [m for m in (r.leg(name) for r in reps) if m is not None]
    if not legs:
        return LegSummary(None, None, None)
    reps = [r for r in reps if r.leg(name) is not None]
    peaks = np.array([m.peak_force_n for m in legs])
    best = int(np.argmax(peaks))
    mx, avg = float(peaks[best]), float(np.mean(peaks))
    return LegSummary(
        max_force_n=mx,
        avg_force_n=avg,
        max_rep=reps[best].number,
        relative_max_force_n_per_kg=mx / body_mass_kg if body_mass_kg else None,
        relative_avg_force_n_per_kg=avg / body_mass_kg if body_mass_kg else None,
        max_torque_nm=mx * lever_arm_m if lever_arm_m else None,
        avg_torque_nm=avg * lever_arm_m if lever_arm_m else None,
        reps=len(legs),
    )


def summarize(
    reps: Sequence[Rep],
    body_mass_kg: float | None = None,
    lever_arm_m: float | None = None,
    asymmetry_formula: str = "pct_difference",
) -> Summary:
    """Summary over the reps that are not excluded (each leg over the reps it is in)."""
    included = [r for r in reps if not r.excluded]
    left = _leg(included, "left", body_mass_kg, lever_arm_m)
    right = _leg(included, "right", body_mass_kg, lever_arm_m)
    return Summary(
        left=left,
        right=right,
        imbalance_max=Imbalance.of(left.max_force_n, right.max_force_n, asymmetry_formula),
        imbalance_avg=Imbalance.of(left.avg_force_n, right.avg_force_n, asymmetry_formula),
        reps_detected=len(reps),
        reps_included=len(included),
    )
