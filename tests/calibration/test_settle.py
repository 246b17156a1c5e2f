"""Settle detection on synthetic signals: noise, creep, jumps and a load removed too early."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.settle import SettleConfig, SettleDetector, Stability
from tests.calibration.synth import join, segment

ZERO = 81234.0
LOADED = ZERO + 400_000.0  # about 20 kg


def feed_blocks(detector, t, c, block=8):
    statuses = []
    for i in range(0, len(t), block):
        statuses.append(detector.feed(t[i : i + block], c[i : i + block]).status)
    return statuses


def test_quiet_signal_settles_after_one_window():
    det = SettleDetector()
    t, c = segment(0.0, 0.5, ZERO)
    assert det.feed(t, c).status is Stability.COLLECTING
    t, c = segment(0.5, 0.6, ZERO, seed=1)
    result = det.feed(t, c)
    assert result.status is Stability.SETTLED
    assert result.mean_counts == pytest.approx(ZERO, abs=15)
    assert 30 < result.spread_counts < 50  # the 40-count noise
    assert result.covered_s == pytest.approx(1.0, abs=0.02)


def test_noisy_signal_is_reported_as_too_noisy():
    det = SettleDetector()
    t, c = segment(0.0, 2.0, ZERO, noise=2000)
    result = det.feed(t, c)
    assert result.status is Stability.NOISY
    assert "too noisy" in result.message and "limit 800" in result.message


def test_creeping_signal_is_reported_as_creeping():
    det = SettleDetector()
    t, c = segment(0.0, 2.0, ZERO, noise=30, slope=3000.0)
    result = det.feed(t, c)
    assert result.status is Stability.CREEPING
    assert result.slope_counts_per_s == pytest.approx(3000, rel=0.05)
    assert "creeping" in result.message


def test_slow_creep_within_the_limit_still_settles():
    det = SettleDetector()
    t, c = segment(0.0, 2.0, ZERO, noise=30, slope=30.0)
    assert det.feed(t, c).status is Stability.SETTLED


def test_creep_is_caught_as_far_as_the_noise_allows():
    # 300 counts/s: plain to see on a quiet rig, lost in the noise of a noisy one
    quiet = SettleDetector().feed(*segment(0.0, 2.0, ZERO, noise=30, slope=300.0))
    assert quiet.status is Stability.CREEPING
    assert quiet.slope_limit == pytest.approx(50.0)
    noisy = SettleDetector().feed(*segment(0.0, 2.0, ZERO, noise=629, slope=300.0))
    assert noisy.status is Stability.SETTLED
    # three standard errors of the slope of 81 samples over one second
    assert noisy.slope_limit == pytest.approx(3 * 629 * np.sqrt(12 / 81) / 1.0, rel=0.15)


def test_rig_noise_of_a_third_of_a_newton_settles():
    # the virtual rig's 0.3 N rms at 0.000477 N/count is 629 counts: under the floor
    det = SettleDetector()
    t, c = segment(0.0, 30.0, ZERO, noise=629)
    statuses = feed_blocks(det, t, c)
    settled_share = statuses.count(Stability.SETTLED) / len(statuses[10:])
    assert settled_share > 0.99


def test_relative_limits_grow_with_the_load():
    cfg = SettleConfig()
    det = SettleDetector(cfg, zero_counts=ZERO)
    # 2.4M counts of load: spread limit 0.05 % = 1200 counts, above the 800 floor
    spread_limit, slope_limit = det.limits(ZERO + 2_400_000)
    assert spread_limit == pytest.approx(1200.0)
    assert slope_limit == pytest.approx(1200.0)
    assert det.limits(ZERO + 1000) == (800.0, 50.0)
    t, c = segment(0.0, 2.0, ZERO + 2_400_000, noise=1000)
    assert det.feed(t, c).status is Stability.SETTLED
    # the same noise at zero load is too much
    det_zero = SettleDetector(cfg, zero_counts=ZERO)
    t, c = segment(0.0, 2.0, ZERO, noise=1000)
    assert det_zero.feed(t, c).status is Stability.NOISY


def test_load_removed_too_early():
    det = SettleDetector(zero_counts=ZERO, previous_counts=ZERO, expect_change=True)
    t, c = join(
        segment(0.0, 0.2, ZERO), segment(0.2, 0.5, LOADED, seed=2), segment(0.7, 0.6, ZERO, seed=3)
    )
    statuses = feed_blocks(det, t, c)
    assert det.departed
    assert Stability.REMOVED_EARLY in statuses
    assert Stability.SETTLED not in statuses
    assert "went back toward the previous level" in det.assessment.message


def test_no_change_while_the_load_is_not_yet_hung():
    det = SettleDetector(zero_counts=ZERO, previous_counts=ZERO, expect_change=True)
    t, c = segment(0.0, 1.5, ZERO)
    assert det.feed(t, c).status is Stability.NO_CHANGE
    t, c = segment(1.5, 1.2, LOADED, seed=4)
    result = det.feed(t, c)
    assert result.status is Stability.SETTLED
    assert result.mean_counts == pytest.approx(LOADED, abs=20)


def test_unexpected_jump_is_reported_and_measuring_restarts():
    det = SettleDetector(zero_counts=ZERO)
    t, c = join(segment(0.0, 0.6, LOADED), segment(0.6, 0.4, LOADED + 20_000, seed=5))
    statuses = feed_blocks(det, t, c)
    assert Stability.JUMP in statuses
    jumps = [s for s in statuses if s is Stability.JUMP]
    assert len(jumps) == 1
    # after the jump the window starts again: a second later it settles at the new level
    t, c = segment(1.0, 1.0, LOADED + 20_000, seed=6)
    result = det.feed(t, c)
    assert result.status is Stability.SETTLED
    assert result.mean_counts == pytest.approx(LOADED + 20_000, abs=20)
    assert det.assessment.jump_counts is None


def test_limits_scale_with_adc_resolution():
    cfg = SettleConfig().for_adc_bits(16)
    assert cfg.max_spread_counts == pytest.approx(800 / 256)
    assert cfg.max_slope_counts_per_s == pytest.approx(50 / 256)
    assert cfg.max_spread_rel == SettleConfig().max_spread_rel


def test_a_single_spike_is_not_a_jump():
    det = SettleDetector(zero_counts=ZERO)
    t, c = segment(0.0, 1.5, LOADED)
    c[60] += 50_000
    statuses = feed_blocks(det, t, c)
    assert Stability.JUMP not in statuses
    # It is seen (as spread while it is in the window), then the level it sits on settles.
    assert Stability.NOISY in statuses
    t, c = segment(1.5, 1.2, LOADED, seed=3)
    result = det.feed(t, c)
    assert result.status is Stability.SETTLED
    assert result.mean_counts == pytest.approx(LOADED, abs=20)


def test_device_clock_restart_clears_the_window():
    det = SettleDetector()
    t, c = segment(5.0, 1.2, ZERO)
    assert det.feed(t, c).status is Stability.SETTLED
    t, c = segment(0.0, 0.3, ZERO, seed=7)
    assert det.feed(t, c).status is Stability.COLLECTING


def test_restart_ignores_samples_up_to_the_given_time():
    det = SettleDetector()
    t, c = segment(0.0, 2.0, ZERO)
    det.restart(after_t_s=1.5)
    result = det.feed(t, c)
    assert result.status is Stability.COLLECTING
    assert result.samples == int(np.sum(t > 1.5))


def test_mismatched_lengths_are_a_programming_error():
    with pytest.raises(ValueError, match="timestamps"):
        SettleDetector().feed(np.arange(3.0), np.arange(4.0))


def test_minimum_dwell_holds_a_steady_reading_back():
    det = SettleDetector(
        SettleConfig(min_dwell_s=3.0), zero_counts=ZERO, previous_counts=ZERO, expect_change=True
    )
    t, c = join(segment(0.0, 0.3, ZERO), segment(0.3, 2.0, LOADED, seed=8))
    statuses = feed_blocks(det, t, c)
    assert Stability.SETTLED not in statuses
    assert "letting the load rest" in det.assessment.message
    t, c = segment(2.3, 1.2, LOADED, seed=9)
    statuses = feed_blocks(det, t, c)
    assert statuses[-1] is Stability.SETTLED
    # the first settled assessment comes 3 s after the load arrived (at 0.3 s)
    first = next(i for i, s in enumerate(statuses) if s is Stability.SETTLED)
    assert t[min(first * 8 + 7, len(t) - 1)] >= 3.3 - 0.1
