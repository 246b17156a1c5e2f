"""The tare: the first still stretch before the first rep, with its fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis import analyze_arrays
from tests.analysis.helpers import GAINS, OFFSETS, Session, run


def _zero_counts(session: Session) -> np.ndarray:
    """Counts of the preload: what a correct tare finds."""
    return np.asarray(OFFSETS) + np.asarray(session.preload) / np.asarray(GAINS)


def test_the_zero_comes_from_the_quiet_start_preload_included() -> None:
    session = Session(reps=[(5.0, 300.0, 280.0), (20.0, 310.0, 290.0)], preload=(25.0, 18.0))
    result = run(session)
    assert result.zero.source == "quiet_start"
    assert "no_quiet_start" not in result.flags
    assert result.zero.start_s == 0.0 and result.zero.end_s < 5.0
    np.testing.assert_allclose(result.zero.counts, _zero_counts(session), atol=0.1 / 0.0004)
    assert result.reps[0].left.peak_force_n == pytest.approx(300.0, abs=1.5)


def test_a_recording_that_starts_mid_rep_falls_back_to_the_certificate_zero() -> None:
    session = Session(reps=[(-1.0, 300.0, 280.0), (15.0, 310.0, 290.0)], preload=(0.0, 0.0))
    zeros = OFFSETS
    result = run(session, zeros=zeros)
    assert result.zero.source == "certificate"
    assert "no_quiet_start" in result.flags
    assert any("certificate" in w for w in result.warnings)
    assert result.zero.counts == (float(zeros[0]), float(zeros[1]))
    assert len(result.reps) == 2
    assert "rep_truncated" in result.reps[0].flags
    assert "rep_truncated" not in result.reps[1].flags


def test_without_a_certificate_zero_a_still_rest_is_used_and_said() -> None:
    session = Session(reps=[(-1.0, 300.0, 280.0), (15.0, 310.0, 290.0)])
    result = run(session, zeros=None)
    assert result.zero.source == "quiet_rest"
    assert "no_quiet_start" in result.flags
    assert result.zero.start_s > 1.0
    assert result.reps[1].left.peak_force_n == pytest.approx(310.0, abs=1.5)


def test_nothing_still_at_all_is_an_estimated_zero_with_a_flag() -> None:
    rate = 100.0
    t = np.arange(0, 20, 1 / rate)
    wobble = 30 * np.sin(2 * np.pi * 0.7 * t)[:, None] + np.array([[50.0, 50.0]])
    counts = (np.asarray(OFFSETS) + wobble / np.asarray(GAINS)).astype(np.int32)
    result = analyze_arrays(np.arange(len(t)), counts, None, rate, 24, GAINS)
    assert result.zero.source == "estimated"
    assert {"no_quiet_start", "zero_estimated"} <= set(result.flags)


def test_a_tare_is_not_fooled_by_a_slow_onset() -> None:
    """A rep that creeps up slowly is still (std under the limit) for a while: the zero must
    not take those newtons in."""
    session = Session(reps=[(4.0, 300.0, 300.0)], rise=6.0, duration=20.0, preload=(0.0, 0.0))
    result = run(session)
    np.testing.assert_allclose(result.zero.counts, _zero_counts(session), atol=0.15 / 0.0004)


def test_drift_after_the_tare_is_flagged() -> None:
    session = Session(reps=[(5.0, 300.0, 280.0), (25.0, 310.0, 290.0)], duration=45.0)
    index = session.index
    counts = session.counts()
    drift = (index / session.rate * 0.6 / GAINS[0]).astype(np.int32)  # 0.6 N/s on the left
    counts[:, 0] += drift
    result = analyze_arrays(index, counts, None, session.rate, 24, GAINS)
    assert "baseline_drift" in result.flags
    assert result.baseline_offset_n[0] > 10.0
    assert abs(result.baseline_offset_n[1]) < 1.0
    clean = run(session)
    assert "baseline_drift" not in clean.flags
