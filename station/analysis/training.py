"""Training mode: a live target zone per leg, and each leg's reps on its own.

Fed the live view's filtered forces block by block (``LiveUpdate.forces_n``,
causal filter), :class:`ZoneTracker` keeps, per leg:

- whether the leg is in the zone, with hysteresis: it enters when the force is
  within ``[low, high]`` and leaves only when it goes below ``low − h`` or above
  ``high + h`` (``h`` = ``hysteresis_n``), so noise at an edge does not flicker;
- its reps (a *leg rep* starts when the leg's force reaches ``rep_threshold_n``
  after the leg was still, below ``rep_edge_n``, and ends when it is still again),
  reported with their peaks as they end: the per-leg live detection an isometric
  test also needs;
- reps in zone, time in zone and impulse in zone (definitions: docs/analysis.md,
  Training).

Per block the work is NumPy on both legs at once (a forward fill for each
two-threshold state, a cumulative sum for the "still" episodes) plus a Python
step per leg rep boundary: never per sample.  Figures are provisional live numbers, like all
of the live view's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from firmware_bridge.errors import InputError
from station.analysis.settings import AnalysisSettings

DEFAULT_HYSTERESIS_N = 3.0
LEGS = ("left", "right")


class ZoneError(InputError):
    """A target zone that cannot be used (the message says why and what to enter)."""


@dataclass(frozen=True)
class TargetZone:
    """A band of force per leg in N (``low_n[leg]``..``high_n[leg]``), with how it was set."""

    low_n: tuple[float, float]
    high_n: tuple[float, float]
    hysteresis_n: float = DEFAULT_HYSTERESIS_N
    mode: str = "N"  # "N" or "%" (of the athlete's last max per leg)
    percent: tuple[float, float] | None = None  # the % entered, when mode is "%"
    last_max_n: tuple[float, float] | None = None  # what the % is of

    @classmethod
    def in_newtons(
        cls,
        low_n: float,
        high_n: float,
        settings: AnalysisSettings | None = None,
        hysteresis_n: float = DEFAULT_HYSTERESIS_N,
    ) -> TargetZone:
        """The same band for both legs, checked (:class:`ZoneError` says what is wrong)."""
        _check_band(low_n, high_n, "N", settings)
        low, high = float(low_n), float(high_n)
        return cls((low, low), (high, high), float(hysteresis_n))

    @classmethod
    def in_percent(
        cls,
        low_pct: float,
        high_pct: float,
        last_max_n: tuple[float, float] | None,
        settings: AnalysisSettings | None = None,
        hysteresis_n: float = DEFAULT_HYSTERESIS_N,
    ) -> TargetZone:
        """A band as % of each leg's last max force (each leg gets its own band)."""
        if last_max_n is None or not all(math.isfinite(m) and m > 0 for m in last_max_n):
            raise ZoneError(
                "no previous max force for this athlete",
                hint="set the zone in N, or run a Nordic test first",
            )
        if not (math.isfinite(low_pct) and math.isfinite(high_pct)):
            raise ZoneError("the zone's edges must be numbers", hint="enter two percentages")
        if low_pct >= high_pct:
            raise ZoneError(
                f"the zone's low edge ({low_pct:g} %) must be below its high edge ({high_pct:g} %)",
                hint="enter a lower low edge or a higher high edge",
            )
        lows = (last_max_n[0] * low_pct / 100.0, last_max_n[1] * low_pct / 100.0)
        highs = (last_max_n[0] * high_pct / 100.0, last_max_n[1] * high_pct / 100.0)
        for lo, hi in zip(lows, highs, strict=True):
            _check_band(lo, hi, "N", settings)
        return cls(
            lows,
            highs,
            float(hysteresis_n),
            "%",
            (float(low_pct), float(high_pct)),
            (float(last_max_n[0]), float(last_max_n[1])),
        )

    def describe(self, leg: int | None = None) -> str:
        """The zone in words: "150–200 N" or "60–80 % of last max (L 192–256 N ...)"."""
        legs = range(2) if leg is None else (leg,)
        bands = [f"{self.low_n[i]:.0f}–{self.high_n[i]:.0f} N" for i in legs]
        if self.mode == "%" and self.percent is not None:
            per_leg = " · ".join(
                f"{LEGS[i][0].upper()} {b}" for i, b in zip(legs, bands, strict=True)
            )
            return f"{self.percent[0]:g}–{self.percent[1]:g} % of last max ({per_leg})"
        return bands[0] if len(set(bands)) == 1 else " · ".join(bands)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("low_n", "high_n", "percent", "last_max_n"):
            if out[key] is not None:
                out[key] = list(out[key])
        return out


def _check_band(low: float, high: float, unit: str, settings: AnalysisSettings | None) -> None:
    edge = (settings or AnalysisSettings()).rep_edge_n
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ZoneError("the zone's edges must be numbers", hint="enter a low and a high force")
    if low >= high:
        raise ZoneError(
            f"the zone's low edge ({low:g} {unit}) must be below its high edge ({high:g} {unit})",
            hint="enter a lower low edge or a higher high edge",
        )
    if low <= edge:
        raise ZoneError(
            f"the zone's low edge ({low:.0f} N) must be above {edge:g} N: a resting leg reads "
            "up to that",
            hint=f"enter a low edge above {edge:g} N",
        )


@dataclass(frozen=True)
class LegRep:
    """One leg's rep, reported when it ends (the leg is still again)."""

    leg: int
    number: int
    start_s: float
    end_s: float
    peak_n: float
    in_zone: bool


@dataclass
class LegFigures:
    """One leg's running training figures."""

    reps: int = 0
    reps_in_zone: int = 0
    time_in_zone_s: float = 0.0
    impulse_in_zone_ns: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "reps": self.reps,
            "reps_in_zone": self.reps_in_zone,
            "time_in_zone_s": round(self.time_in_zone_s, 4),
            "impulse_in_zone_ns": round(self.impulse_in_zone_ns, 3),
        }


@dataclass(frozen=True)
class ZoneUpdate:
    """What one block changed: per-sample zone state (n, 2) and the legs' states at its end."""

    in_zone: np.ndarray
    state: tuple[bool, bool]
    entered: tuple[int, int]  # zone entries in this block, per leg
    completed: tuple[LegRep, ...]
    figures: tuple[LegFigures, LegFigures]


def hold(on: np.ndarray, off: np.ndarray, carry: bool | np.ndarray) -> np.ndarray:
    """A two-threshold state along axis 0: True from an ``on`` sample, False from an
    ``off`` one, otherwise what it was (``carry``, one per column, before the first
    decisive sample).  Vectorised forward fill; ``on`` wins where both are set."""
    n = len(on)
    code = np.where(on, 1, np.where(off, 0, -1))
    rows = np.arange(n).reshape((n,) + (1,) * (code.ndim - 1))
    last = np.where(code >= 0, rows, -1)
    np.maximum.accumulate(last, axis=0, out=last)
    picked = np.take_along_axis(code, np.maximum(last, 0), axis=0)
    return np.where(last >= 0, picked == 1, carry)


@dataclass
class _LegState:
    in_zone: bool = False
    counted: bool = False  # this "not still" episode already has its rep in zone
    active: bool = False  # in a leg rep
    rep_start: int = 0
    rep_peak: float = -math.inf
    rep_zone: bool = False
    done: int = 0  # leg reps completed
    figures: LegFigures = field(default_factory=LegFigures)


class ZoneTracker:
    """Zone state, leg reps and in-zone figures for both legs of one training session.

    With ``zone=None`` it only finds each leg's reps (live per-leg detection, e.g. for
    an isometric test): nothing is ever in a zone.
    """

    def __init__(
        self, zone: TargetZone | None, rate_hz: float, settings: AnalysisSettings | None = None
    ) -> None:
        if not rate_hz or rate_hz <= 0:
            raise ValueError("training needs a positive sample rate")
        self.zone = zone
        self.rate_hz = float(rate_hz)
        s = settings or AnalysisSettings()
        self._thr, self._edge = s.rep_threshold_n, s.rep_edge_n
        self.reset()

    def reset(self) -> None:
        """A new session: nothing counted."""
        self._legs = [_LegState(), _LegState()]
        self._next_index: int | None = None
        self.reps: list[LegRep] = []

    @property
    def state(self) -> tuple[bool, bool]:
        return (self._legs[0].in_zone, self._legs[1].in_zone)

    @property
    def figures(self) -> tuple[LegFigures, LegFigures]:
        return (self._legs[0].figures, self._legs[1].figures)

    def summary(self) -> dict[str, Any]:
        """The zone and the per-leg figures, as stored with a training session."""
        return {
            "zone": None if self.zone is None else self.zone.to_dict(),
            "left": self._legs[0].figures.to_dict(),
            "right": self._legs[1].figures.to_dict(),
        }

    def process(self, forces_n: np.ndarray, first_index: int) -> ZoneUpdate:
        """One block of filtered forces (n, 2) in N starting at device index ``first_index``."""
        forces = np.asarray(forces_n, np.float64).reshape(-1, 2)
        first_index = int(first_index)
        if self._next_index is not None and first_index != self._next_index:
            self._gap(self._next_index - 1)
        self._next_index = first_index + len(forces)
        if len(forces) == 0:
            return ZoneUpdate(np.zeros((0, 2), bool), self.state, (0, 0), (), self.figures)
        legs = self._legs
        finite = np.isfinite(forces)
        g = np.where(finite, forces, -np.inf)
        still = g < self._edge
        # Zone and leg-rep states of both legs in one forward fill (columns: zone L, R;
        # active L, R).
        was = np.array([st.in_zone for st in legs] + [st.active for st in legs])
        on, off = self._zone_edges(g, finite)
        state = hold(np.hstack((on, g >= self._thr)), np.hstack((off, still)), was)
        in_zone, active = state[:, :2], state[:, 2:]
        entries = in_zone & ~np.vstack((was[:2], in_zone[:-1]))
        # Episodes between still samples: the first zone entry in each is a rep in zone.
        # ``seen`` is the episode of the latest entry so far (0 is the episode carried on
        # from the last block, -1 none), so an entry is the first of its episode when the
        # latest one before it is of an earlier episode.
        episode = np.cumsum(still, axis=0)
        carried = np.array([0 if st.counted else -1 for st in legs])
        seen = np.maximum(np.where(entries, episode, -1), carried)
        np.maximum.accumulate(seen, axis=0, out=seen)
        first_seen = np.vstack((carried, seen[:-1]))
        new = (entries & (first_seen < episode)).sum(axis=0)
        time = in_zone.sum(axis=0) / self.rate_hz
        impulse = np.where(in_zone, g, 0.0).sum(axis=0) / self.rate_hz
        completed: list[LegRep] = []
        for leg, st in enumerate(legs):
            fig = st.figures
            fig.reps_in_zone += int(new[leg])
            fig.time_in_zone_s += float(time[leg])
            fig.impulse_in_zone_ns += float(impulse[leg])
            st.in_zone = bool(in_zone[-1, leg])
            st.counted = bool(seen[-1, leg] == episode[-1, leg])
            self._leg_reps(
                leg, st, g[:, leg], in_zone[:, leg], active[:, leg], first_index, completed
            )
        completed.sort(key=lambda r: r.end_s)
        self.reps.extend(completed)
        counts = entries.sum(axis=0)
        return ZoneUpdate(
            in_zone, self.state, (int(counts[0]), int(counts[1])), tuple(completed), self.figures
        )

    def _zone_edges(self, g: np.ndarray, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each leg is surely in its zone, and surely out of it (with the hysteresis)."""
        z = self.zone
        if z is None:
            return np.zeros(g.shape, bool), np.ones(g.shape, bool)
        lo, hi, h = np.asarray(z.low_n), np.asarray(z.high_n), z.hysteresis_n
        return (g >= lo) & (g <= hi), ~finite | (g < lo - h) | (g > hi + h)

    def _gap(self, last: int) -> None:
        """Missing samples or a restart: a rep running is ended at the last sample seen."""
        out: list[LegRep] = []
        for leg, st in enumerate(self._legs):
            if st.active:
                out.append(self._finish(leg, st, last))
            st.in_zone = st.counted = st.active = False
        self.reps.extend(out)

    def _finish(self, leg: int, st: _LegState, end: int) -> LegRep:
        st.done += 1
        rep = LegRep(
            leg, st.done, st.rep_start / self.rate_hz, end / self.rate_hz, st.rep_peak, st.rep_zone
        )
        st.active, st.rep_peak, st.rep_zone = False, -math.inf, False
        return rep

    def _leg_reps(
        self,
        leg: int,
        st: _LegState,
        g: np.ndarray,
        in_zone: np.ndarray,
        active: np.ndarray,
        first: int,
        completed: list[LegRep],
    ) -> None:
        """Start, grow and end one leg's reps: a Python step per rep boundary only."""
        if not st.active and not active.any():
            return  # still, or below the threshold, all block long
        if st.active and active.all():  # a rep going on
            st.rep_peak = max(st.rep_peak, float(g.max()))
            st.rep_zone = st.rep_zone or bool(in_zone.any())
            return
        before = np.concatenate(([st.active], active[:-1]))
        starts = np.flatnonzero(active & ~before)
        stops = np.flatnonzero(~active & before)
        st.figures.reps += len(starts)
        # Runs of the active state in this block: [run_starts[i], run_stops[i]).
        run_starts = np.concatenate(([0], starts)) if st.active else starts
        run_stops = np.concatenate((stops, [len(g)])) if active[-1] else stops
        if len(run_starts) == 0:
            return
        # One Python step per run (a rep's start or end), never per sample.
        for a, b in zip(run_starts.tolist(), run_stops.tolist(), strict=True):
            peak, zoned = float(g[a:b].max(initial=-math.inf)), bool(in_zone[a:b].any())
            if a == 0 and st.active:
                st.rep_peak, st.rep_zone = max(st.rep_peak, peak), st.rep_zone or zoned
            else:
                st.active, st.rep_start, st.rep_peak, st.rep_zone = True, first + a, peak, zoned
            if b < len(g):
                completed.append(self._finish(leg, st, first + b - 1))
            else:
                st.active = True
