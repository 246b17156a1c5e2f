"""Bilateral rep detection: what counts as a rep, what is ignored, where a rep begins and ends."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis.gaps import find_runs
from station.analysis.reps import detect_reps
from station.analysis.settings import AnalysisSettings
from tests.analysis.helpers import Session, pulse, run

SETTINGS = AnalysisSettings()


def _detect(left: np.ndarray, right: np.ndarray, rate: float, index: np.ndarray | None = None):
    index = np.arange(len(left)) if index is None else index
    return detect_reps(index, find_runs(index), left, right, rate, SETTINGS)


def test_both_legs_together_make_a_rep_and_one_leg_alone_does_not() -> None:
    session = Session(
        reps=[(5.0, 300.0, 250.0), (22.0, 280.0, 260.0)],
        extra=[(14.0, 200.0, 0.0, 0.8, 0.8), (30.0, 0.0, 150.0, 1.0, 0.5)],
        duration=40.0,
    )
    result = run(session)
    assert len(result.reps) == 2
    assert [(p.reason, p.legs) for p in result.ignored] == [
        ("one_leg", "left"),
        ("one_leg", "right"),
    ]
    assert result.ignored[0].left_peak_n == pytest.approx(200.0, abs=2.0)


def test_bumps_shorter_than_half_a_second_are_ignored_and_longer_ones_count() -> None:
    rate = 100.0
    t = np.arange(0, 20, 1 / rate)
    # Flat-topped bilateral bumps: 0.4 s and 0.6 s above the threshold.
    short = ((t >= 5.0) & (t < 5.4)) * 100.0
    longer = ((t >= 12.0) & (t < 12.6)) * 100.0
    force = short + longer
    detection = _detect(force, force, rate)
    assert len(detection.reps) == 1
    assert detection.reps[0].bilateral_s == pytest.approx(0.6)
    assert [p.reason for p in detection.ignored] == ["too_short"]


def test_legs_that_pull_one_after_the_other_are_not_a_rep() -> None:
    rate = 80.0
    t = np.arange(0, 20, 1 / rate)
    left = pulse(t, 5.0, 1.0, 0.5, 200.0)  # below 30 N from 6.37 s, below 10 N from 6.43 s
    right = pulse(t, 6.2, 1.0, 0.5, 200.0)  # above 10 N from 6.34 s, above 30 N from 6.45 s
    detection = _detect(left, right, rate)
    assert detection.reps == []
    assert [(p.reason, p.legs) for p in detection.ignored] == [("not_together", "both")]


def test_a_leg_dipping_below_the_threshold_briefly_does_not_split_a_rep() -> None:
    rate = 100.0
    t = np.arange(0, 20, 1 / rate)
    left = pulse(t, 5.0, 3.0, 0.8, 300.0)
    right = left.copy()
    right[(t > 6.5) & (t < 6.9)] = 20.0  # right leg wobbles below 30 N for 0.4 s
    detection = _detect(left, right, rate)
    assert len(detection.reps) == 1


def test_a_full_relaxation_between_pulls_makes_two_reps() -> None:
    rate = 100.0
    t = np.arange(0, 20, 1 / rate)
    left = pulse(t, 5.0, 1.5, 0.5, 200.0) + pulse(t, 7.2, 1.5, 0.5, 200.0)
    detection = _detect(left, left.copy(), rate)
    assert len(detection.reps) == 2
    first, second = detection.reps
    assert first.stop <= second.start


def test_a_rep_window_runs_from_onset_to_offset_at_the_edge_threshold() -> None:
    rate = 1000.0
    t = np.arange(0, 15, 1 / rate)
    left = pulse(t, 5.0, 2.0, 1.0, 300.0)
    detection = _detect(left, left.copy(), rate)
    (rep,) = detection.reps
    onset = t[rep.start]
    # pulse crosses 10 N at acos(1 - 2 * 10/300) / pi * 2 s after its onset
    expected = 5.0 + np.arccos(1 - 2 * 10 / 300) / np.pi * 2.0
    assert onset == pytest.approx(expected, abs=1.5 / rate)
    assert left[rep.start] >= 10.0 > left[rep.start - 1]
    assert left[rep.stop - 1] >= 10.0 > left[rep.stop]


def test_a_long_gap_splits_and_a_short_one_is_bridged() -> None:
    rate = 100.0
    t = np.arange(0, 20, 1 / rate)
    force = pulse(t, 5.0, 4.0, 2.0, 300.0)  # above 30 N from 5.8 s to 10.8 s
    short_gap = np.ones(len(t), bool)
    short_gap[650:660] = False  # 0.1 s lost mid-rep: still one rep
    index = np.arange(len(t))[short_gap]
    detection = _detect(force[short_gap], force[short_gap], rate, index)
    assert len(detection.reps) == 1
    long_gap = np.ones(len(t), bool)
    long_gap[700:860] = False  # 1.6 s lost: the two sides are separate
    index = np.arange(len(t))[long_gap]
    detection = _detect(force[long_gap], force[long_gap], rate, index)
    assert len(detection.reps) == 2


@pytest.mark.parametrize("rate", [10.0, 80.0, 2000.0])
def test_detection_is_the_same_at_any_rate(rate: float) -> None:
    session = Session(
        rate=rate,
        reps=[(4.0, 90.0, 80.0), (14.0, 350.0, 330.0), (26.0, 85.0, 95.0)],
        extra=[(10.0, 120.0, 0.0, 0.7, 0.7), (21.0, 45.0, 45.0, 0.15, 0.15)],
        duration=34.0,
    )
    result = run(session)
    assert len(result.reps) == 3
    for rep, (onset, _, _) in zip(result.reps, session.reps, strict=True):
        assert onset <= rep.start_s < onset + 1.0
    assert sorted(p.reason for p in result.ignored) == ["one_leg", "too_short"]


def test_no_reps_is_a_flag_not_an_error() -> None:
    result = run(Session(reps=[], duration=10.0))
    assert result.reps == () and "no_reps" in result.flags
    assert result.summary.left.max_force_n is None
    assert result.to_dict()["reps"] == []
