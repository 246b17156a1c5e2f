"""A Nordic-curl force model: what the two ankle hooks feel, in newtons, as pure NumPy.

Why a model and not recorded curves: the station's accuracy claims (peak
force, imbalance, rep detection, tare) are tested against a ground truth, and
only a model knows the true force behind noisy counts.  The model is
deterministic given its seed and is evaluated at any sample indices in any
order, so a live rig streaming in small blocks and an offline capture give the
same numbers.

Session timeline (seconds from START, the device's sample clock)::

    quiet start | rep 1 | rest | rep 2 | rest | ... | rep N | quiet for ever
    (ankles resting in the hooks: preload only)

Rep ``r`` starts at ``quiet_start_s + r * (rise_s + fall_s + rest_s)``; its own
rise and fall times vary by ``timing_variation`` and the two legs start up to
``leg_lag_s`` apart.  A rep rises as the athlete lowers the trunk and the
hamstrings brake harder (``sin(pi/2 * u) ** 1.5``: smooth onset, nearly linear
middle, rounded top), peaks at the break point and falls as the athlete gives
way and catches themself (a half cosine over ``fall_s``).

Force on each hook, per leg:

    true force = preload + drift * t + static load + reps + distractors
    measured   = true force + tremor + white noise

- ``true_force`` is the noiseless force on the hook, **including** preload,
  drift and any static load: what a perfect load cell would read.
- ``baseline`` is preload + drift * t + static load: the force with no rep.
- A rep's ``peak_n`` is the rep's own force above the baseline at the same
  instant (the analytic peak of the rep).  With no drift this is exactly the
  peak a measurement tared on the quiet start sees; with drift ``d`` N/s, a
  tare taken around time ``t0`` sees ``peak_n + d * (peak_s - t0)``.
  ``sampled_peak_n`` is the same quantity maximised over the sample grid at
  the model's rate (a hair below ``peak_n`` at low rates).
- Tremor (physiological, 8-12 Hz) scales with the active force: ``tremor_n``
  is its amplitude at a leg's session peak; none at rest.
- Noise is white and Gaussian, ``noise_n`` standard deviation per sample, the
  same for a given sample index whatever the block sizes.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np

from firmware_bridge.errors import InputError
from firmware_bridge.virtual_rig.static import StaticLoads

CHANNELS = ("left", "right")
LEFT, RIGHT = 0, 1
NOISE_CHUNK = 4096  # noise is generated per chunk of sample indices, seeded by chunk number
_NOISE_CACHE = 4
_TREMOR_WANDER_HZ = 1.5  # the tremor frequency wanders +-1.5 Hz around tremor_hz
_TREMOR_WANDER_RATE_HZ = 0.2


def channel_index(channel: int | str) -> int:
    """0 for ``left``/``l``/0, 1 for ``right``/``r``/1; anything else is an InputError."""
    if isinstance(channel, str):
        name = channel.strip().lower()
        if name in ("left", "l", "0"):
            return LEFT
        if name in ("right", "r", "1"):
            return RIGHT
    elif not isinstance(channel, bool) and channel in (0, 1):
        return int(channel)
    raise InputError(f"unknown channel {channel!r}: use left or right")


def leg_pair(value: float | tuple[float, float] | list[float], name: str) -> tuple[float, float]:
    """One number for both legs, or a (left, right) pair; must be finite."""
    if isinstance(value, int | float):
        pair = (float(value), float(value))
    else:
        items = [float(v) for v in value]
        if len(items) != 2:
            raise InputError(f"{name} takes one value or a left,right pair, not {len(items)}")
        pair = (items[0], items[1])
    if not all(math.isfinite(v) for v in pair):
        raise InputError(f"{name} must be finite, not {value!r}")
    return pair


def _tukey(u: np.ndarray, taper: float) -> np.ndarray:
    """A pulse on u in [0, 1): raised-cosine edges over ``taper`` of it, flat between."""
    out = np.zeros_like(u)
    inside = (u >= 0) & (u < 1)
    edge = taper / 2
    x = u[inside]
    y = np.ones_like(x)
    if edge > 0:
        up = x < edge
        down = x > 1 - edge
        y[up] = 0.5 * (1 - np.cos(np.pi * x[up] / edge))
        y[down] = 0.5 * (1 - np.cos(np.pi * (1 - x[down]) / edge))
    out[inside] = y
    return out


def rep_shape(t: np.ndarray, onset: float, rise_s: float, fall_s: float) -> np.ndarray:
    """Normalised rep force (0 -> 1 -> 0) at times ``t``; exactly 1 at ``onset + rise_s``."""
    out = np.zeros_like(t, dtype=np.float64)
    u = (t - onset) / rise_s
    up = (u >= 0) & (u < 1)
    out[up] = np.sin(0.5 * np.pi * u[up]) ** 1.5
    v = (t - onset - rise_s) / fall_s
    down = (v >= 0) & (v < 1)
    out[down] = 0.5 * (1 + np.cos(np.pi * v[down]))
    return out


@dataclass(frozen=True)
class Distractor:
    """Force on the hooks that is not a repetition; the analysis must ignore it.

    ``legs`` says which hooks feel it.  Use :meth:`one_leg_pull` (one leg
    only, e.g. 150 N for 1.5 s) or :meth:`blip` (both legs, short: a
    repositioning bump under 0.5 s).
    """

    kind: str
    start_s: float
    force_n: float
    duration_s: float
    legs: tuple[bool, bool] = (True, True)
    taper: float = 1.0  # 1: a raised-cosine bump; smaller: flat-topped

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and self.start_s >= 0):
            raise InputError(f"{self.kind} start must be >= 0 s, not {self.start_s}")
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):
            raise InputError(f"{self.kind} duration must be > 0 s, not {self.duration_s}")
        if not (math.isfinite(self.force_n) and self.force_n >= 0):
            raise InputError(f"{self.kind} force must be >= 0 N, not {self.force_n}")

    @classmethod
    def one_leg_pull(
        cls,
        start_s: float,
        leg: int | str = "left",
        force_n: float = 150.0,
        duration_s: float = 1.5,
    ) -> Distractor:
        side = channel_index(leg)
        return cls("one_leg_pull", start_s, force_n, duration_s, (side == LEFT, side == RIGHT), 0.4)

    @classmethod
    def blip(cls, start_s: float, force_n: float = 50.0, duration_s: float = 0.3) -> Distractor:
        return cls("blip", start_s, force_n, duration_s, (True, True), 1.0)

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def force_at(self, t: np.ndarray) -> np.ndarray:
        """(n, 2) force in N."""
        pulse = self.force_n * _tukey((t - self.start_s) / self.duration_s, self.taper)
        return pulse[:, None] * np.array(self.legs, dtype=np.float64)[None, :]


@dataclass(frozen=True)
class Athlete:
    """One athlete doing one set of Nordic curls on the rig.

    ``left_peak_n`` / ``right_peak_n`` are each leg's strongest rep of the
    set, above the preload (the NordBord's "max"); the other reps are up to a
    few per cent weaker (``peak_variation``).  Peaks down to about 80 N (early
    rehabilitation) are fine.
    """

    left_peak_n: float = 320.0
    right_peak_n: float = 290.0
    reps: int = 3
    rest_s: float = 15.0
    rise_s: float = 2.8
    fall_s: float = 0.8
    quiet_start_s: float = 4.0
    preload_n: float | tuple[float, float] = 20.0
    tremor_n: float = 2.0
    tremor_hz: float = 10.0
    peak_variation: float = 0.05
    timing_variation: float = 0.08
    leg_lag_s: float = 0.05
    distractors: tuple[Distractor, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        checks = (
            ("left peak", self.left_peak_n, 0.0),
            ("right peak", self.right_peak_n, 0.0),
            ("rest", self.rest_s, 0.0),
            ("quiet start", self.quiet_start_s, 0.0),
            ("tremor", self.tremor_n, 0.0),
            ("peak variation", self.peak_variation, 0.0),
            ("timing variation", self.timing_variation, 0.0),
            ("leg lag", self.leg_lag_s, 0.0),
        )
        for name, value, low in checks:
            if not (math.isfinite(value) and value >= low):
                raise InputError(f"athlete {name} must be a number >= {low:g}, not {value!r}")
        for name, value in (("rise time", self.rise_s), ("fall time", self.fall_s)):
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"athlete {name} must be > 0 s, not {value!r}")
        if isinstance(self.reps, bool) or not isinstance(self.reps, int) or self.reps < 0:
            raise InputError(f"athlete reps must be a whole number >= 0, not {self.reps!r}")
        if not (math.isfinite(self.tremor_hz) and 2.0 <= self.tremor_hz <= 30.0):
            raise InputError(f"tremor frequency must be 2..30 Hz, not {self.tremor_hz!r}")
        if self.timing_variation > 0.25:
            raise InputError("timing variation above 0.25 would let reps run into each other")
        leg_pair(self.preload_n, "preload")
        object.__setattr__(self, "distractors", tuple(self.distractors))

    @classmethod
    def with_imbalance(
        cls, peak_n: float, imbalance_pct: float, stronger: str = "left", **kwargs: object
    ) -> Athlete:
        """An athlete whose weaker leg is ``imbalance_pct`` % below ``peak_n`` (metrics.md's
        imbalance: 100 * (stronger - weaker) / stronger)."""
        if not (math.isfinite(imbalance_pct) and 0 <= imbalance_pct < 100):
            raise InputError(f"imbalance must be 0..100 %, not {imbalance_pct!r}")
        weaker = peak_n * (1 - imbalance_pct / 100)
        side = channel_index(stronger)
        left, right = (peak_n, weaker) if side == LEFT else (weaker, peak_n)
        return cls(left_peak_n=left, right_peak_n=right, **kwargs)  # type: ignore[arg-type]

    @property
    def imbalance_pct(self) -> float:
        strong = max(self.left_peak_n, self.right_peak_n)
        return 0.0 if strong == 0 else 100 * abs(self.left_peak_n - self.right_peak_n) / strong

    @property
    def preload(self) -> tuple[float, float]:
        return leg_pair(self.preload_n, "preload")

    @property
    def slot_s(self) -> float:
        """Nominal time from one rep's onset to the next."""
        return self.rise_s + self.fall_s + self.rest_s

    def nominal_onset_s(self, rep: int) -> float:
        """Onset of rep ``rep`` (0-based) before the leg lag."""
        return self.quiet_start_s + rep * self.slot_s

    def rest_midpoint_s(self, rest: int) -> float:
        """Middle of the rest after rep ``rest`` (0-based), or of the quiet start for -1."""
        if rest < 0:
            return self.quiet_start_s / 2
        return self.nominal_onset_s(rest) + self.rise_s + self.fall_s + self.rest_s / 2

    def with_rest_distractors(
        self, one_leg_force_n: float = 150.0, blip_force_n: float = 50.0
    ) -> Athlete:
        """A copy with a left one-leg pull (1.5 s) and a both-leg blip (0.3 s) where the
        analysis must not see reps: the first two rests, or the one rest, or the quiet start."""
        if self.reps >= 3 and self.rest_s >= 5.0:
            pull_mid, blip_mid = self.rest_midpoint_s(0), self.rest_midpoint_s(1)
        elif self.reps == 2 and self.rest_s >= 6.0:
            mid = self.rest_midpoint_s(0)
            pull_mid, blip_mid = mid - 1.2, mid + 1.5
        elif self.reps <= 1 and self.quiet_start_s >= 6.0:
            mid = self.rest_midpoint_s(-1)
            pull_mid, blip_mid = mid - 1.2, mid + 1.5
        else:
            raise InputError(
                "distractors need rests of 5 s or more (6 s with two reps; with one rep, "
                "a quiet start of 6 s or more)"
            )
        added = (
            Distractor.one_leg_pull(pull_mid - 0.75, "left", one_leg_force_n, 1.5),
            Distractor.blip(blip_mid - 0.15, blip_force_n, 0.3),
        )
        return replace(self, distractors=self.distractors + added)


@dataclass(frozen=True)
class RepTruth:
    """The ground truth of one rep, for checking an analysis (see the module doc).

    Times are seconds from START; ``peak_n`` / ``sampled_peak_n`` are per leg
    (left, right), in N above the baseline.
    """

    number: int  # 1-based
    start_s: float  # onset of the earlier leg
    end_s: float  # both legs back at baseline
    onset_s: tuple[float, float]
    peak_s: tuple[float, float]
    peak_n: tuple[float, float]
    sampled_peak_n: tuple[float, float]
    rate_hz: float

    @property
    def left_peak_n(self) -> float:
        return self.peak_n[LEFT]

    @property
    def right_peak_n(self) -> float:
        return self.peak_n[RIGHT]

    @property
    def imbalance_pct(self) -> float:
        strong = max(self.peak_n)
        return 0.0 if strong == 0 else 100 * abs(self.peak_n[0] - self.peak_n[1]) / strong

    @property
    def stronger(self) -> str:
        return "left" if self.peak_n[LEFT] >= self.peak_n[RIGHT] else "right"

    @property
    def start_index(self) -> int:
        """First sample at or after the onset, at ``rate_hz``."""
        return math.ceil(self.start_s * self.rate_hz - 1e-9)

    @property
    def end_index(self) -> int:
        """One past the last sample before the end."""
        return math.ceil(self.end_s * self.rate_hz - 1e-9)


class NordicModel:
    """Force on both hooks over a session: an athlete (or none) on a load cell pair.

    ``athlete=None`` is the calibration bench: only static loads (see
    :meth:`set_static_load`), drift and noise.  ``rate_hz`` maps sample
    indices to seconds; the rig updates it when the rate changes.
    """

    def __init__(
        self,
        athlete: Athlete | None = None,
        *,
        seed: int = 0,
        rate_hz: float = 80.0,
        noise_n: float = 0.3,
        drift_n_per_s: float | tuple[float, float] = 0.0,
        static: StaticLoads | None = None,
    ) -> None:
        if not (math.isfinite(noise_n) and noise_n >= 0):
            raise InputError(f"noise must be >= 0 N, not {noise_n!r}")
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise InputError(f"sample rate must be > 0 Hz, not {rate_hz!r}")
        self.athlete = athlete
        self.seed = int(seed)
        self.rate_hz = float(rate_hz)
        self.noise_n = float(noise_n)
        self.drift = np.array(leg_pair(drift_n_per_s, "drift"), dtype=np.float64)
        self.static = static if static is not None else StaticLoads()
        self.preload = np.array(athlete.preload if athlete else (0.0, 0.0), dtype=np.float64)
        self._noise_cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._plan(np.random.default_rng([self.seed, 1]))
        self._check_distractors()

    # -- the plan drawn from the seed ----------------------------------------
    def _plan(self, rng: np.random.Generator) -> None:
        athlete = self.athlete
        n = athlete.reps if athlete else 0
        self._onset = np.zeros((n, 2))
        self._rise = np.ones(n)
        self._fall = np.ones(n)
        self._peak = np.zeros((n, 2))
        self._tremor_phase = rng.uniform(0, 2 * np.pi, 4)
        if not athlete or n == 0:
            return
        var = athlete.timing_variation
        self._rise = athlete.rise_s * np.clip(1 + var * rng.standard_normal(n), 0.75, 1.25)
        self._fall = athlete.fall_s * np.clip(1 + var * rng.standard_normal(n), 0.75, 1.25)
        lag = rng.uniform(-athlete.leg_lag_s, athlete.leg_lag_s, n)
        nominal = np.array([athlete.nominal_onset_s(r) for r in range(n)])
        base = nominal + np.abs(lag) / 2  # neither leg starts before the nominal onset
        self._onset = np.stack([base - lag / 2, base + lag / 2], axis=1)
        common = 1 + athlete.peak_variation * rng.standard_normal(n)
        per_leg = 1 + 0.4 * athlete.peak_variation * rng.standard_normal((n, 2))
        factor = np.clip(common[:, None] * per_leg, 0.5, None)
        factor /= factor.max(axis=0, keepdims=True)  # each leg's strongest rep is its peak
        self._peak = factor * np.array([athlete.left_peak_n, athlete.right_peak_n])
        ends = self._onset.max(axis=1) + self._rise + self._fall
        if n > 1 and np.any(ends[:-1] >= self._onset[1:].min(axis=1)):
            raise InputError("reps overlap: lengthen the rest or shorten rise and fall")

    def _check_distractors(self) -> None:
        if not self.athlete:
            return
        for d in self.athlete.distractors:
            for rep in self.rep_windows():
                if d.start_s < rep.end_s and rep.start_s < d.end_s:
                    raise InputError(
                        f"{d.kind} at {d.start_s:g} s overlaps rep {rep.number}: "
                        "put distractors in the rests"
                    )

    # -- time ------------------------------------------------------------------
    def times(self, index: np.ndarray | int) -> np.ndarray:
        """Seconds from START of sample indices."""
        return np.atleast_1d(np.asarray(index, dtype=np.float64)) / self.rate_hz

    def session_duration_s(self, tail_s: float = 5.0) -> float:
        """A natural length for a capture: the last rep (or distractor, or load
        change) plus ``tail_s`` of quiet."""
        end = self.athlete.quiet_start_s if self.athlete else 0.0
        if len(self._onset):
            end = max(end, float((self._onset.max(axis=1) + self._rise + self._fall)[-1]))
        if self.athlete:
            for d in self.athlete.distractors:
                end = max(end, d.end_s)
        end = max(end, self.static.last_change_s())
        return end + tail_s

    # -- components ------------------------------------------------------------
    def baseline_at(self, t: np.ndarray) -> np.ndarray:
        """Preload + drift + static load: the force with no rep, (n, 2) N."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        return self.preload[None, :] + self.drift[None, :] * t[:, None] + self.static.force_at(t)

    def active_at(self, t: np.ndarray) -> np.ndarray:
        """The athlete's own pulling (reps and distractors) above the baseline, (n, 2) N."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        out = np.zeros((len(t), 2))
        if not self.athlete:
            return out
        for r in range(len(self._rise)):
            for leg in (LEFT, RIGHT):
                onset = self._onset[r, leg]
                window = (t >= onset) & (t < onset + self._rise[r] + self._fall[r])
                if window.any():
                    out[window, leg] += self._peak[r, leg] * rep_shape(
                        t[window], onset, self._rise[r], self._fall[r]
                    )
        for d in self.athlete.distractors:
            window = (t >= d.start_s) & (t < d.end_s)
            if window.any():
                out[window] += d.force_at(t[window])
        return out

    def force_at(self, t: np.ndarray) -> np.ndarray:
        """True (noiseless, tremor-free) force at times ``t`` (s from START), (n, 2) N."""
        return self.baseline_at(t) + self.active_at(t)

    def tremor_at(self, t: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
        """Physiological tremor, 8-12 Hz, scaled by the active force, (n, 2) N."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if not self.athlete or self.athlete.tremor_n == 0:
            return np.zeros((len(t), 2))
        if active is None:
            active = self.active_at(t)
        strongest = np.maximum(self._leg_max(), 1.0)
        envelope = np.clip(active / strongest[None, :], 0.0, 1.5)
        fm = _TREMOR_WANDER_RATE_HZ
        out = np.empty((len(t), 2))
        for leg in (LEFT, RIGHT):
            p0, pm = self._tremor_phase[2 * leg], self._tremor_phase[2 * leg + 1]
            # instantaneous frequency f0 + df * sin(2 pi fm t + pm), integrated to a phase
            phase = (
                2 * np.pi * self.athlete.tremor_hz * t
                - (_TREMOR_WANDER_HZ / fm) * np.cos(2 * np.pi * fm * t + pm)
                + p0
            )
            out[:, leg] = np.sin(phase)
        return self.athlete.tremor_n * envelope * out

    def _leg_max(self) -> np.ndarray:
        if not self.athlete:
            return np.zeros(2)
        return np.array([self.athlete.left_peak_n, self.athlete.right_peak_n])

    def noise(self, index: np.ndarray | int) -> np.ndarray:
        """White noise of sample indices, (n, 2) N; a function of (seed, index) only."""
        index = np.atleast_1d(np.asarray(index, dtype=np.int64))
        out = np.zeros((len(index), 2))
        if self.noise_n == 0 or len(index) == 0:
            return out
        chunks = index // NOISE_CHUNK
        for chunk in np.unique(chunks).tolist():
            sel = chunks == chunk
            out[sel] = self._noise_chunk(chunk)[index[sel] - chunk * NOISE_CHUNK]
        return out * self.noise_n

    def _noise_chunk(self, chunk: int) -> np.ndarray:
        cached = self._noise_cache.get(chunk)
        if cached is None:
            rng = np.random.default_rng([self.seed, 2, chunk])
            cached = rng.standard_normal((NOISE_CHUNK, 2))
            self._noise_cache[chunk] = cached
            if len(self._noise_cache) > _NOISE_CACHE:
                self._noise_cache.popitem(last=False)
        else:
            self._noise_cache.move_to_end(chunk)
        return cached

    # -- by sample index ---------------------------------------------------------
    def true_force(self, index: np.ndarray | int) -> np.ndarray:
        """Noiseless force of sample indices (preload, drift and static load included), (n, 2) N."""
        return self.force_at(self.times(index))

    def baseline(self, index: np.ndarray | int) -> np.ndarray:
        """Force with no rep (preload + drift + static) of sample indices, (n, 2) N."""
        return self.baseline_at(self.times(index))

    def measured_force(self, index: np.ndarray | int) -> np.ndarray:
        """What the load cells feel: true force + tremor + noise, (n, 2) N."""
        index = np.atleast_1d(np.asarray(index, dtype=np.int64))
        t = self.times(index)
        active = self.active_at(t)
        return self.baseline_at(t) + active + self.tremor_at(t, active) + self.noise(index)

    # -- ground truth of the reps ------------------------------------------------
    def rep_windows(self) -> list[RepTruth]:
        """Every rep's window and per-leg peaks above the baseline (see the module doc)."""
        out = []
        for r in range(len(self._rise)):
            onset = (float(self._onset[r, LEFT]), float(self._onset[r, RIGHT]))
            peak_s = (onset[0] + self._rise[r], onset[1] + self._rise[r])
            end = max(onset) + self._rise[r] + self._fall[r]
            sampled = []
            for leg in (LEFT, RIGHT):
                first = math.ceil(onset[leg] * self.rate_hz - 1e-9)
                last = math.floor((onset[leg] + self._rise[r] + self._fall[r]) * self.rate_hz)
                grid = np.arange(first, last + 1) / self.rate_hz
                shape = rep_shape(grid, onset[leg], self._rise[r], self._fall[r])
                sampled.append(float(self._peak[r, leg] * shape.max()) if len(grid) else 0.0)
            out.append(
                RepTruth(
                    number=r + 1,
                    start_s=min(onset),
                    end_s=float(end),
                    onset_s=onset,
                    peak_s=(float(peak_s[0]), float(peak_s[1])),
                    peak_n=(float(self._peak[r, LEFT]), float(self._peak[r, RIGHT])),
                    sampled_peak_n=(sampled[0], sampled[1]),
                    rate_hz=self.rate_hz,
                )
            )
        return out
