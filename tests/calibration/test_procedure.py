"""The calibration state machine driven by a synthetic rig, as the CLI and the wizard drive it."""

from __future__ import annotations

import pytest

from calibration.errors import CalibrationError
from calibration.fit import fit_points
from calibration.procedure import Phase, Procedure, parse_channels, parse_masses, plan_steps
from calibration.settle import SettleConfig
from tests.calibration.synth import COUNTS_PER_N, OFFSETS, SynthRig


def run_until(proc, rig, seconds, stop=lambda events: False):
    """Feed the rig's readings in 0.1 s blocks; return all events."""
    events = []
    for _ in range(int(seconds * 10)):
        t, counts = rig.read(0.1)
        new = proc.feed(t, counts)
        events += new
        if stop(new):
            break
    return events


def operate(proc, rig, hang_delay_s=0.3):
    """An operator who does what each step says, then accepts."""
    kinds = []
    while not proc.finished:
        step = proc.step
        rig.set_mass(step.channel, step.mass_kg)
        kinds += [e.kind for e in run_until(proc, rig, hang_delay_s)]
        assert proc.phase is Phase.WAITING
        proc.accept()
        events = run_until(
            proc,
            rig,
            30,
            stop=lambda ev: (
                any(e.kind in ("settled", "done") for e in ev) or proc.phase is Phase.PROBLEM
            ),
        )
        kinds += [e.kind for e in events]
        assert proc.phase is not Phase.PROBLEM, proc.instruction
    return kinds


def test_plan_zero_ascending_descending_per_channel():
    steps = plan_steps("0,10,20", "left,right", repeat=True)
    left = [(s.mass_kg, s.direction, s.run) for s in steps if s.channel == "left"]
    assert left == [
        (0, "up", 1),
        (10, "up", 1),
        (20, "up", 1),
        (10, "down", 1),
        (0, "down", 1),
        (0, "up", 2),
        (10, "up", 2),
        (20, "up", 2),
        (10, "down", 2),
        (0, "down", 2),
    ]
    assert [s.channel for s in steps[:10]] == ["left"] * 10
    assert [s.index for s in steps] == list(range(20))


def test_zero_is_added_when_the_masses_leave_it_out():
    assert parse_masses("10, 20") == [0.0, 10.0, 20.0]
    assert [s.mass_kg for s in plan_steps([20, 10], "left", descending=False)] == [0, 10, 20]


@pytest.mark.parametrize(
    ("masses", "words"),
    [
        ("0,10", "too few masses"),
        ("0,10,10", "listed twice"),
        ("0,-5,10", "negative"),
        ("0,ten,20", "not a number"),
        ("0,nan,20", "finite"),
    ],
)
def test_bad_mass_lists(masses, words):
    with pytest.raises(CalibrationError, match=words):
        parse_masses(masses)


def test_bad_channels():
    with pytest.raises(CalibrationError, match="not left or right"):
        parse_channels("left,middle")
    assert parse_channels("right,left") == ["left", "right"]


def test_full_procedure_recovers_the_rig_scale():
    rig = SynthRig()
    proc = Procedure("0,10,20,30", "left,right")
    kinds = operate(proc, rig)
    assert proc.phase is Phase.DONE
    assert kinds.count("settled") == len(proc.steps) == 14
    assert "load_detected" in kinds
    fits = fit_points(proc.points)
    for ch, name in enumerate(("left", "right")):
        # within 0.1 %: what is left of a mass coming to rest when its reading passes as settled
        assert fits[name].gain_n_per_count == pytest.approx(1 / COUNTS_PER_N[ch], rel=1e-3)
        assert fits[name].offset_counts == pytest.approx(OFFSETS[ch], abs=800)
        assert fits[name].hysteresis_pct is not None and fits[name].hysteresis_pct < 0.2
    assert all(p.settled for p in proc.points)
    assert proc.step is None and proc.instruction == "Calibration readings complete."


def test_accept_before_hanging_waits_for_the_load():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left", descending=False)
    proc.accept()  # zero: nothing hangs
    run_until(proc, rig, 3, stop=lambda ev: any(e.kind == "settled" for e in ev))
    assert proc.step.mass_kg == 10
    proc.accept()  # too early: the operator has not hung the mass yet
    run_until(proc, rig, 2)
    assert proc.phase is Phase.SETTLING
    assert proc.reading.status == "no_change"
    rig.set_mass("left", 10)
    events = run_until(proc, rig, 3, stop=lambda ev: any(e.kind == "settled" for e in ev))
    settled = [e for e in events if e.kind == "settled"]
    assert settled and settled[0].point.mass_kg == 10
    expected = OFFSETS[0] + 10 * 9.80665 * COUNTS_PER_N[0]
    # the tail of the mass coming to rest may still be in the window, within the settle limits
    assert settled[0].point.counts == pytest.approx(expected, abs=proc.config.max_spread_counts / 2)


def test_load_removed_too_early_then_retry():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left", descending=False)
    proc.accept()
    run_until(proc, rig, 3, stop=lambda ev: any(e.kind == "settled" for e in ev))
    rig.set_mass("left", 10)
    run_until(proc, rig, 0.3)
    proc.accept()
    run_until(proc, rig, 0.4)
    rig.set_mass("left", 0)  # taken off before the reading settled
    events = run_until(proc, rig, 2, stop=lambda ev: proc.phase is Phase.PROBLEM)
    assert [e.kind for e in events][-1] == "removed_early"
    assert proc.phase is Phase.PROBLEM
    assert "Retry" in proc.instruction
    assert len(proc.points) == 1
    rig.set_mass("left", 10)
    run_until(proc, rig, 0.5)
    assert [e.kind for e in proc.retry()] == ["retry"]
    events = run_until(proc, rig, 3, stop=lambda ev: any(e.kind == "settled" for e in ev))
    assert any(e.kind == "settled" for e in events)
    assert proc.points[-1].mass_kg == 10


def test_too_noisy_times_out_then_accept_anyway_marks_the_point():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left", descending=False, timeout_s=3)
    rig.extra_noise[0] = 3000  # someone leaning on the rig
    proc.accept()
    events = run_until(proc, rig, 5, stop=lambda ev: proc.phase is Phase.PROBLEM)
    assert events[-1].kind == "noisy"
    assert "not settled after 3 s" in events[-1].message and "too noisy" in events[-1].message
    events = proc.accept()
    assert [e.kind for e in events] == ["accepted_unsettled"]
    assert proc.points[0].settled is False
    assert proc.points[0].to_dict()["accepted_unsettled"] is True
    assert proc.phase is Phase.WAITING and proc.step.mass_kg == 10


def test_creeping_is_named():
    rig = SynthRig(settle_tau_s=30.0)  # a chain that takes ages to stretch
    proc = Procedure("0,10,20", "left", descending=False, timeout_s=3)
    proc.accept()
    run_until(proc, rig, 3, stop=lambda ev: any(e.kind == "settled" for e in ev))
    rig.set_mass("left", 10)
    proc.accept()
    events = run_until(proc, rig, 6, stop=lambda ev: proc.phase is Phase.PROBLEM)
    assert events[-1].kind == "creeping"


def test_no_readings_times_out_as_no_data():
    proc = Procedure("0,10,20", "left", descending=False, timeout_s=2)
    proc.accept()
    # samples arrive far apart (a stalled rig): never a full window
    events = []
    for i in range(10):
        events += proc.feed([i * 1.5], [81234.0])
    assert events[-1].kind == "no_data"


def test_skip_and_abort():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left,right")
    assert [e.kind for e in proc.skip()] == ["skipped"]
    assert proc.step.mass_kg == 10 and proc.phase is Phase.WAITING
    events = proc.abort()
    assert [e.kind for e in events] == ["aborted"]
    assert proc.finished and proc.step is None
    assert proc.feed(*rig.read(0.1)) == []
    assert proc.accept() == [] and proc.skip() == [] and proc.retry() == []


def test_actions_that_do_not_apply_do_nothing():
    proc = Procedure("0,10,20", "left")
    assert proc.retry() == []  # nothing to retry while waiting
    proc.accept()
    assert proc.accept() == []  # already measuring: no forcing before a problem
    assert proc.phase is Phase.SETTLING


def test_repeat_run_gives_repeatability():
    rig = SynthRig(seed=3)
    proc = Procedure("0,10,20", "left", repeat=True)
    operate(proc, rig)
    fit = fit_points(proc.points)["left"]
    assert {p.run for p in proc.points} == {1, 2}
    assert fit.repeatability_pct is not None and fit.repeatability_pct < 0.2


def test_an_unexpected_jump_while_measuring_is_reported_in_kilograms():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left", descending=False)
    proc.accept()
    run_until(proc, rig, 3, stop=lambda ev: any(e.kind == "settled" for e in ev))
    rig.set_mass("left", 10)
    run_until(proc, rig, 0.5)
    proc.accept()
    run_until(proc, rig, 3, stop=lambda ev: any(e.kind == "settled" for e in ev))
    rig.set_mass("left", 20)
    run_until(proc, rig, 2.0)
    proc.accept()
    run_until(proc, rig, 0.6)
    rig.set_mass("left", 21)  # someone adds a plate while it is being read
    events = run_until(proc, rig, 4, stop=lambda ev: proc.phase is Phase.PROBLEM)
    kinds = [e.kind for e in events]
    assert kinds == ["jump", "jump"]
    assert "jumped by" in events[0].message and "kg) or more" in events[0].message
    # it settled a kilogram higher: not recorded as 20 kg without the operator's word
    assert "settled +" in events[1].message and "(about +1.0" in events[1].message
    assert "check that 20 kg hangs on the left hook" in events[1].message
    assert len(proc.points) == 2
    rig.set_mass("left", 20)  # the operator takes the extra plate off and retries
    run_until(proc, rig, 1)
    proc.retry()
    events = run_until(proc, rig, 4, stop=lambda ev: any(e.kind == "settled" for e in ev))
    assert proc.points[-1].counts == pytest.approx(
        OFFSETS[0] + 20 * 9.80665 * COUNTS_PER_N[0], abs=proc.config.max_spread_counts / 2
    )


def test_a_bump_that_settles_back_is_just_measured_again():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left", descending=False)
    proc.accept()
    run_until(proc, rig, 3, stop=lambda ev: any(e.kind == "settled" for e in ev))
    rig.set_mass("left", 10)
    run_until(proc, rig, 1.0)
    proc.accept()
    run_until(proc, rig, 0.6)
    rig.set_mass("left", 11)  # a knock on the hook ...
    events = run_until(proc, rig, 0.4)
    rig.set_mass("left", 10)  # ... that passes
    events += run_until(proc, rig, 5, stop=lambda ev: any(e.kind == "settled" for e in ev))
    assert "jump" in [e.kind for e in events]
    assert proc.phase is Phase.WAITING
    assert events[-1].kind == "settled" and proc.points[-1].mass_kg == 10


def test_timeout_must_leave_room_for_the_window_and_the_dwell():
    with pytest.raises(CalibrationError, match="must be longer than the settle window"):
        Procedure("0,10,20", "left", config=SettleConfig(min_dwell_s=5.0), timeout_s=5.0)


def test_a_dwell_delays_the_reading():
    rig = SynthRig()
    proc = Procedure("0,10,20", "left", config=SettleConfig(min_dwell_s=3.0), timeout_s=4.0)
    proc.accept()
    start = rig.t
    events = run_until(proc, rig, 5, stop=lambda ev: proc.phase is not Phase.SETTLING)
    assert [e.kind for e in events] == ["settled"]
    assert 3.0 <= rig.t - start <= 3.3
