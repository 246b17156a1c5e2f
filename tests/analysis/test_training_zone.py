"""Training mode's live zone: hysteresis, reps, time and impulse in zone per leg, known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from station.analysis import LiveProcessor
from station.analysis.training import TargetZone, ZoneError, ZoneTracker, hold


def trapezoid(t: np.ndarray, t0: float, rise: float, plateau: float, fall: float, peak: float):
    knots = [t0, t0 + rise, t0 + rise + plateau, t0 + rise + plateau + fall]
    return np.interp(t, knots, [0.0, peak, peak, 0.0], left=0.0, right=0.0)


def expected(rise: float, plateau: float, fall: float, peak: float, low: float, h: float):
    """Time and impulse in zone of one trapezoid whose plateau is inside [low, high]: in
    from the rise crossing ``low`` to the fall crossing ``low - h``."""
    out = low - h
    time = rise * (peak - low) / peak + plateau + fall * (peak - out) / peak
    impulse = (
        rise * (peak**2 - low**2) / (2 * peak)
        + peak * plateau
        + fall * (peak**2 - out**2) / (2 * peak)
    )
    return time, impulse


def feed(tracker: ZoneTracker, forces: np.ndarray, block: int, first: int = 0):
    updates = []
    for a in range(0, len(forces), block):
        updates.append(tracker.process(forces[a : a + block], first + a))
    return updates


@pytest.mark.parametrize("rate", [50.0, 400.0, 1000.0])
@pytest.mark.parametrize("block", [1, 7, 20, 333])
def test_trapezoid_gives_the_known_time_and_impulse_in_zone(rate: float, block: int) -> None:
    t = np.arange(0, 8, 1 / rate)
    left = trapezoid(t, 1.0, 1.0, 2.0, 1.5, 200.0)
    right = trapezoid(t, 1.2, 0.8, 1.0, 1.0, 120.0)  # never reaches the zone
    tracker = ZoneTracker(TargetZone.in_newtons(150, 250, hysteresis_n=3.0), rate)
    feed(tracker, np.stack([left, right], 1), block)
    time, impulse = expected(1.0, 2.0, 1.5, 200.0, 150.0, 3.0)
    fig_l, fig_r = tracker.figures
    # Rectangle rule on samples: within two sample periods at the two crossings.
    assert fig_l.time_in_zone_s == pytest.approx(time, abs=2 / rate)
    assert fig_l.impulse_in_zone_ns == pytest.approx(impulse, abs=2 * 200.0 / rate)
    assert (fig_l.reps, fig_l.reps_in_zone) == (1, 1)
    assert (fig_r.reps, fig_r.reps_in_zone, fig_r.time_in_zone_s, fig_r.impulse_in_zone_ns) == (
        1,
        0,
        0.0,
        0.0,
    )
    assert tracker.state == (False, False)
    peaks = {(r.leg, r.number): (r.peak_n, r.in_zone) for r in tracker.reps}
    assert peaks == {(0, 1): (pytest.approx(200.0), True), (1, 1): (pytest.approx(120.0), False)}


def test_block_size_changes_nothing() -> None:
    rate = 200.0
    t = np.arange(0, 20, 1 / rate)
    rng = np.random.default_rng(4)
    f = sum(trapezoid(t, 1 + 4 * k, 0.7, 1.0, 0.8, 140 + 30 * k) for k in range(4))
    forces = np.stack([f, 0.8 * f], 1) + rng.normal(0, 1.5, (len(t), 2))
    results = []
    for block in (1, 5, 64, 4000):
        tracker = ZoneTracker(TargetZone.in_newtons(150, 200), rate)
        ups = feed(tracker, forces, block)
        zones = np.concatenate([u.in_zone for u in ups])
        results.append((tracker.summary(), [r.__dict__ for r in tracker.reps], zones))
    for summary, reps, zones in results[1:]:
        assert summary == results[0][0]
        assert reps == results[0][1]
        np.testing.assert_array_equal(zones, results[0][2])


def test_noise_at_the_edge_does_not_flicker() -> None:
    rate = 500.0
    t = np.arange(0, 6, 1 / rate)
    # Ramps up to sit right on the low edge (150 N) with 2 N of 10 Hz wobble, then rests.
    f = np.interp(t, [0, 1, 4, 5], [0, 150, 150, 0]) + 2.0 * np.sin(2 * np.pi * 10 * t) * (
        (t > 1) & (t < 4)
    )
    tracker = ZoneTracker(TargetZone.in_newtons(150, 250, hysteresis_n=3.0), rate)
    ups = feed(tracker, np.stack([f, f], 1), 25)
    assert sum(u.entered[0] for u in ups) == 1  # entered once, never flickered out
    assert tracker.figures[0].reps_in_zone == 1
    # Without hysteresis the same wobble crosses the edge about 30 times.
    bare = ZoneTracker(TargetZone.in_newtons(150, 250, hysteresis_n=0.0), rate)
    assert sum(u.entered[0] for u in feed(bare, np.stack([f, f], 1), 25)) > 20


def test_a_rep_that_overshoots_and_comes_back_counts_once() -> None:
    rate = 100.0
    t = np.arange(0, 12, 1 / rate)
    # Rep 1: into the zone, above it, back into it.  Rep 2: never reaches it.  Rep 3: in.
    rep1 = np.interp(t, [1, 2, 2.5, 3, 3.5, 4.5], [0, 180, 240, 180, 180, 0])
    rep2 = trapezoid(t, 5.5, 0.5, 1.0, 0.5, 100.0)
    rep3 = trapezoid(t, 8.5, 0.5, 1.0, 0.5, 170.0)
    f = rep1 + rep2 + rep3
    tracker = ZoneTracker(TargetZone.in_newtons(150, 200), rate)
    ups = feed(tracker, np.stack([f, np.zeros_like(f)], 1), 10)
    assert sum(u.entered[0] for u in ups) == 3  # rep 1 enters twice
    left, right = tracker.figures
    assert (left.reps, left.reps_in_zone) == (3, 2)
    assert (right.reps, right.reps_in_zone) == (0, 0)
    assert [r.in_zone for r in tracker.reps] == [True, False, True]


def test_each_leg_on_its_own() -> None:
    rate = 80.0
    t = np.arange(0, 10, 1 / rate)
    left = trapezoid(t, 1, 0.5, 1, 0.5, 180) + trapezoid(t, 6, 0.5, 1, 0.5, 180)
    right = trapezoid(t, 3.5, 0.5, 1, 0.5, 180)
    tracker = ZoneTracker(TargetZone.in_newtons(150, 200), rate)
    feed(tracker, np.stack([left, right], 1), 16)
    assert [(r.leg, r.number) for r in tracker.reps] == [(0, 1), (1, 1), (0, 2)]
    assert (tracker.figures[0].reps_in_zone, tracker.figures[1].reps_in_zone) == (2, 1)


def test_state_change_per_block_drives_the_colour() -> None:
    rate = 100.0
    t = np.arange(0, 5, 1 / rate)
    f = trapezoid(t, 1, 1, 1, 1, 200)
    tracker = ZoneTracker(TargetZone.in_newtons(150, 250), rate)
    states = [u.state[0] for u in feed(tracker, np.stack([f, f], 1), 10)]
    changes = sum(a != b for a, b in zip(states, states[1:], strict=False))
    assert changes == 2 and states[0] is False and any(states)


def test_a_gap_ends_a_rep_and_the_zone() -> None:
    rate = 100.0
    tracker = ZoneTracker(TargetZone.in_newtons(100, 200), rate)
    tracker.process(np.full((50, 2), 150.0), 0)
    assert tracker.state == (True, True)
    update = tracker.process(np.full((10, 2), 150.0), 500)  # 450 samples lost
    assert [r.end_s for r in tracker.reps] == [0.49, 0.49]
    assert update.entered == (1, 1)  # the zone is entered afresh after the gap
    assert tracker.figures[0].time_in_zone_s == pytest.approx(0.6)
    assert tracker.figures[0].reps_in_zone == 2


def test_nan_samples_are_out_of_the_zone() -> None:
    tracker = ZoneTracker(TargetZone.in_newtons(100, 200), 10.0)
    f = np.array([150, 150, math.nan, 150, 150], float)
    update = tracker.process(np.stack([f, f], 1), 0)
    assert update.in_zone[:, 0].tolist() == [True, True, False, True, True]
    assert tracker.figures[0].impulse_in_zone_ns == pytest.approx(60.0)


def test_live_filtered_virtual_counts_match_the_true_trapezoid() -> None:
    """Counts through the live processor (causal filter) and then the tracker: the filter's
    lag shifts both crossings alike, so time and impulse stay within 2 %."""
    rate, gain = 400.0, 0.01
    t = np.arange(0, 10, 1 / rate)
    true = trapezoid(t, 2.0, 1.5, 3.0, 1.5, 250.0)
    counts = np.stack([true, 0.9 * true], 1) / gain + 50_000
    proc = LiveProcessor(rate, (gain, gain), (50_000, 50_000))
    tracker = ZoneTracker(TargetZone.in_newtons(180, 300), rate)
    for a in range(0, len(t), 20):
        update = proc.process(counts[a : a + 20], a)
        tracker.process(update.forces_n, a)
    time, impulse = expected(1.5, 3.0, 1.5, 250.0, 180.0, 3.0)
    assert tracker.figures[0].time_in_zone_s == pytest.approx(time, rel=0.02)
    assert tracker.figures[0].impulse_in_zone_ns == pytest.approx(impulse, rel=0.02)
    time_r, impulse_r = expected(1.5, 3.0, 1.5, 225.0, 180.0, 3.0)
    assert tracker.figures[1].time_in_zone_s == pytest.approx(time_r, rel=0.02)
    assert tracker.figures[1].impulse_in_zone_ns == pytest.approx(impulse_r, rel=0.02)


def test_hold_forward_fills_between_thresholds() -> None:
    on = np.array([0, 1, 0, 0, 0, 0], bool)
    off = np.array([0, 0, 0, 1, 0, 0], bool)
    assert hold(on, off, True).tolist() == [True, True, True, False, False, False]
    assert hold(np.zeros(3, bool), np.zeros(3, bool), False).tolist() == [False] * 3


@pytest.mark.parametrize(
    ("low", "high", "words"),
    [(200, 150, "must be below"), (150, 150, "must be below"), (5, 100, "above 10 N")],
)
def test_bad_zones_in_newtons_are_refused(low: float, high: float, words: str) -> None:
    with pytest.raises(ZoneError, match=words) as info:
        TargetZone.in_newtons(low, high)
    assert info.value.hint


def test_percent_zone_needs_a_previous_max_and_is_per_leg() -> None:
    with pytest.raises(ZoneError, match="no previous max"):
        TargetZone.in_percent(60, 80, None)
    with pytest.raises(ZoneError, match="must be below"):
        TargetZone.in_percent(80, 60, (300.0, 250.0))
    zone = TargetZone.in_percent(60, 80, (300.0, 250.0))
    assert zone.low_n == (180.0, 150.0) and zone.high_n == (240.0, 200.0)
    assert zone.describe() == "60–80 % of last max (L 180–240 N · R 150–200 N)"
    assert zone.to_dict()["last_max_n"] == [300.0, 250.0]
    assert TargetZone.in_newtons(150, 200).describe() == "150–200 N"


def test_without_a_zone_it_finds_each_legs_reps_only() -> None:
    """Per-leg live detection on its own (an isometric test's live view needs it)."""
    rate = 200.0
    t = np.arange(0, 12, 1 / rate)
    left = trapezoid(t, 1, 0.2, 1, 0.2, 400) + trapezoid(t, 7, 0.2, 1, 0.2, 350)
    right = trapezoid(t, 4, 0.2, 1, 0.2, 300)
    tracker = ZoneTracker(None, rate)
    ups = feed(tracker, np.stack([left, right], 1), 40)
    assert [(r.leg, r.number, round(r.peak_n)) for r in tracker.reps] == [
        (0, 1, 400),
        (1, 1, 300),
        (0, 2, 350),
    ]
    assert not any(u.in_zone.any() for u in ups)
    assert tracker.summary()["zone"] is None
    assert tracker.figures[0].reps == 2 and tracker.figures[0].reps_in_zone == 0
    # Each rep is reported when its leg is still again (below 10 N), not at its peak.
    first = tracker.reps[0]
    assert first.start_s == pytest.approx(1 + 0.2 * 30 / 400, abs=1 / rate)
    assert first.end_s == pytest.approx(2.2 + 0.2 * (1 - 10 / 400), abs=1 / rate)
