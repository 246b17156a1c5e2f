"""Onset, RFD 0–W ms and impulse 0–W ms (rfd.py) on signals whose answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis import AnalysisSettings
from station.analysis.filters import filtfilt_runs
from station.analysis.gaps import find_runs
from station.analysis.rfd import (
    WINDOW_KEYS,
    design_rfd_filter,
    resolvable,
    rise_windows,
    windowed,
)
from station.analysis.settings import RFD_WINDOWS_MS
from tests.analysis.helpers import Session, run

SETTINGS = AnalysisSettings()


def _ramp(rate: float, start_s: float, slope: float, n_s: float = 2.0) -> np.ndarray:
    t = np.arange(int(n_s * rate)) / rate
    return np.clip((t - start_s) * slope, 0.0, None)


@pytest.mark.parametrize("rate", [130.0, 400.0, 1000.0])
def test_rfd_and_impulse_of_a_ramp_are_its_slope_and_trapezoid(rate: float) -> None:
    slope = 1200.0
    force = _ramp(rate, 0.5, slope)
    index = np.arange(len(force))
    w = windowed(force, index, 0, len(force), rate, SETTINGS, resolvable(rate, SETTINGS))
    onset = int(np.flatnonzero(force > 20.0)[0])
    assert w.onset_sample == onset and w.onset_s == pytest.approx(onset / rate)
    f0 = force[onset]
    for ms, rfd, impulse in zip(RFD_WINDOWS_MS, w.rfd_n_per_s, w.impulse_ns, strict=True):
        width = ms / 1000.0
        assert rfd == pytest.approx(slope, rel=1e-9), ms
        assert impulse == pytest.approx(f0 * width + slope * width**2 / 2, rel=1e-9), ms
    assert not w.cut


def test_onset_is_the_first_sample_above_the_threshold_and_must_be_a_crossing() -> None:
    rate = 100.0
    force = _ramp(rate, 0.5, 1000.0)
    index = np.arange(len(force))
    ok = resolvable(rate, SETTINGS)
    onset = int(np.flatnonzero(force > 20.0)[0])
    # A window starting exactly at the crossing still sees the rise (the sample before is low).
    assert windowed(force, index, onset, len(force), rate, SETTINGS, ok).onset_sample == onset
    # A window starting above the threshold with a high sample before it: no onset.
    late = windowed(force, index, onset + 3, len(force), rate, SETTINGS, ok)
    assert late.onset_s is None and all(v is None for v in late.rfd_n_per_s)
    # The data begins above the threshold: the rise was not seen.
    cut = windowed(force[onset:], index[onset:], 0, len(force) - onset, rate, SETTINGS, ok)
    assert cut.onset_s is None
    # Never above the threshold: no onset either.
    assert windowed(force * 0.001, index, 0, len(force), rate, SETTINGS, ok).onset_s is None


def test_a_window_running_into_missing_samples_is_null_and_says_so() -> None:
    rate = 400.0
    force = _ramp(rate, 0.5, 1000.0)
    index = np.arange(len(force))
    onset = int(np.flatnonzero(force > 20.0)[0])
    # Drop samples 120 ms after the onset: 0-50 and 0-100 ms survive, the rest do not.
    gap = onset + int(0.12 * rate)
    keep = np.ones(len(force), bool)
    keep[gap : gap + 5] = False
    w = windowed(
        force[keep], index[keep], 0, int(keep.sum()), rate, SETTINGS, resolvable(rate, SETTINGS)
    )
    assert w.cut
    assert [v is not None for v in w.rfd_n_per_s] == [True, True, False, False, False]
    assert [v is not None for v in w.impulse_ns] == [True, True, False, False, False]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (2000.0, [True] * 5),
        (50.0, [True] * 5),  # metrics.md: period 20 ms <= 50 ms / 2
        (30.0, [False, True, True, True, True]),  # 33 ms > 25 ms
        (10.0, [False, False, False, True, True]),
    ],
)
def test_a_window_is_resolved_when_the_sample_period_is_at_most_half_of_it(
    rate: float, expected: list[bool]
) -> None:
    assert list(resolvable(rate, SETTINGS)) == expected
    stricter = SETTINGS.with_changes(rfd_min_samples_per_window=3.0)
    assert resolvable(50.0, stricter)[0] is False


def test_the_rfd_filter_is_50_hz_lowered_to_0_4_of_the_rate() -> None:
    assert design_rfd_filter(1000.0, SETTINGS).cutoff_hz == 50.0
    assert design_rfd_filter(50.0, SETTINGS).cutoff_hz == pytest.approx(20.0)
    assert design_rfd_filter(50.0, SETTINGS).order == SETTINGS.filter_order


@pytest.mark.parametrize("rate", [50.0, 400.0])
def test_filtering_around_each_rise_gives_what_filtering_everything_gives(rate: float) -> None:
    rng = np.random.default_rng(3)
    n = int(60 * rate)
    t = np.arange(n) / rate
    # Three rises (one far into its window, so the onset search must widen), noise, two gaps.
    force = 2.0 + 0.3 * rng.standard_normal(n)
    for onset, slope in ((10.0, 900.0), (25.0, 1500.0), (42.0, 700.0)):
        force += np.clip((t - onset) * slope, 0.0, 400.0) * (t < onset + 4.0)
    keep = np.ones(n, bool)
    keep[[int(18 * rate), int(18 * rate) + 1, int(33 * rate)]] = False
    index = np.arange(n)[keep]
    scaled = force[keep] + 100.0  # around an arbitrary centre, as the pipeline has it
    runs = find_runs(index)
    design = design_rfd_filter(rate, SETTINGS)
    whole = filtfilt_runs(scaled, runs, design) - 100.0
    ok = resolvable(rate, SETTINGS)
    times = [(9.0, 15.0), (24.5, 29.0), (39.0, 46.0)]  # the last starts 3 s before its rise
    windows = [tuple(int(np.searchsorted(index, x * rate)) for x in pair) for pair in times]
    found = rise_windows(scaled[None, :] - 100.0, runs, index, windows, rate, SETTINGS, design, ok)
    for a, b in windows:
        (part,) = found[(a, b)]
        full = windowed(whole, index, a, b, rate, SETTINGS, ok)
        assert part.onset_sample == full.onset_sample is not None
        assert np.allclose(part.rfd_n_per_s, full.rfd_n_per_s, rtol=0, atol=1e-6)
        assert np.allclose(part.impulse_ns, full.impulse_ns, rtol=0, atol=1e-6)


def test_every_rep_leg_carries_onset_and_the_five_windows_in_the_json() -> None:
    session = Session(rate=200.0, reps=[(6.0, 300.0, 260.0), (16.0, 310.0, 250.0)])
    result = run(session)
    doc = result.to_dict()
    assert len(doc["reps"]) == 2
    for rep, true_onset in zip(doc["reps"], (6.0, 16.0), strict=True):
        for leg in ("left", "right"):
            m = rep[leg]
            assert list(m["rfd_window_n_per_s"]) == list(WINDOW_KEYS)
            assert list(m["impulse_window_ns"]) == list(WINDOW_KEYS)
            assert all(v is not None and v > 0 for v in m["rfd_window_n_per_s"].values())
            # Raised-cosine rise: 20 N is reached shortly after the pulse starts.
            assert true_onset < m["onset_s"] < true_onset + 0.5
            # The steepest 50 ms rise (old field, kept) is at least any 0-W average rise.
            assert m["rfd_n_per_s"] >= max(m["rfd_window_n_per_s"].values()) - 1e-6
    assert doc["rfd_filter"]["cutoff_hz"] == 50.0
    assert doc["rfd_filter"]["windows_ms"] == list(RFD_WINDOWS_MS)


def test_a_slow_rig_has_null_windows_with_a_flag() -> None:
    session = Session(rate=30.0, reps=[(6.0, 300.0, 260.0)])
    result = run(session)
    assert "rfd_window_unavailable" in result.flags
    assert any("0-50ms" in w for w in result.warnings)
    leg = result.to_dict()["reps"][0]["left"]
    assert leg["rfd_window_n_per_s"]["0-50ms"] is None
    assert leg["impulse_window_ns"]["0-50ms"] is None
    assert leg["rfd_window_n_per_s"]["0-100ms"] is not None
    assert "rfd_window_unavailable" not in run(Session(rate=50.0, reps=[(6.0, 300.0, 260.0)])).flags


def test_a_gap_after_the_onset_nulls_the_longer_windows_and_flags_the_rep() -> None:
    session = Session(rate=400.0, reps=[(6.0, 300.0, 260.0), (16.0, 310.0, 250.0)])
    clean = run(session)
    onset = clean.reps[0].left.onset_s
    assert onset is not None
    gap_at = int(round((onset + 0.12) * session.rate))
    keep = np.ones(len(session.index), bool)
    keep[gap_at : gap_at + 4] = False
    result = run(session, keep=keep)
    first = result.reps[0]
    assert "rfd_window_cut" in first.flags and "rfd_window_cut" in result.flags
    assert "rfd_window_cut" not in result.reps[1].flags
    # The windows before the gap stay (the run's edge, filtered on its own, moves them a little).
    before = clean.reps[0].left.rfd_window_n_per_s[:2]
    assert first.left.rfd_window_n_per_s[:2] == pytest.approx(before, rel=0.01)
    assert first.left.rfd_window_n_per_s[2:] == (None, None, None)


def test_a_rep_already_under_way_when_the_data_begins_has_no_onset() -> None:
    session = Session(rate=200.0, duration=30.0, reps=[(-1.0, 300.0, 260.0), (12.0, 310.0, 250.0)])
    result = run(session)
    first = result.reps[0]
    assert first.start_s == 0.0
    assert first.left.onset_s is None and first.left.rfd_window_n_per_s == (None,) * 5
    assert "onset_not_found" in first.flags and "onset_not_found" in result.flags
    assert result.reps[1].left.onset_s is not None
