"""Properties that must hold for any signal, checked with hypothesis on synthetic sessions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.analysis import analyze_arrays
from tests.analysis.helpers import GAINS, OFFSETS, Session, run

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def sessions(draw, rates=(50.0, 80.0, 100.0, 400.0), low=150.0, high=450.0) -> Session:
    rate = draw(st.sampled_from(rates))
    count = draw(st.integers(1, 4))
    rise = draw(st.floats(1.5, 4.0))
    fall = draw(st.floats(0.5, 1.5))
    rests = draw(st.lists(st.floats(5.0, 20.0), min_size=count, max_size=count))
    quiet = draw(st.floats(3.0, 6.0))
    reps, onset = [], quiet
    for rest in rests:
        reps.append((onset, draw(st.floats(low, high)), draw(st.floats(low, high))))
        onset += rise + fall + rest
    return Session(
        rate=rate,
        duration=onset + 2.0,
        reps=reps,
        rise=rise,
        fall=fall,
        preload=(draw(st.floats(0.0, 40.0)), draw(st.floats(0.0, 40.0))),
        seed=draw(st.integers(0, 1000)),
    )


def _peaks(result) -> np.ndarray:
    return np.array([[r.left.peak_force_n, r.right.peak_force_n] for r in result.reps])


@PROPERTY
@given(sessions(), st.floats(0.25, 4.0))
def test_scaling_the_gain_scales_every_force(session: Session, k: float) -> None:
    counts = session.counts()
    base = analyze_arrays(session.index, counts, None, session.rate, 24, GAINS)
    scaled = analyze_arrays(
        session.index, counts, None, session.rate, 24, (GAINS[0] * k, GAINS[1] * k)
    )
    assert len(scaled.reps) == len(base.reps) == len(session.reps)
    # Where the still stretch ends depends on thresholds in newtons, so the zero (a median
    # of noisy counts, noise 0.3 N) may move by a few hundredths of a newton.
    tolerance = 0.05 * k
    np.testing.assert_allclose(_peaks(scaled), _peaks(base) * k, rtol=1e-6, atol=tolerance)
    for name in ("left_n", "right_n", "left_raw_n", "right_raw_n"):
        a, b = getattr(base.curves, name), getattr(scaled.curves, name)
        np.testing.assert_allclose(b, a * k, rtol=1e-5, atol=tolerance)
    for a, b in zip(base.reps, scaled.reps, strict=True):
        assert b.imbalance.pct == pytest.approx(a.imbalance.pct, abs=0.05)


@PROPERTY
@given(sessions())
def test_swapping_the_channels_swaps_the_sides(session: Session) -> None:
    counts = session.counts()
    base = analyze_arrays(session.index, counts, None, session.rate, 24, GAINS)
    swapped = analyze_arrays(
        session.index, counts[:, ::-1].copy(), None, session.rate, 24, GAINS[::-1]
    )
    assert len(swapped.reps) == len(base.reps) == len(session.reps)
    np.testing.assert_allclose(_peaks(swapped), _peaks(base)[:, ::-1], rtol=1e-12)
    for a, b in zip(base.reps, swapped.reps, strict=True):
        assert (a.start_s, a.end_s) == (b.start_s, b.end_s)
        assert b.imbalance.pct == pytest.approx(a.imbalance.pct, rel=1e-12)
        flip = {"left": "right", "right": "left", "equal": "equal"}
        assert b.imbalance.stronger == flip[a.imbalance.stronger]
        assert b.imbalance.l_r_ratio == pytest.approx(1 / a.imbalance.l_r_ratio, rel=1e-12)
        assert b.left.impulse_ns == pytest.approx(a.right.impulse_ns, rel=1e-12)
    np.testing.assert_array_equal(swapped.curves.left_n, base.curves.right_n)
    s, b = swapped.summary, base.summary
    assert (s.left.max_force_n, s.right.max_force_n) == (b.right.max_force_n, b.left.max_force_n)


@PROPERTY
@given(sessions(), st.integers(-1_000_000, 1_000_000), st.integers(-1_000_000, 1_000_000))
def test_a_constant_offset_changes_nothing_after_the_tare(
    session: Session, left: int, right: int
) -> None:
    base = run(session)
    moved = run(session, offsets=(OFFSETS[0] + left, OFFSETS[1] + right))
    assert base.zero.source == moved.zero.source == "quiet_start"
    assert moved.zero.counts[0] - base.zero.counts[0] == left
    assert moved.zero.counts[1] - base.zero.counts[1] == right
    assert len(moved.reps) == len(base.reps) == len(session.reps)
    np.testing.assert_allclose(_peaks(moved), _peaks(base), atol=1e-6)
    np.testing.assert_allclose(moved.curves.left_n, base.curves.left_n, atol=1e-4)
    assert moved.to_dict()["summary"] == base.to_dict()["summary"]


@PROPERTY
@given(
    sessions(rates=(80.0, 400.0)),
    st.floats(0.3, 0.9),
    st.integers(1, 200),
    st.floats(-500.0, 500.0),
)
def test_gaps_are_not_smeared(session: Session, where: float, missing: int, step: float) -> None:
    """Whatever happens after a gap, nothing before it changes (and vice versa)."""
    n = len(session.index)
    at = int(where * n)
    keep = np.ones(n, bool)
    keep[at : at + missing] = False
    index = session.index[keep]
    counts = session.counts()[keep]
    later = counts.copy()
    after = index >= at + missing
    later[after] += np.rint(np.array([step, -step]) / np.asarray(GAINS)).astype(np.int32)
    a = analyze_arrays(index, counts, None, session.rate, 24, GAINS)
    b = analyze_arrays(index, later, None, session.rate, 24, GAINS)
    assert a.zero == b.zero  # the tare is from the quiet start, before the gap
    before_rows = a.curves.sample[(a.curves.sample >= 0)][~after]
    rows = np.flatnonzero(np.isin(a.curves.sample, before_rows))
    np.testing.assert_array_equal(a.curves.left_n[rows], b.curves.left_n[rows])
    np.testing.assert_array_equal(a.curves.right_n[rows], b.curves.right_n[rows])
    # The gap is a NaN row on the time axis, not closed up.
    gap_rows = np.flatnonzero(a.curves.sample < 0)
    assert len(gap_rows) == 1
    assert np.isnan(a.curves.left_n[gap_rows[0]])
    assert a.curves.time_s[gap_rows[0] + 1] - a.curves.time_s[gap_rows[0] - 1] == pytest.approx(
        (missing + 1) / session.rate
    )


@PROPERTY
@given(sessions(rates=(10.0,)))
def test_10_hz_rigs_still_find_every_rep(session: Session) -> None:
    result = run(session)
    assert len(result.reps) == len(session.reps)
    truth = np.array([[left, right] for _, left, right in session.reps])
    np.testing.assert_allclose(_peaks(result), truth, rtol=0.04)
    assert "cutoff_lowered" in result.flags


@PROPERTY
@given(sessions(rates=(10.0, 50.0, 80.0, 400.0, 1000.0), low=70.0, high=100.0))
def test_low_80_n_reps_are_found(session: Session) -> None:
    result = run(session)
    assert len(result.reps) == len(session.reps)
    truth = np.array([[left, right] for _, left, right in session.reps])
    np.testing.assert_allclose(_peaks(result), truth, rtol=0.04)
