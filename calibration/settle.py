"""Settle detection: is the reading of a hanging mass steady enough to record?

A reading is **settled** when, over the last ``window_s`` (about one second):

- its spread (standard deviation of the raw counts) is below the spread limit, and
- it has not crept: the least-squares slope over the window is below the slope limit.

Limits are counts with a relative part, whichever is larger::

    spread_limit = max(max_spread_counts, max_spread_rel × load)
    slope_limit  = max(max_slope_counts_per_s, max_slope_rel_per_s × load,
                       slope_noise_factor × standard error of the slope)

where ``load`` is the reading's distance from the channel's zero (0 until the
zero is known).  The last term says that a slope the rig's own noise could
produce is not creep: on a quiet rig creep is caught down to the floor, on a
noisy one only as far as one second of readings can show it.

Why these defaults (for a 24-bit ADC; :meth:`SettleConfig.for_adc_bits`
scales the count floors for other resolutions):

- spread 800 counts is 1e-4 of the ADC's half range.  Rigs map their load
  range onto a good part of the ADC, so this is about 0.4 N on a rig of
  0.0005 N/count (the certificate example, and the virtual rig).  It passes a
  rig whose electronic noise is up to ~0.3 N rms and fails a swinging mass
  until its swing has died down to a similar size; whatever is left averages
  out over the one-second window (a 1.5 Hz swing of amplitude A biases the
  mean by at most about A / 10).
- slope 50 counts/s (about 0.025 N/s there), or 3 standard errors: the slope
  of pure noise over one second of 80 samples has a standard error of
  0.39 × the noise, so a 0.3 N-noise rig is called creeping above ~730 counts/s
  and a 40-count-noise rig above 50 counts/s.
- 0.05 % of the load (and 0.05 % of the load per second) lets heavy masses
  move as much in proportion.

What else the detector recognises, so the operator can be told which it was:

- **too noisy**: the spread about the trend is over the limit (a swinging mass,
  someone touching the rig).
- **creeping**: the trend is over the limit (the hook or chain still settling).
- **unexpected jump**: after a steady stretch the reading moved by more than
  ``jump_factor`` × the spread limit for at least ``confirm_s`` (a single spike
  does not count); the window starts again after the jump.
- **load removed too early**: with the previous step's level known, the reading
  left it and then came back within ``removed_fraction`` of the way to it, for
  ``removed_confirm_s`` (so one bounce of a freshly hung mass does not count).
- **minimum dwell** (``min_dwell_s``, default 0): a steady reading is not
  taken before the load has hung this long.  Load-cell creep that is slower
  than the noise can show within one second (the virtual rig's default: 0.4 %
  of a step, time constant 2.5 s) stays in a reading taken as soon as it is
  steady, and shows up as hysteresis (about 0.1-0.2 % there); a dwell of a few
  seconds removes most of it, as force-calibration standards wait before
  reading.
- **no change**: a new mass was expected but the reading is still at the
  previous step's level (by less than the jump size).

The detector has no clock of its own: it is fed device timestamps, so it
behaves the same on a live rig, a replay and a synthetic signal.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

import numpy as np


class Stability(StrEnum):
    NO_DATA = "no_data"
    COLLECTING = "collecting"
    SETTLED = "settled"
    NOISY = "noisy"
    CREEPING = "creeping"
    JUMP = "jump"
    REMOVED_EARLY = "removed_early"
    NO_CHANGE = "no_change"


@dataclass(frozen=True)
class SettleConfig:
    """Settle thresholds (see the module docstring for why these defaults)."""

    window_s: float = 1.0
    max_spread_counts: float = 800.0
    max_spread_rel: float = 0.0005
    max_slope_counts_per_s: float = 50.0
    max_slope_rel_per_s: float = 0.0005
    slope_noise_factor: float = 3.0
    jump_factor: float = 8.0
    confirm_s: float = 0.1
    jump_history_s: float = 0.3
    removed_fraction: float = 0.25
    removed_confirm_s: float = 0.3
    min_dwell_s: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def for_adc_bits(self, adc_bits: int) -> SettleConfig:
        """The same limits for an ADC of another resolution (count floors scaled)."""
        scale = 2.0 ** (int(adc_bits) - 24)
        return replace(
            self,
            max_spread_counts=self.max_spread_counts * scale,
            max_slope_counts_per_s=self.max_slope_counts_per_s * scale,
        )


@dataclass(frozen=True)
class Assessment:
    """The detector's view of the last window, with a message for the operator."""

    status: Stability
    message: str
    mean_counts: float | None = None
    spread_counts: float | None = None
    slope_counts_per_s: float | None = None
    covered_s: float = 0.0
    samples: int = 0
    spread_limit: float = 0.0
    slope_limit: float = 0.0
    jump_counts: float | None = None

    @property
    def settled(self) -> bool:
        return self.status is Stability.SETTLED

    @property
    def window_full(self) -> bool:
        return self.mean_counts is not None and self.status is not Stability.COLLECTING


class SettleDetector:
    """Streaming settle detector for one channel.

    ``previous_counts`` is the level of the step before (None for the first
    step of a channel, or when the load does not change); with
    ``expect_change`` the detector waits for the reading to leave that level
    and reports a return to it as the load removed too early.
    """

    def __init__(
        self,
        config: SettleConfig | None = None,
        *,
        zero_counts: float | None = None,
        previous_counts: float | None = None,
        expect_change: bool = False,
    ) -> None:
        self.config = config or SettleConfig()
        self.zero_counts = zero_counts
        self.previous_counts = previous_counts
        self.expect_change = expect_change and previous_counts is not None
        self._t = np.empty(0)
        self._c = np.empty(0)
        self._departed = False
        self._departure = 0.0
        self._not_before: float | None = None
        self._arrival_t: float | None = None  # when the load being measured arrived
        self.last_t: float | None = None  # device time of the latest sample assessed
        self.assessment = Assessment(Stability.NO_DATA, "no readings yet")

    @property
    def departed(self) -> bool:
        """Whether the reading has left the previous step's level (the new load arrived)."""
        return self._departed

    def restart(self, after_t_s: float | None = None) -> None:
        """Forget the window; with ``after_t_s``, ignore samples up to that time too."""
        self._t = np.empty(0)
        self._c = np.empty(0)
        self._not_before = after_t_s
        self._arrival_t = None
        self.assessment = Assessment(Stability.NO_DATA, "no readings yet")

    def limits(self, level: float | None) -> tuple[float, float]:
        """(spread limit, slope limit) in counts and counts/s at a reading ``level``."""
        cfg = self.config
        load = 0.0
        if level is not None and self.zero_counts is not None:
            load = abs(level - self.zero_counts)
        return (
            max(cfg.max_spread_counts, cfg.max_spread_rel * load),
            max(cfg.max_slope_counts_per_s, cfg.max_slope_rel_per_s * load),
        )

    def feed(self, t_s: float | np.ndarray, counts: float | np.ndarray) -> Assessment:
        """Add samples (device times in s, raw counts); the assessment after the last one."""
        results = self.feed_all(t_s, counts)
        return results[-1] if results else self.assessment

    def feed_all(self, t_s: float | np.ndarray, counts: float | np.ndarray) -> list[Assessment]:
        """Add samples and assess after every ``confirm_s`` of them, in order.

        A long chunk is taken in short pieces so a jump or an early removal in
        its middle is seen, as it would be live.
        """
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        c = np.atleast_1d(np.asarray(counts, dtype=float))
        if t.shape != c.shape:
            raise ValueError(f"{t.size} timestamps for {c.size} readings")
        keep = np.isfinite(t) & np.isfinite(c)
        if self._not_before is not None:
            keep &= t > self._not_before
        t, c = t[keep], c[keep]
        results = []
        start = 0
        while start < t.size:
            stop = int(np.searchsorted(t, t[start] + self.config.confirm_s, side="left"))
            stop = max(stop, start + 1)
            results.append(self._add(t[start:stop], c[start:stop]))
            start = stop
        return results

    def _add(self, t: np.ndarray, c: np.ndarray) -> Assessment:
        if self._t.size and t[0] < self._t[-1]:  # the device restarted its clock
            self._t, self._c = np.empty(0), np.empty(0)
            self._arrival_t = None
        self._t = np.concatenate([self._t, t])
        self._c = np.concatenate([self._c, c])
        self.last_t = float(t[-1])
        horizon = self._t[-1] - (self.config.window_s + self.config.confirm_s + 0.5)
        first = int(np.searchsorted(self._t, horizon))
        if first:
            self._t, self._c = self._t[first:], self._c[first:]
        self.assessment = self._assess()
        return self.assessment

    def _assess(self) -> Assessment:
        cfg = self.config
        t_end = self._t[-1]
        if self._arrival_t is None and not self.expect_change:
            self._arrival_t = float(self._t[0])
        recent = self._t > t_end - cfg.confirm_s
        recent_mean = float(np.median(self._c[recent]))  # a median: one spike is not a step
        spread_limit, slope_limit = self.limits(recent_mean)
        jump_limit = cfg.jump_factor * spread_limit

        if self.expect_change:
            distance = abs(recent_mean - self.previous_counts)
            if not self._departed and distance >= jump_limit:
                self._departed = True
                self._departure = distance
                self._arrival_t = t_end - cfg.confirm_s
                self._drop_before(t_end - cfg.confirm_s)  # the window starts with the new load
            elif self._departed:
                self._departure = max(self._departure, distance)
                settled_back = self._t > t_end - cfg.removed_confirm_s
                back = abs(float(np.median(self._c[settled_back])) - self.previous_counts)
                if max(back, distance) <= cfg.removed_fraction * self._departure:
                    return Assessment(
                        Stability.REMOVED_EARLY,
                        f"the reading went back toward the previous level "
                        f"({self.previous_counts:.0f} counts) before it settled: the load was "
                        "removed, slipped or changed too early; set it again and retry",
                        mean_counts=recent_mean,
                        spread_limit=spread_limit,
                        slope_limit=slope_limit,
                    )

        jump = self._jump(t_end, recent_mean, spread_limit, jump_limit)
        if jump is not None:
            self._drop_before(t_end - cfg.confirm_s)
            self._arrival_t = t_end - cfg.confirm_s
            return Assessment(
                Stability.JUMP,
                f"the reading jumped by {jump:+.0f} counts: was the mass bumped or changed? "
                "measuring again",
                mean_counts=recent_mean,
                spread_limit=spread_limit,
                slope_limit=slope_limit,
                jump_counts=jump,
            )

        in_window = self._t >= t_end - cfg.window_s
        t, c = self._t[in_window], self._c[in_window]
        period = float(np.median(np.diff(t))) if t.size > 1 else 0.0
        covered = float(t[-1] - t[0]) + period
        if t.size < 3 or covered < cfg.window_s * (1 - 1e-9):
            return Assessment(
                Stability.COLLECTING,
                f"measuring: {covered:.1f} of {cfg.window_s:.1f} s",
                mean_counts=float(c.mean()),
                covered_s=covered,
                samples=int(t.size),
                spread_limit=spread_limit,
                slope_limit=slope_limit,
            )
        mean = float(c.mean())
        spread = float(c.std())
        dt = t - t.mean()
        slope = float(np.dot(dt, c - mean) / np.dot(dt, dt)) if np.dot(dt, dt) > 0 else 0.0
        noise = float(np.std(c - mean - slope * dt))
        spread_limit, slope_limit = self.limits(mean)
        slope_se = noise / math.sqrt(float(np.dot(dt, dt))) if np.dot(dt, dt) > 0 else 0.0
        slope_limit = max(slope_limit, cfg.slope_noise_factor * slope_se)
        stats = dict(
            mean_counts=mean,
            spread_counts=spread,
            slope_counts_per_s=slope,
            covered_s=covered,
            samples=int(t.size),
            spread_limit=spread_limit,
            slope_limit=slope_limit,
        )
        if self.expect_change and not self._departed:
            return Assessment(
                Stability.NO_CHANGE,
                f"the reading is still at the previous step's level "
                f"({self.previous_counts:.0f} counts): set the load",
                **stats,
            )
        if noise > spread_limit:
            return Assessment(
                Stability.NOISY,
                f"too noisy: spread {noise:.0f} counts over {cfg.window_s:g} s "
                f"(limit {spread_limit:.0f}); stop the mass swinging and keep clear of the rig",
                **stats,
            )
        if abs(slope) > slope_limit or spread > spread_limit:
            return Assessment(
                Stability.CREEPING,
                f"creeping: the reading drifts {slope:+.0f} counts/s (limit {slope_limit:.0f}); "
                "wait for the hook and the mass to come to rest",
                **stats,
            )
        dwelt = t_end - (self._arrival_t if self._arrival_t is not None else t_end)
        if dwelt < cfg.min_dwell_s:
            return Assessment(
                Stability.COLLECTING,
                f"steady; letting the load rest {dwelt:.1f} of {cfg.min_dwell_s:g} s",
                **stats,
            )
        return Assessment(
            Stability.SETTLED,
            f"settled: spread {spread:.0f} counts, drift {slope:+.0f} counts/s",
            **stats,
        )

    def _jump(
        self, t_end: float, recent_mean: float, spread_limit: float, jump_limit: float
    ) -> float | None:
        """Size of a confirmed step after a steady stretch, else None."""
        cfg = self.config
        history = (self._t <= t_end - cfg.confirm_s) & (self._t >= t_end - cfg.window_s)
        if not history.any():
            return None
        h_t = self._t[history]
        if h_t[-1] - h_t[0] < cfg.jump_history_s:
            return None
        h_c = self._c[history]
        if h_c.std() > spread_limit:
            return None
        step = recent_mean - float(np.median(h_c))
        return step if abs(step) > jump_limit else None

    def _drop_before(self, t_s: float) -> None:
        keep = self._t > t_s
        self._t, self._c = self._t[keep], self._c[keep]
