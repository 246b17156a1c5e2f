"""Per-rep, per-leg metrics on shapes whose answers are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis import AnalysisInput, ChannelCalibration, analyze, analyze_arrays
from station.analysis.metrics import Imbalance, leg_metrics, steepest_rise
from station.analysis.settings import AnalysisSettings
from tests.analysis.helpers import Session, run

SETTINGS = AnalysisSettings()


def _trapezoid(rate: float) -> tuple[np.ndarray, np.ndarray]:
    """0 N, ramp 100 N/s for 2 s to 200 N, hold 1 s, instant drop: samples 0..6 s."""
    t = np.arange(0, 6, 1 / rate)
    force = np.clip((t - 1.0) * 100.0, 0, 200.0)
    force[t >= 4.0] = 0.0
    return t, force


def test_peak_time_to_peak_impulse_and_mean_on_a_trapezoid() -> None:
    rate = 1000.0
    t, force = _trapezoid(rate)
    start, stop = int(1.0 * rate), int(4.0 * rate)
    index = np.arange(len(t))
    m = leg_metrics(force, index, start, stop, rate, SETTINGS, np.zeros(len(t), bool))
    assert m.peak_force_n == 200.0
    assert m.time_to_peak_s == pytest.approx(2.0)
    # Impulse counts only time above 20 N: ramp from 20 N (area 0.5*(20+200)*1.8) + hold 200.
    assert m.impulse_ns == pytest.approx(0.5 * (20 + 200) * 1.8 + 200.0, rel=2e-3)
    assert m.mean_force_n == pytest.approx((0.5 * 200 * 2 + 200) / 3, rel=2e-3)
    assert m.rfd_n_per_s == pytest.approx(100.0)
    assert m.relative_peak_force_n_per_kg is None and m.peak_torque_nm is None


def test_relative_force_and_torque_need_body_mass_and_lever_arm() -> None:
    rate = 100.0
    t, force = _trapezoid(rate)
    m = leg_metrics(
        force, np.arange(len(t)), 100, 400, rate, SETTINGS, np.zeros(len(t), bool), None, 80.0, 0.4
    )
    assert m.relative_peak_force_n_per_kg == pytest.approx(2.5)
    assert m.peak_torque_nm == pytest.approx(80.0)


def test_rfd_is_the_steepest_50_ms_rise_before_the_peak() -> None:
    rate = 1000.0
    t = np.arange(0, 3, 1 / rate)
    force = 50 * t + np.where(t > 1.0, 400 * (t - 1.0), 0.0)  # 50 N/s, then 450 N/s after 1 s
    force = np.minimum(force, 500.0)
    peak = int(np.argmax(force))
    rfd = steepest_rise(force, np.arange(len(t)), 0, peak, rate, 0.05)
    assert rfd == pytest.approx(450.0, rel=1e-6)
    # Interpolated when 50 ms is not a whole number of samples (here 2.5 samples).
    rate = 50.0
    t = np.arange(0, 3, 1 / rate)
    ramp = 300.0 * t
    assert steepest_rise(ramp, np.arange(len(t)), 0, len(t) - 1, rate, 0.05) == pytest.approx(300.0)


def test_rfd_never_spans_missing_samples() -> None:
    rate = 100.0
    index = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 51, 52, 53, 54, 55, 56])
    force = np.concatenate((np.arange(10) * 1.0, 1000 + np.arange(7) * 1.0))
    # Across the gap the force leaps by 1000 N, but no 50 ms window may span it.
    rfd = steepest_rise(force, index, 0, len(index) - 1, rate, 0.05)
    assert rfd == pytest.approx(100.0)


def test_rfd_is_not_available_on_slow_rigs() -> None:
    result = run(Session(rate=20.0, reps=[(5.0, 300.0, 280.0)], duration=15.0))
    assert "rfd_unavailable" in result.flags
    assert result.reps[0].left.rfd_n_per_s is None
    assert result.to_dict()["reps"][0]["left"]["rfd_n_per_s"] is None


@pytest.mark.parametrize(
    ("left", "right", "pct", "stronger", "ratio"),
    [
        (300.0, 240.0, 20.0, "left", 1.25),
        (240.0, 300.0, 20.0, "right", 0.8),
        (250.0, 250.0, 0.0, "equal", 1.0),
        (100.0, 0.0, 100.0, "left", None),
        (0.0, 0.0, None, None, None),
    ],
)
def test_imbalance_is_relative_to_the_stronger_leg(left, right, pct, stronger, ratio) -> None:
    imbalance = Imbalance.of(left, right)
    assert imbalance.pct == (None if pct is None else pytest.approx(pct))
    assert imbalance.stronger == stronger
    assert imbalance.l_r_ratio == (None if ratio is None else pytest.approx(ratio))


def test_session_max_and_avg_and_their_imbalances() -> None:
    session = Session(
        reps=[(4.0, 300.0, 250.0), (16.0, 320.0, 240.0), (28.0, 280.0, 260.0)], duration=36.0
    )
    result = run(session, body_mass_kg=80.0, lever_arm_m=0.4)
    s = result.summary
    lefts = [r.left.peak_force_n for r in result.reps]
    rights = [r.right.peak_force_n for r in result.reps]
    assert s.left.max_force_n == max(lefts) and s.left.max_rep == 2
    assert s.left.avg_force_n == pytest.approx(np.mean(lefts))
    assert s.right.max_force_n == max(rights) and s.right.max_rep == 3
    assert s.imbalance_max.pct == pytest.approx(100 * (max(lefts) - max(rights)) / max(lefts))
    assert s.imbalance_avg.pct == pytest.approx(
        100 * (np.mean(lefts) - np.mean(rights)) / np.mean(lefts)
    )
    assert s.imbalance_max.stronger == s.imbalance_avg.stronger == "left"
    assert s.left.relative_max_force_n_per_kg == pytest.approx(max(lefts) / 80.0)
    assert s.right.max_torque_nm == pytest.approx(max(rights) * 0.4)
    assert result.reps[0].left.peak_torque_nm == pytest.approx(lefts[0] * 0.4)


def test_a_saturated_peak_is_flagged_never_silently_reported() -> None:
    session = Session(reps=[(4.0, 300.0, 250.0), (16.0, 320.0, 240.0)], duration=26.0)
    counts = session.counts()
    top = (1 << 23) - 1
    counts[int(17.0 * session.rate) : int(18.0 * session.rate), 0] = top  # left rep 2 clipped
    result = analyze_arrays(session.index, counts, None, session.rate, 24, (0.0005, 0.0004))
    assert "saturated" not in result.reps[0].flags
    assert "saturated" in result.reps[1].flags
    assert result.reps[1].left.saturated and not result.reps[1].right.saturated
    assert {"saturated", "saturated_samples"} <= set(result.flags)
    assert result.to_dict()["stream"]["saturated_samples"]["left"] == session.rate
    # Device flags count too, even below the ADC limit.
    flags = np.zeros(len(counts), np.uint8)
    flags[int(5.0 * session.rate)] = 0x02
    flagged = analyze_arrays(
        session.index, session.counts(), flags, session.rate, 24, (0.0005, 0.0004)
    )
    assert "saturated" in flagged.reps[0].flags and flagged.reps[0].right.saturated


def test_a_peak_beyond_the_calibrated_range_is_flagged() -> None:
    session = Session(reps=[(4.0, 300.0, 250.0)], duration=12.0)
    calibration = ChannelCalibration((0.0005, 0.0004), max_force_n=(280.0, 400.0))
    result = analyze(AnalysisInput(session.index, session.counts(), session.rate), calibration)
    assert result.reps[0].left.beyond_calibrated_range
    assert not result.reps[0].right.beyond_calibrated_range
    assert "beyond_calibrated_range" in result.flags
