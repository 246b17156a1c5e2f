"""Live view: filter and count reps block by block while the test runs.

The app calls :meth:`LiveProcessor.process` once per block from the rig.  It
uses the causal form of the analysis filter (same Butterworth, state carried
from block to block, never waiting for future samples) and a streaming form
of the bilateral detector in reps.py: the same thresholds, and a rep is
reported the moment it ends (both legs back below the edge threshold, or
``rep_max_extend_s`` after both legs stopped pulling together).

Live numbers are provisional: the causal filter lags and rings a little, so
the stored result is always the offline analysis of the whole recording
(zero-phase filter).  Per block the work is a handful of NumPy calls plus a
Python step per change of state (quiet, one leg, both legs), never per sample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from station.analysis.filters import CausalLowpass, design_lowpass
from station.analysis.metrics import Imbalance
from station.analysis.settings import AnalysisSettings

QUIET, ACTIVE, BILATERAL = 0, 1, 2


@dataclass(frozen=True)
class LiveRep:
    """A rep as the live view reports it when it ends."""

    number: int
    start_s: float
    end_s: float
    left_peak_n: float | None  # None: that leg did not pull (an isometric one-leg rep)
    right_peak_n: float | None
    imbalance: Imbalance

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "left_peak_n": self.left_peak_n,
            "right_peak_n": self.right_peak_n,
            "imbalance_pct": self.imbalance.pct,
            "stronger": self.imbalance.stronger,
            "l_r_ratio": self.imbalance.l_r_ratio,
        }


@dataclass(frozen=True)
class LiveUpdate:
    """What one block produced: filtered forces (n, 2) in N and any reps just completed."""

    first_index: int
    forces_n: np.ndarray
    raw_n: np.ndarray
    completed: tuple[LiveRep, ...]
    rep_count: int
    in_rep: bool


class _Ring:
    """The last ``size`` samples by device index (slots remember which index they hold)."""

    def __init__(self, size: int, channels: int = 2) -> None:
        self.size = size
        self.values = np.zeros((size, channels))
        self.held = np.full(size, -1, np.int64)

    def write(self, first: int, values: np.ndarray) -> None:
        n = len(values)
        if n > self.size:
            first, values, n = first + n - self.size, values[-self.size :], self.size
        pos = first % self.size
        head = min(n, self.size - pos)
        self.values[pos : pos + head] = values[:head]
        self.held[pos : pos + head] = np.arange(first, first + head)
        if head < n:
            self.values[: n - head] = values[head:]
            self.held[: n - head] = np.arange(first + head, first + n)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows held for indices ``start..stop-1`` (missing ones left out)."""
        start = max(start, stop - self.size)
        if stop <= start:
            return self.values[:0]
        wanted = np.arange(start, stop)
        slots = wanted % self.size
        return self.values[slots[self.held[slots] == wanted]]


class LiveProcessor:
    """Causal filter, tare and rep counter for one live test."""

    def __init__(
        self,
        rate_hz: float,
        gains: Sequence[float],
        zeros: Sequence[float],
        settings: AnalysisSettings | None = None,
        history_s: float = 60.0,
    ) -> None:
        if not rate_hz or rate_hz <= 0:
            raise ValueError("the live view needs a positive sample rate")
        self.settings = settings or AnalysisSettings()
        self.rate_hz = float(rate_hz)
        self.gains = np.asarray(gains, np.float64).reshape(2)
        self.zeros = np.asarray(zeros, np.float64).reshape(2)
        self.design = design_lowpass(self.rate_hz, self.settings)
        self.filter = CausalLowpass(self.design)
        size = int(math.ceil(history_s * self.rate_hz)) + 64
        self._forces = _Ring(size)
        self._counts = _Ring(max(int(math.ceil(self.settings.quiet_window_s * self.rate_hz)), 2))
        s = self.settings
        self._thr, self._edge = s.rep_threshold_n, s.rep_edge_n
        self._isometric = s.is_isometric
        self._merge = s.rep_merge_gap_s * self.rate_hz
        self._extend = int(math.floor(s.rep_max_extend_s * self.rate_hz))
        self._min_core = s.rep_min_duration_s * self.rate_hz - 1e-9
        self.reps: list[LiveRep] = []
        self._next_index: int | None = None
        self._reset_detector(0)

    @classmethod
    def starting_with(
        cls,
        rate_hz: float,
        gains: Sequence[float],
        zeros: Sequence[float] | None,
        first_counts: np.ndarray,
        settings: AnalysisSettings | None = None,
    ) -> LiveProcessor:
        """A processor for a stream whose first block is ``first_counts``: with no
        certificate zero, the mean of those first samples stands in until a tare."""
        if zeros is None:
            mean = np.asarray(first_counts, np.float64).reshape(-1, 2).mean(axis=0)
            zeros = (float(mean[0]), float(mean[1]))
        return cls(rate_hz, gains, zeros, settings)

    # -- public ----------------------------------------------------------------
    @property
    def rep_count(self) -> int:
        return len(self.reps)

    @property
    def cutoff_hz(self) -> float:
        return self.design.cutoff_hz

    def process(self, block_counts: np.ndarray, first_index: int) -> LiveUpdate:
        """Filter one block of (n, 2) counts starting at device index ``first_index``."""
        counts = np.asarray(block_counts, np.float64).reshape(-1, 2)
        first_index = int(first_index)
        n = len(counts)
        raw = (counts - self.zeros) * self.gains
        completed: list[LiveRep] = []
        if n == 0:
            return LiveUpdate(first_index, raw, raw, (), self.rep_count, self._core_n > 0)
        expected = self._next_index
        if expected is not None and first_index != expected:
            # Dropped samples or a restart: never filter across it.
            self.filter.reset(raw[0])
            if first_index < expected or first_index - (expected - 1) > self._merge:
                completed += self._break(expected - 1, first_index)
        forces = self.filter.process(raw)
        self._counts.write(first_index, counts)
        self._forces.write(first_index, forces)
        self._next_index = first_index + n
        completed += self._detect(forces, first_index)
        return LiveUpdate(
            first_index, forces, raw, tuple(completed), self.rep_count, self._core_n > 0
        )

    def tare(self) -> tuple[float, float]:
        """Zero = mean raw counts of the last ``quiet_window_s``; returns the new zeros."""
        if self._next_index is None:
            return (float(self.zeros[0]), float(self.zeros[1]))
        recent = self._counts.read(self._next_index - self._counts.size, self._next_index)
        if len(recent) == 0:
            return (float(self.zeros[0]), float(self.zeros[1]))
        new = recent.mean(axis=0)
        delta = (new - self.zeros) * self.gains
        self.filter.shift(delta)
        self._forces.values -= delta
        self.zeros = new
        self._reset_detector(self._next_index)
        return (float(new[0]), float(new[1]))

    def reset(self) -> None:
        """Start a new test: no history, no reps."""
        self.filter.reset()
        self.reps = []
        self._next_index = None
        self._forces.held[:] = -1
        self._counts.held[:] = -1
        self._reset_detector(0)

    # -- detector --------------------------------------------------------------
    def _reset_detector(self, cut: int) -> None:
        self._cand_start: int | None = None
        self._core_first = 0
        self._core_last = 0
        self._core_n = 0
        self._cut = cut  # the next rep window may not start before this index

    def _break(self, last: int, resume: int) -> list[LiveRep]:
        """A long gap or restart: finish a rep that was running, start afresh."""
        out = []
        if self._core_n >= self._min_core:
            out.append(self._complete(min(last, self._core_last + self._extend)))
        self._reset_detector(resume)
        return out

    def _detect(self, forces: np.ndarray, first: int) -> list[LiveRep]:
        left, right = forces[:, 0], forces[:, 1]
        # Isometric: either leg pulling makes the core (a rep may be one leg only).
        pulling = (left >= self._thr) | (right >= self._thr) if self._isometric else None
        label = np.where(
            (left >= self._thr) & (right >= self._thr) if pulling is None else pulling,
            BILATERAL,
            np.where((left < self._edge) & (right < self._edge), QUIET, ACTIVE),
        )
        change = np.flatnonzero(label[1:] != label[:-1]) + 1
        starts = [0, *change.tolist()]
        stops = [*change.tolist(), len(label)]
        out: list[LiveRep] = []
        for a, b in zip(starts, stops, strict=True):
            kind = int(label[a])
            i0, i1 = first + a, first + b - 1
            valid = self._core_n >= self._min_core
            if kind == QUIET:
                if valid:
                    out.append(self._complete(min(i0 - 1, self._core_last + self._extend)))
                self._cand_start = None
                self._core_n = 0
                continue
            if self._cand_start is None:
                self._cand_start = i0
            if kind == ACTIVE:
                if valid and i1 - self._core_last > self._extend:
                    end = self._core_last + self._extend
                    out.append(self._complete(end))
                    self._cand_start = end + 1
                continue
            # Both legs pulling.
            if self._core_n and i0 - self._core_last > self._merge:
                mid = (self._core_last + i0) // 2
                if valid:
                    out.append(self._complete(min(self._core_last + self._extend, mid)))
                else:
                    self._cut = max(self._cut, mid + 1)
                self._core_n = 0
            if self._core_n == 0:
                self._core_first = i0
            self._core_n += i1 - i0 + 1
            self._core_last = i1
        return out

    def _complete(self, end: int) -> LiveRep:
        start = max(self._cand_start or 0, self._core_first - self._extend, self._cut)
        window = self._forces.read(start, end + 1)
        if len(window):
            left, right = float(window[:, 0].max()), float(window[:, 1].max())
        else:  # pragma: no cover - a rep always has samples in the ring
            left = right = float("nan")
        left_peak: float | None = left
        right_peak: float | None = right
        if self._isometric:  # a leg that never reached the threshold was not in the rep
            left_peak = left if left >= self._thr else None
            right_peak = right if right >= self._thr else None
        rep = LiveRep(
            number=len(self.reps) + 1,
            start_s=start / self.rate_hz,
            end_s=end / self.rate_hz,
            left_peak_n=left_peak,
            right_peak_n=right_peak,
            imbalance=Imbalance.of(left_peak, right_peak, self.settings.asymmetry_formula),
        )
        self.reps.append(rep)
        self._cut = end + 1
        self._core_n = 0
        return rep
