"""Filters: the NumPy Butterworth against scipy.signal (design, sosfilt, sosfiltfilt per run),
gaps never crossed, the causal form with carried state."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import signal

from station.analysis import filters
from station.analysis.filters import CausalLowpass, butterworth, design_lowpass, filtfilt_runs
from station.analysis.gaps import find_runs
from station.analysis.settings import AnalysisSettings

SETTINGS = AnalysisSettings()


def _sos(design):
    return signal.butter(design.order, design.cutoff_hz, fs=design.rate_hz, output="sos")


def _reference(x: np.ndarray, runs, design) -> np.ndarray:
    """What scipy.signal.sosfiltfilt gives each run on its own."""
    sos = _sos(design)
    padlen = 3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
    assert design.padlen == padlen
    out = np.empty_like(x)
    for s, e in zip(runs.starts, runs.stops, strict=True):
        out[:, s:e] = signal.sosfiltfilt(sos, x[:, s:e], axis=-1, padlen=min(padlen, e - s - 1))
    return out


def _close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-11 * np.abs(expected).max())


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("rate", [10.0, 50.0, 80.0, 1000.0, 2000.0])
def test_the_design_is_scipys_butterworth(order: int, rate: float) -> None:
    design = design_lowpass(rate, AnalysisSettings(filter_order=order))
    impulse = np.zeros(4000)
    impulse[0] = 1.0
    expected = signal.sosfilt(_sos(design), impulse)
    _close(design.impulse_response(4000), expected)
    gain, poles, _ = butterworth(order, design.cutoff_hz, rate)
    _, p, k = signal.butter(order, design.cutoff_hz, fs=rate, output="zpk")
    assert gain == pytest.approx(k, rel=1e-12)
    np.testing.assert_allclose(np.sort_complex(poles), np.sort_complex(p), atol=1e-12)
    assert design.impulse_response(20000).sum() == pytest.approx(1.0, abs=1e-9)  # DC gain 1


@pytest.mark.parametrize("order", [2, 4, 5])
@pytest.mark.parametrize("rate", [10.0, 80.0, 2000.0])
def test_each_run_is_filtered_as_sosfiltfilt_would_filter_it(order: int, rate: float) -> None:
    rng = np.random.default_rng(order)
    n = 9000
    keep = np.ones(n, bool)
    keep[rng.choice(n, 40, replace=False)] = False
    keep[100:103] = keep[104:106] = False  # a run of one sample at 103
    keep[6000:6001] = False  # and long runs on both sides (filtered one by one)
    index = np.arange(n)[keep]
    x = np.ascontiguousarray(rng.normal(size=(2, n)).cumsum(axis=1)[:, keep] * 10)
    runs = find_runs(index)
    design = design_lowpass(rate, AnalysisSettings(filter_order=order))
    expected = _reference(x, runs, design)
    _close(filtfilt_runs(x, runs, design), expected)
    _close(filtfilt_runs(x[0], runs, design), expected[0])


@pytest.mark.parametrize("breaks", [[], [50_000]])
def test_long_runs_filtered_on_two_threads_are_what_one_thread_gives(breaks: list[int]) -> None:
    """A long run's channels are filtered on two threads: the same numbers, bit for bit,
    as one thread gives, and sosfiltfilt's."""
    rng = np.random.default_rng(11)
    n = filters.PARALLEL_RUN + 60_001  # an odd length: not a whole number of blocks
    keep = np.ones(n, bool)
    keep[breaks] = False
    index = np.arange(n)[keep]
    x = np.ascontiguousarray(rng.normal(size=(2, n)).cumsum(axis=1)[:, keep] * 10)
    runs = find_runs(index)
    design = design_lowpass(1000.0, SETTINGS)
    given = x.copy()
    both = filtfilt_runs(x, runs, design)
    np.testing.assert_array_equal(x, given)  # filtered in place in a copy, not in the input
    one_by_one = np.stack([filtfilt_runs(x[ch], runs, design) for ch in (0, 1)])
    np.testing.assert_array_equal(both, one_by_one)
    assert runs.lengths.max() > filters.SLAB * filters.BLOCK  # more than one product a pass
    _close(both, _reference(x, runs, design))


def test_a_failure_on_the_second_thread_is_raised_by_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one = filters._filtfilt_one

    def failing_on_the_helper(segment, design, out=None):  # type: ignore[no-untyped-def]
        if threading.current_thread() is not threading.main_thread():
            raise MemoryError("no room")
        return one(segment, design, out)

    monkeypatch.setattr(filters, "_filtfilt_one", failing_on_the_helper)
    x = np.zeros((2, filters.PARALLEL_RUN))
    with pytest.raises(MemoryError, match="no room"):
        filtfilt_runs(x, find_runs(np.arange(x.shape[1])), design_lowpass(1000.0, SETTINGS))


def test_many_runs_are_filtered_each_on_its_own() -> None:
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
    _close(filtfilt_runs(x, runs, design), _reference(x, runs, design))


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
    sos = _sos(design)
    zi = signal.sosfilt_zi(sos)[:, None, :] * x[0][None, :, None]
    _close(whole, signal.sosfilt(sos, x, axis=0, zi=zi.transpose(0, 2, 1))[0])
    for size in (17, 100, 333):  # within one block, and padded blocks carrying their state
        pieces = CausalLowpass(design)
        chunks = [pieces.process(x[a : a + size]) for a in range(0, 1000, size)]
        _close(np.concatenate(chunks), whole)
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
