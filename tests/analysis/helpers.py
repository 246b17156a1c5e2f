"""Signals for analysis tests: simple synthetic reps (known exactly) and virtual-rig sessions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from calibration.certificate import Certificate, parse_certificate
from firmware_bridge.decoder import DecodedStream, decode_bytes
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station.analysis import AnalysisResult, analyze, analyze_arrays

GAINS = (0.0005, 0.0004)  # N per count, deliberately different per leg
OFFSETS = (100_000, -50_000)  # counts at zero force


def pulse(t: np.ndarray, onset: float, rise: float, fall: float, peak: float) -> np.ndarray:
    """A smooth rep: raised-cosine rise to ``peak`` over ``rise`` s, fall over ``fall`` s."""
    out = np.zeros_like(t)
    up = (t >= onset) & (t < onset + rise)
    out[up] = peak * 0.5 * (1 - np.cos(np.pi * (t[up] - onset) / rise))
    down = (t >= onset + rise) & (t < onset + rise + fall)
    out[down] = peak * 0.5 * (1 + np.cos(np.pi * (t[down] - onset - rise) / fall))
    return out


@dataclass
class Session:
    """A synthetic session: forces (n, 2) in N on sample indices 0..n-1."""

    rate: float = 100.0
    duration: float = 40.0
    preload: tuple[float, float] = (15.0, 12.0)
    noise: float = 0.3
    seed: int = 0
    reps: list[tuple[float, float, float]] = field(default_factory=list)  # onset, left, right
    rise: float = 2.5
    fall: float = 0.8
    extra: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    # extra pulses: onset, left peak, right peak, rise, fall (one-leg pulls, blips)

    @property
    def index(self) -> np.ndarray:
        return np.arange(int(round(self.duration * self.rate)), dtype=np.int64)

    def true_force(self) -> np.ndarray:
        """Noiseless force above the preload (what a perfect tared analysis sees)."""
        t = self.index / self.rate
        f = np.zeros((len(t), 2))
        for onset, left, right in self.reps:
            f[:, 0] += pulse(t, onset, self.rise, self.fall, left)
            f[:, 1] += pulse(t, onset, self.rise, self.fall, right)
        for onset, left, right, rise, fall in self.extra:
            f[:, 0] += pulse(t, onset, rise, fall, left)
            f[:, 1] += pulse(t, onset, rise, fall, right)
        return f

    def measured(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        f = self.true_force() + np.asarray(self.preload)[None, :]
        return f + self.noise * rng.standard_normal(f.shape)

    def counts(self, gains=GAINS, offsets=OFFSETS) -> np.ndarray:
        return to_counts(self.measured(), gains, offsets)


def to_counts(force: np.ndarray, gains=GAINS, offsets=OFFSETS) -> np.ndarray:
    return (np.asarray(offsets)[None, :] + np.rint(force / np.asarray(gains)[None, :])).astype(
        np.int32
    )


def run(
    session: Session,
    keep: np.ndarray | None = None,
    gains=GAINS,
    offsets=OFFSETS,
    zeros=None,
    **kwargs,
) -> AnalysisResult:
    """Analyse a synthetic session (``keep``: a mask of samples that arrived)."""
    index, counts = session.index, session.counts(gains, offsets)
    if keep is not None:
        index, counts = index[keep], counts[keep]
    return analyze_arrays(index, counts, None, session.rate, 24, gains, zeros, **kwargs)


@dataclass
class RigRun:
    """A virtual-rig session captured as raw bytes, decoded, analysed."""

    rig: VirtualRig
    data: bytes
    stream: DecodedStream
    certificate: Certificate
    result: AnalysisResult


def rig_session(
    rate: float = 80.0,
    athlete: Athlete | None = None,
    seed: int = 1,
    faults: tuple[str, ...] = (),
    noise_n: float = 0.3,
    drift: float = 0.0,
    duration: float | None = None,
    **analyze_kwargs,
) -> RigRun:
    """The full offline path: rig bytes -> decoder -> analysis, with the rig's true certificate."""
    athlete = athlete if athlete is not None else Athlete().with_rest_distractors()
    model = NordicModel(athlete, seed=seed, rate_hz=rate, noise_n=noise_n, drift_n_per_s=drift)
    rig = VirtualRig(model, rate_hz=rate, seed=seed, faults=faults)
    data = rig.capture_bytes(duration or model.session_duration_s())
    stream = decode_bytes(data)
    certificate = parse_certificate(rig.calibration_certificate(), "virtual rig")
    return RigRun(rig, data, stream, certificate, analyze(stream, certificate, **analyze_kwargs))
