"""Sample blocks in, what the live screen shows out: forces, peaks, reps, the plot buffer.

It wraps the analysis package's :class:`~station.analysis.LiveProcessor`
(causal filter, tare, rep detection) and adds what only the screen needs:
the bounded plot buffer, the current force and session peak of each leg, and
one continuous time axis across device restarts (a replugged rig starts its
sample indices again at 0; the screen keeps time running forwards, with a
break in the trace where samples are missing).

The numbers here are provisional, for the operator's eyes: the stored result
is the offline analysis of the whole recording.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from calibration.choice import CalibrationChoice
from firmware_bridge.messages import SampleBlock
from firmware_bridge.segment_clock import SegmentClock
from station.analysis import AnalysisSettings, LiveProcessor, LiveRep, LiveUpdate
from station.app.live.plot_buffer import PlotBuffer

log = logging.getLogger(__name__)

CURRENT_WINDOW_S = 0.1  # "current force" is the mean of the last 100 ms of filtered force
TARE_WINDOW_S = 1.0
TARE_MAX_SPREAD_N = 10.0  # a still athlete's filtered force moves a few newtons at most


class NotStill(ValueError):
    """A tare asked for while a leg is moving: the zero would be wrong."""


class LiveSession:
    """Live forces for one connection; :meth:`begin_test` starts counting a test afresh."""

    @classmethod
    def renewed(
        cls,
        old: LiveSession | None,
        rate_hz: float | None,
        choice: CalibrationChoice | None,
        zeros: tuple[float, float] | None,
        plot_seconds: float,
        settings: AnalysisSettings | None,
    ) -> LiveSession | None:
        """The live session for this rate and calibration: ``old`` while it still fits, a
        new one when not (``zeros``: keep a tare already taken), None without either."""
        if not rate_hz or choice is None:
            return None
        if old is not None and old.rate_hz == rate_hz and old.gains == choice.gains():
            return old
        start = zeros if zeros is not None else choice.zeros()
        return cls(rate_hz, choice.gains(), start, plot_seconds, settings=settings)

    def __init__(
        self,
        rate_hz: float,
        gains: Sequence[float],
        zeros: Sequence[float] | None,
        plot_seconds: float = 12.0,
        settings: AnalysisSettings | None = None,
    ) -> None:
        self.rate_hz = float(rate_hz)
        self.gains = (float(gains[0]), float(gains[1]))
        self.settings = settings or AnalysisSettings()
        self._initial_zeros = None if zeros is None else (float(zeros[0]), float(zeros[1]))
        self.processor: LiveProcessor | None = None
        # A little more than the plot shows: the time axis pages forward a step at a time.
        capacity = max(16, int(math.ceil((plot_seconds + 2.0) * self.rate_hz)) + 1)
        self.buffer = PlotBuffer(capacity)
        self.buffer.set_sample_rate(self.rate_hz)
        self.tared = False
        # Called with each block's LiveUpdate after it is processed (training mode's zone).
        self.block_listener: Callable[[LiveUpdate], None] | None = None
        self._reset_counts()

    def _reset_counts(self) -> None:
        self.current_n = (math.nan, math.nan)
        self.peak_n = (math.nan, math.nan)
        self.reps: list[LiveRep] = []
        self.samples = 0
        # One missing sample between segments, so the trace breaks where the rig restarted.
        self.clock = SegmentClock(gap=1)
        self.last_device_index: int | None = None
        self.gap_samples = 0

    def _processor(self, first_counts: np.ndarray) -> LiveProcessor:
        if self.processor is None:
            self.processor = LiveProcessor.starting_with(
                self.rate_hz, self.gains, self._initial_zeros, first_counts, self.settings
            )
        return self.processor

    @property
    def zeros(self) -> tuple[float, float] | None:
        if self.processor is None:
            return self._initial_zeros
        z = self.processor.zeros
        return (float(z[0]), float(z[1]))

    @property
    def rep_count(self) -> int:
        return len(self.reps)

    @property
    def next_display_index(self) -> int:
        """The display index after the last sample (time runs on across restarts)."""
        return self.clock.next_index

    @property
    def segments(self) -> int:
        return self.clock.segments

    @property
    def restarts(self) -> int:
        return self.clock.restarts

    @property
    def elapsed_s(self) -> float:
        return self.next_display_index / self.rate_hz

    def begin_test(self) -> None:
        """A test starts now: time from 0, no reps, no peaks (the tare is kept)."""
        if self.processor is not None:
            self.processor.reset()
        self.buffer.clear()
        self._reset_counts()

    def spread_n(self, seconds: float = TARE_WINDOW_S) -> float:
        """Largest peak-to-peak range of either leg's filtered force over the last ``seconds``."""
        _, recent = self.buffer.view(max(2, int(seconds * self.rate_hz)))
        with np.errstate(all="ignore"):
            if not np.isfinite(recent).any():
                return math.inf
            return float(np.nanmax(np.nanmax(recent, axis=1) - np.nanmin(recent, axis=1)))

    def tare(self) -> tuple[float, float] | None:
        """Zero both legs on the last second of samples; returns the new zero counts.

        Refused (:class:`NotStill`) while a leg moves more than ``TARE_MAX_SPREAD_N``:
        a zero taken during a pull would make every later force wrong.
        """
        if self.processor is None:
            return None
        spread = self.spread_n()
        if spread > TARE_MAX_SPREAD_N:
            raise NotStill(
                f"the legs are not still (the force moved {spread:.0f} N in the last second): "
                "tare when the athlete rests in the hooks without pulling"
            )
        before = self.processor.zeros.copy()
        zeros = self.processor.tare()
        delta = (np.asarray(zeros) - before) * np.asarray(self.gains)
        self.buffer.shift(-delta)
        self.tared = True
        log.info("tared: zero counts %.0f, %.0f", zeros[0], zeros[1])
        self.peak_n = (math.nan, math.nan)
        return zeros

    def feed(self, blocks: Iterable[SampleBlock]) -> list[LiveRep]:
        """Process blocks (in stream order); returns the reps that ended in them."""
        completed: list[LiveRep] = []
        for block in blocks:
            n = len(block)
            if n == 0:
                continue
            before = self.clock.next_index
            first = self.clock.place(block.segment, block.first_index, n)
            if first > before:
                self.gap_samples += first - before
            processor = self._processor(block.counts)
            update = processor.process(block.counts, first)
            self.buffer.append(first, update.forces_n)
            if self.block_listener is not None:
                self.block_listener(update)
            completed.extend(update.completed)
            self.samples += n
            self.last_device_index = block.end_index - 1
            self._update_numbers(update.forces_n)
        self.reps.extend(completed)
        return completed

    def _update_numbers(self, forces: np.ndarray) -> None:
        k = max(1, int(CURRENT_WINDOW_S * self.rate_hz))
        _, recent = self.buffer.view(k)
        with np.errstate(all="ignore"):
            current = np.nanmean(recent, axis=1) if np.isfinite(recent).any() else (math.nan,) * 2
            block_max = np.max(forces, axis=0)
        self.current_n = (float(current[0]), float(current[1]))
        self.peak_n = (
            float(np.fmax(self.peak_n[0], block_max[0])),
            float(np.fmax(self.peak_n[1], block_max[1])),
        )
