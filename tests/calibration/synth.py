"""Synthetic load-cell signals for settle and procedure tests (device time, raw counts)."""

from __future__ import annotations

import numpy as np

G = 9.80665
RATE_HZ = 80.0
OFFSETS = (81234.0, -40211.0)
COUNTS_PER_N = (2096.0, 1992.0)


def segment(
    t0: float,
    duration: float,
    level: float,
    *,
    noise: float = 40.0,
    slope: float = 0.0,
    rate: float = RATE_HZ,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``duration`` s of samples from ``t0`` at ``level`` with white noise and a linear creep."""
    n = int(round(duration * rate))
    t = t0 + np.arange(n) / rate
    rng = np.random.default_rng(seed)
    return t, level + slope * (t - t0) + rng.normal(0.0, noise, n)


def join(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


class SynthRig:
    """Both channels of a rig with masses that the test hangs and removes.

    After a change the reading settles exponentially (``settle_tau_s``) from the
    old level, as a mass coming to rest on a hook does.
    """

    def __init__(
        self,
        *,
        noise: float = 40.0,
        settle_tau_s: float = 0.15,
        seed: int = 1,
        nonlinearity: float = 0.0,
    ) -> None:
        self.noise = noise
        self.tau = settle_tau_s
        self.nonlinearity = nonlinearity
        self.rng = np.random.default_rng(seed)
        self.t = 0.0
        self.mass = [0.0, 0.0]
        self._level = [self.target(0), self.target(1)]
        self.extra_noise = [0.0, 0.0]

    def target(self, ch: int) -> float:
        force = self.mass[ch] * G
        return OFFSETS[ch] + COUNTS_PER_N[ch] * force * (1 + self.nonlinearity * force / 400.0)

    def set_mass(self, channel: str, kg: float) -> None:
        self.mass[("left", "right").index(channel)] = kg

    def read(self, duration: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
        n = int(round(duration * RATE_HZ))
        t = self.t + np.arange(1, n + 1) / RATE_HZ
        out = np.empty((n, 2))
        decay = np.exp(-(np.arange(1, n + 1) / RATE_HZ) / self.tau)
        for ch in range(2):
            goal = self.target(ch)
            path = goal + (self._level[ch] - goal) * decay
            out[:, ch] = path + self.rng.normal(0, self.noise + self.extra_noise[ch], n)
            self._level[ch] = float(path[-1])
        self.t = float(t[-1])
        return t, np.round(out)
