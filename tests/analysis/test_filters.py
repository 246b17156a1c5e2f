"""Filters: zero-phase per run (exactly sosfiltfilt on each run), causal with carried state."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from station.analysis.filters import CausalLowpass, design_lowpass, filtfilt_runs
from station.analysis.gaps import find_runs
from station.analysis.settings import AnalysisSettings

SETTINGS = AnalysisSettings()


def _reference(x: np.ndarray, runs, design) -> np.ndarray:
    out = np.empty_like(x)
    for s, e in zip(runs.starts, runs.stops, strict=True):
        out[:, s:e] = signal.sosfiltfilt(
            design.sos, x[:, s:e], axis=-1, padlen=min(design.padlen, e - s - 1)
        )
    return out


def test_each_run_is_filtered_exactly_as_on_its_own() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    keep = np.ones(n, bool)
    keep[rng.choice(n, 120, replace=False)] = False
    keep[100:103] = keep[104:106] = False  # a run of one sample at 103
    keep[200:202] = False  # and of two at 202..203 with the next gap
    keep[204:210] = False
    index = np.arange(n)[keep]
    x = np.ascontiguousarray(rng.normal(size=(2, n)).cumsum(axis=1)[:, keep])
    runs = find_runs(index)
    design = design_lowpass(1000.0, SETTINGS)
    assert runs.count > 100 and 1 in runs.lengths and 2 in runs.lengths
    np.testing.assert_array_equal(filtfilt_runs(x, runs, design), _reference(x, runs, design))
    np.testing.assert_array_equal(filtfilt_runs(x[0], runs, design), _reference(x, runs, design)[0])


def test_a_step_across_a_gap_does_not_leak() -> None:
    index = np.concatenate((np.arange(0, 500), np.arange(510, 1000)))
    x = np.where(index < 505, 0.0, 1000.0)[None, :]
    out = filtfilt_runs(x, find_runs(index), design_lowpass(100.0, SETTINGS))
    np.testing.assert_allclose(out[0, :500], 0.0, atol=1e-9)
    np.testing.assert_allclose(out[0, 500:], 1000.0, atol=1e-9)


def test_a_segment_change_is_a_break_even_without_missing_samples() -> None:
    index = np.arange(1000)
    segment = (index >= 500).astype(np.int32)
    x = np.where(segment == 0, 0.0, 500.0)[None, :]
    runs = find_runs(index, segment)
    assert runs.count == 2 and runs.new_segment.tolist() == [False, True]
    assert runs.dropped_samples == 0
    out = filtfilt_runs(x, runs, design_lowpass(100.0, SETTINGS))
    np.testing.assert_allclose(out[0, :500], 0.0, atol=1e-9)


def test_short_runs_stay_within_their_own_values() -> None:
    index = np.array([0, 1, 2, 10, 20, 21])
    x = np.array([[5.0, 6.0, 7.0, 100.0, -3.0, -3.0]])
    out = filtfilt_runs(x, find_runs(index), design_lowpass(100.0, SETTINGS))
    assert out[0, 3] == pytest.approx(100.0)  # a lone sample is itself
    np.testing.assert_allclose(out[0, 4:], -3.0)  # a constant stays constant
    assert np.all((out[0, :3] >= 4.0) & (out[0, :3] <= 8.0))


def test_the_cut_off_is_lowered_below_nyquist_on_slow_rigs() -> None:
    slow = design_lowpass(10.0, SETTINGS)
    assert slow.lowered and slow.cutoff_hz == pytest.approx(4.0)
    fast = design_lowpass(80.0, SETTINGS)
    assert not fast.lowered and fast.cutoff_hz == 10.0


def test_zero_phase_filter_keeps_a_slow_peak_where_it_is() -> None:
    rate = 100.0
    t = np.arange(0, 10, 1 / rate)
    x = np.exp(-(((t - 5.0) / 0.8) ** 2))[None, :] * 300
    out = filtfilt_runs(x, find_runs(np.arange(len(t))), design_lowpass(rate, SETTINGS))
    assert np.argmax(out[0]) == np.argmax(x[0])
    assert out[0].max() == pytest.approx(300, rel=1e-3)


def test_causal_filter_gives_the_same_output_whatever_the_block_size() -> None:
    design = design_lowpass(200.0, SETTINGS)
    x = np.random.default_rng(0).normal(size=(1000, 2)).cumsum(axis=0)
    whole = CausalLowpass(design).process(x)
    pieces = CausalLowpass(design)
    chunks = [pieces.process(x[a : a + 17]) for a in range(0, 1000, 17)]
    np.testing.assert_allclose(np.concatenate(chunks), whole, rtol=1e-12, atol=1e-9)
    # It is causal: the output so far does not depend on what comes next.
    changed = x.copy()
    changed[500:] += 100
    np.testing.assert_array_equal(CausalLowpass(design).process(changed)[:500], whole[:500])


def test_causal_filter_starts_at_rest_and_shifts_without_a_transient() -> None:
    design = design_lowpass(100.0, SETTINGS)
    f = CausalLowpass(design)
    out = f.process(np.full((50, 2), 42.0))
    np.testing.assert_allclose(out, 42.0)
    f.shift(np.array([2.0, -8.0]))
    np.testing.assert_allclose(f.process(np.full((10, 2), 40.0) + [0, 10]), [[40.0, 50.0]] * 10)
