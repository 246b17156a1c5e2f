"""Ramp contractions for the virtual rig: isometric pulls with a known rate of force rise.

Why: RFD and windowed impulse (metrics.md) are checked against a truth, and a
linear ramp of known slope has one: over any window inside the rise,
RFD = slope and impulse is the area of a trapezoid.  Each contraction is one
leg's (or both legs', one contraction per leg): rest at the preload, a linear
rise at ``slope_n_per_s`` to ``plateau_n`` above the preload, a hold, a linear
fall.  :class:`RampModel` is a :class:`NordicModel` whose reps are these
contractions (noise, tremor, preload, drift and static loads as there), so a
:class:`VirtualRig` streams it unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from firmware_bridge.errors import InputError
from firmware_bridge.virtual_rig.model import Athlete, NordicModel, RepTruth, channel_index


@dataclass(frozen=True)
class RampContraction:
    """One leg: rise from ``onset_s`` at ``slope_n_per_s`` to ``plateau_n`` (above the preload),
    hold ``hold_s``, fall linearly over ``fall_s``."""

    leg: str
    onset_s: float
    slope_n_per_s: float
    plateau_n: float
    hold_s: float = 3.0
    fall_s: float = 0.5

    def __post_init__(self) -> None:
        channel_index(self.leg)
        for name in ("slope_n_per_s", "plateau_n", "hold_s", "fall_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"ramp {name} must be > 0, not {value!r}")
        if not (math.isfinite(self.onset_s) and self.onset_s >= 0):
            raise InputError(f"ramp onset must be >= 0 s, not {self.onset_s!r}")

    @property
    def rise_s(self) -> float:
        return self.plateau_n / self.slope_n_per_s

    @property
    def end_s(self) -> float:
        return self.onset_s + self.rise_s + self.hold_s + self.fall_s

    def force_at(self, t: np.ndarray) -> np.ndarray:
        """Force above the preload at times ``t`` (s), (n,) N."""
        t = np.asarray(t, dtype=np.float64)
        u = t - self.onset_s
        rise = np.clip(u * self.slope_n_per_s, 0.0, self.plateau_n)
        fall_start = self.rise_s + self.hold_s
        falling = np.clip((u - fall_start) / self.fall_s, 0.0, 1.0)
        return np.where((u >= 0) & (u < fall_start + self.fall_s), rise * (1.0 - falling), 0.0)

    def impulse(self, start_s: float, window_s: float) -> float:
        """Exact area under :meth:`force_at` from ``start_s`` for ``window_s`` inside the rise."""
        f0 = float(self.force_at(np.array([start_s]))[0])
        return f0 * window_s + 0.5 * self.slope_n_per_s * window_s**2


class RampModel(NordicModel):
    """A session of ramp contractions (see the module docstring) instead of Nordic reps."""

    def __init__(
        self,
        contractions: Sequence[RampContraction],
        *,
        seed: int = 0,
        rate_hz: float = 80.0,
        noise_n: float = 0.3,
        tremor_n: float = 2.0,
        preload_n: float | tuple[float, float] = 20.0,
    ) -> None:
        self.contractions = tuple(contractions)
        athlete = Athlete(reps=0, tremor_n=tremor_n, preload_n=preload_n)
        super().__init__(athlete, seed=seed, rate_hz=rate_hz, noise_n=noise_n)

    def active_at(self, t: np.ndarray) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        out = np.zeros((len(t), 2))
        for c in self.contractions:
            out[:, channel_index(c.leg)] += c.force_at(t)
        return out

    def _leg_max(self) -> np.ndarray:
        peaks = np.zeros(2)
        for c in self.contractions:
            leg = channel_index(c.leg)
            peaks[leg] = max(peaks[leg], c.plateau_n)
        return peaks

    def session_duration_s(self, tail_s: float = 5.0) -> float:
        return max([c.end_s for c in self.contractions], default=0.0) + tail_s

    def rep_windows(self) -> list[RepTruth]:
        """No Nordic reps: the truth is :attr:`contractions`."""
        return []
