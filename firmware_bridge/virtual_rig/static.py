"""Known masses hanging on the hooks, for testing calibration.

Why more than ``mass * g``: the calibration procedure must wait for a stable
reading, so the virtual bench behaves like a real one when a mass is hung or
removed.  Each load step of ``delta`` newtons on a channel, at time ``t0``,
contributes ``delta * response(t - t0)``:

    response(tau) = (1 - creep) * ramp(tau)            the mass is lowered on over ramp_s
                  + creep * (1 - exp(-tau / creep_tau))  load-cell creep: slow settling
                  + swing * exp(-tau / swing_tau) * sin(2 pi swing_hz tau) * ramp(tau)
                                                         the hanging mass swinging, damped

so the reading settles to exactly ``mass * 9.80665`` N.  Steps superpose, so a
mass removed too early (a second step before the first has settled) is just
two changes.

Times are seconds on the session clock (from START).  A change with an
explicit time is *scripted*: it happens at that point of every session.  A
*live* change (``live=True``, what an operator does at the bench) holds until
the next START, which folds it into the settled starting load, because the
mass is still hanging when the next test starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from firmware_bridge.errors import InputError

STANDARD_GRAVITY = 9.80665  # m/s^2, as calibration.md (force = mass * 9.80665)


@dataclass(frozen=True)
class LoadChange:
    at_s: float
    channel: int
    force_n: float
    live: bool = False


class StaticLoads:
    """Piecewise-constant loads per channel with realistic transitions (see the module doc)."""

    def __init__(
        self,
        ramp_s: float = 0.4,
        creep_fraction: float = 0.004,
        creep_tau_s: float = 2.5,
        swing_fraction: float = 0.01,
        swing_hz: float = 1.5,
        swing_tau_s: float = 0.7,
    ) -> None:
        for name, value in (
            ("ramp", ramp_s),
            ("creep fraction", creep_fraction),
            ("swing fraction", swing_fraction),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise InputError(f"static load {name} must be >= 0, not {value!r}")
        for name, value in (("creep time", creep_tau_s), ("swing time", swing_tau_s)):
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"static load {name} must be > 0 s, not {value!r}")
        if creep_fraction > 0.5:
            raise InputError("static load creep fraction must be at most 0.5")
        self.ramp_s = float(ramp_s)
        self.creep_fraction = float(creep_fraction)
        self.creep_tau_s = float(creep_tau_s)
        self.swing_fraction = float(swing_fraction)
        self.swing_hz = float(swing_hz)
        self.swing_tau_s = float(swing_tau_s)
        self.initial = np.zeros(2)
        self.changes: list[LoadChange] = []

    @staticmethod
    def mass_to_force(mass_kg: float) -> float:
        if not (math.isfinite(mass_kg) and mass_kg >= 0):
            raise InputError(f"a mass must be >= 0 kg, not {mass_kg!r}")
        return float(mass_kg) * STANDARD_GRAVITY

    def set_force(
        self, channel: int, force_n: float, at_s: float | None = None, live: bool = False
    ) -> None:
        """Load ``channel`` with ``force_n``: settled from the start (``at_s=None``) or
        stepping at ``at_s`` seconds of the session."""
        if channel not in (0, 1):
            raise InputError(f"unknown channel {channel!r}: use 0 (left) or 1 (right)")
        if not math.isfinite(force_n):
            raise InputError(f"a static load must be finite, not {force_n!r}")
        if at_s is None:
            self.initial[channel] = float(force_n)
            self.changes = [c for c in self.changes if c.channel != channel or not c.live]
            return
        if not (math.isfinite(at_s) and at_s >= 0):
            raise InputError(f"a load change must be at a time >= 0 s, not {at_s!r}")
        self.changes.append(LoadChange(float(at_s), channel, float(force_n), live))
        self.changes.sort(key=lambda c: c.at_s)

    def set_mass(
        self, channel: int, mass_kg: float, at_s: float | None = None, live: bool = False
    ) -> None:
        self.set_force(channel, self.mass_to_force(mass_kg), at_s, live)

    def settle_live(self) -> None:
        """At START: the live loads of the last session are now simply hanging (settled)."""
        for change in self.changes:
            if change.live:
                self.initial[change.channel] = change.force_n
        self.changes = [c for c in self.changes if not c.live]

    def target(self) -> np.ndarray:
        """The load each channel settles to after every change, (2,) N."""
        out = self.initial.copy()
        for change in self.changes:
            out[change.channel] = change.force_n
        return out

    def last_change_s(self) -> float:
        return max((c.at_s for c in self.changes), default=0.0)

    def response(self, tau: np.ndarray) -> np.ndarray:
        """Share of a load step seen ``tau`` seconds after it (0 before, -> 1 after)."""
        tau = np.asarray(tau, dtype=np.float64)
        out = np.zeros_like(tau)
        after = tau >= 0
        x = tau[after]
        if self.ramp_s > 0:
            ramp = np.where(x < self.ramp_s, 0.5 * (1 - np.cos(np.pi * x / self.ramp_s)), 1.0)
        else:
            ramp = np.ones_like(x)
        creep = self.creep_fraction
        value = (1 - creep) * ramp + creep * (1 - np.exp(-x / self.creep_tau_s))
        if self.swing_fraction:
            value += (
                self.swing_fraction
                * np.exp(-x / self.swing_tau_s)
                * np.sin(2 * np.pi * self.swing_hz * x)
                * ramp
            )
        out[after] = value
        return out

    def force_at(self, t: np.ndarray) -> np.ndarray:
        """(n, 2) static force in N at session times ``t``."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        out = np.empty((len(t), 2))
        out[:] = self.initial[None, :]
        previous = self.initial.copy()
        for change in self.changes:
            delta = change.force_n - previous[change.channel]
            previous[change.channel] = change.force_n
            if delta:
                out[:, change.channel] += delta * self.response(t - change.at_s)
        return out
