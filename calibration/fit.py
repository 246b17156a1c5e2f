"""The least-squares line through known masses and the figures that say how good it is.

``force = gain × (counts − offset)`` with ``force = mass × 9.80665``, fitted by
ordinary least squares of force on counts, so the residuals it minimises are
the ones reported: newtons at each point.  All relative figures are in % of
the largest applied force (``max_force_n``):

- residual at a point: fitted force − applied force (positive: the station
  would read high); ``residual_max_n`` is the largest in size.
- non-linearity: the largest deviation of any point from the fitted line,
  ``residual_max_n / max_force_n × 100``.  Every point counts, ascending and
  descending, so it is the combined error a load-cell data sheet calls
  "combined error"; it bounds what a reading can be off by within the range.
- hysteresis: the largest difference between the ascending and the
  descending reading at one load within one run, in newtons via the gain.
- repeatability (only with a repeat run): the largest difference between runs
  at one load and direction (max − min over the runs), in newtons via the gain.

Before fitting, the points are checked (at least three distinct masses per
channel, no negative or duplicate masses, counts that rise with every added
mass); a failure is a :class:`CalibrationError` with one line saying what to fix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calibration.certificate import STANDARD_GRAVITY
from calibration.errors import CalibrationError
from calibration.points import DOWN, UP, CalPoint, by_channel

MIN_DISTINCT_MASSES = 3
# The count change across the calibrated range must dwarf the noise of a reading;
# below this many times the largest spread the cell is broken or not connected.
MIN_SPAN_TO_SPREAD = 20.0
_MASS_DECIMALS = 6  # masses equal to a microgram are the same load


def _mass_key(mass_kg: float) -> float:
    return round(mass_kg, _MASS_DECIMALS)


@dataclass(frozen=True)
class ChannelFit:
    """The fitted line of one channel and its figures (``None``: not measured)."""

    channel: str
    gain_n_per_count: float
    offset_counts: float
    points: tuple[CalPoint, ...]
    forces_n: tuple[float, ...]
    residuals_n: tuple[float, ...]
    max_force_n: float
    residual_max_n: float
    nonlinearity_pct: float
    hysteresis_pct: float | None
    repeatability_pct: float | None

    def force_n(self, counts: float | np.ndarray) -> float | np.ndarray:
        return self.gain_n_per_count * (np.asarray(counts, dtype=float) - self.offset_counts)

    def figures(self) -> dict[str, float | None]:
        """The figures acceptance limits apply to, by certificate key."""
        return {
            "nonlinearity_pct": self.nonlinearity_pct,
            "hysteresis_pct": self.hysteresis_pct,
            "repeatability_pct": self.repeatability_pct,
            "residual_max_n": self.residual_max_n,
        }

    def to_dict(self) -> dict[str, Any]:
        """The certificate's channel object (calibration.md), points with their residuals.

        A figure that was not measured (hysteresis, repeatability) is left out.
        """
        points = []
        for point, force, residual in zip(
            self.points, self.forces_n, self.residuals_n, strict=True
        ):
            item = point.to_dict()
            item["force_n"] = force
            item["residual_n"] = residual
            points.append(item)
        out = {
            "gain_n_per_count": self.gain_n_per_count,
            "offset_counts": self.offset_counts,
            "points": points,
            "max_force_n": self.max_force_n,
            "nonlinearity_pct": self.nonlinearity_pct,
            "hysteresis_pct": self.hysteresis_pct,
            "repeatability_pct": self.repeatability_pct,
            "residual_max_n": self.residual_max_n,
        }
        return {key: value for key, value in out.items() if value is not None}


def validate_points(points: Sequence[CalPoint], channel: str) -> None:
    """Raise CalibrationError (one line, what to fix) when the points cannot be fitted."""
    where = f"channel {channel}"
    for p in points:
        if p.channel != channel:
            raise CalibrationError(f"{where}: a point of channel {p.channel} is mixed in")
        if not np.isfinite(p.mass_kg) or not np.isfinite(p.counts):
            raise CalibrationError(f"{where}: masses and counts must be finite numbers")
        if p.mass_kg < 0:
            raise CalibrationError(
                f"{where}: mass {p.mass_kg:g} kg is negative; masses are >= 0 kg"
            )
        if p.direction not in (UP, DOWN):
            raise CalibrationError(f"{where}: direction {p.direction!r} is not 'up' or 'down'")
    seen: dict[tuple[float, str, int], CalPoint] = {}
    for p in points:
        key = (_mass_key(p.mass_kg), p.direction, p.run)
        if key in seen:
            raise CalibrationError(
                f"{where}: duplicate mass {p.mass_kg:g} kg ({p.direction}, run {p.run}); "
                "give each series a direction (up/down) and run number, or drop the duplicate"
            )
        seen[key] = p
    distinct = sorted({_mass_key(p.mass_kg) for p in points})
    if len(distinct) < MIN_DISTINCT_MASSES:
        raise CalibrationError(
            f"{where}: too few points ({len(distinct)} distinct mass"
            f"{'es' if len(distinct) != 1 else ''}); calibrate with at least "
            f"{MIN_DISTINCT_MASSES} different masses, for example 0, 10 and 20 kg"
        )
    series: dict[tuple[str, int], list[CalPoint]] = defaultdict(list)
    for p in points:
        series[(p.direction, p.run)].append(p)
    for (direction, run), items in sorted(series.items()):
        items.sort(key=lambda p: p.mass_kg)
        for lighter, heavier in zip(items, items[1:], strict=False):
            if heavier.counts <= lighter.counts:
                raise CalibrationError(
                    f"{where}: counts do not rise with load ({lighter.mass_kg:g} kg gave "
                    f"{lighter.counts:.1f}, {heavier.mass_kg:g} kg gave {heavier.counts:.1f}, "
                    f"{direction} run {run}); check the cell's wiring (reversed or broken) "
                    "and that the masses hung on this channel's hook"
                )
    spreads = [p.spread_counts for p in points if p.spread_counts is not None]
    span = max(p.counts for p in points) - min(p.counts for p in points)
    if spreads and max(spreads) > 0 and span < MIN_SPAN_TO_SPREAD * max(spreads):
        raise CalibrationError(
            f"{where}: the reading barely changes with load ({span:.1f} counts across the range, "
            f"noise up to {max(spreads):.1f}); the cell looks broken or disconnected"
        )


def fit_channel(points: Sequence[CalPoint], channel: str | None = None) -> ChannelFit:
    """Fit one channel's points and compute its figures (see the module docstring)."""
    points = tuple(points)
    if not points:
        raise CalibrationError(f"channel {channel or '?'}: no calibration points")
    channel = channel or points[0].channel
    validate_points(points, channel)
    counts = np.array([p.counts for p in points], dtype=float)
    forces = np.array([p.mass_kg for p in points], dtype=float) * STANDARD_GRAVITY
    centre = float(counts.mean())  # centred for numerical conditioning at ~1e6 counts
    design = np.column_stack([counts - centre, np.ones_like(counts)])
    (gain, force_at_centre), *_ = np.linalg.lstsq(design, forces, rcond=None)
    gain = float(gain)
    if not gain > 0:
        raise CalibrationError(
            f"channel {channel}: counts do not rise with load (fitted gain {gain:.3g} N/count); "
            "check the cell's wiring"
        )
    offset = centre - float(force_at_centre) / gain
    residuals = gain * (counts - offset) - forces
    max_force = float(forces.max())
    residual_max = float(np.abs(residuals).max())
    return ChannelFit(
        channel=channel,
        gain_n_per_count=gain,
        offset_counts=offset,
        points=points,
        forces_n=tuple(float(f) for f in forces),
        residuals_n=tuple(float(r) for r in residuals),
        max_force_n=max_force,
        residual_max_n=residual_max,
        nonlinearity_pct=100.0 * residual_max / max_force,
        hysteresis_pct=_hysteresis_pct(points, gain, max_force),
        repeatability_pct=_repeatability_pct(points, gain, max_force),
    )


def _hysteresis_pct(points: Sequence[CalPoint], gain: float, max_force: float) -> float | None:
    """Largest |up − down| at one load within one run; None without a descending series."""
    by_load: dict[tuple[float, int], dict[str, float]] = defaultdict(dict)
    for p in points:
        by_load[(_mass_key(p.mass_kg), p.run)][p.direction] = p.counts
    gaps = [abs(d[UP] - d[DOWN]) for d in by_load.values() if UP in d and DOWN in d]
    if not gaps:
        return None
    return 100.0 * gain * max(gaps) / max_force


def _repeatability_pct(points: Sequence[CalPoint], gain: float, max_force: float) -> float | None:
    """Largest spread between runs at one load and direction; None with a single run."""
    by_load: dict[tuple[float, str], list[float]] = defaultdict(list)
    for p in points:
        by_load[(_mass_key(p.mass_kg), p.direction)].append(p.counts)
    ranges = [max(c) - min(c) for c in by_load.values() if len(c) > 1]
    if not ranges:
        return None
    return 100.0 * gain * max(ranges) / max_force


def fit_points(
    points: Sequence[CalPoint], channels: Sequence[str] | None = None
) -> dict[str, ChannelFit]:
    """Fit every channel that has points (or exactly ``channels``; a missing one is an error)."""
    grouped = by_channel(points)
    wanted = list(channels) if channels is not None else list(grouped)
    if not wanted:
        raise CalibrationError("no calibration points")
    for name in wanted:
        if name not in grouped:
            raise CalibrationError(f"channel {name}: no calibration points")
    return {name: fit_channel(grouped[name], name) for name in wanted}
