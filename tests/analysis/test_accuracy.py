"""Accuracy against the virtual rig's ground truth, through the real path:
rig bytes -> decoder -> analysis, converted with the rig's true certificate.

Tolerances are the station's claims (1.5 % peak force, 1 percentage point
imbalance, exact rep count); they are not loosened to fit.
"""

from __future__ import annotations

import pytest

from firmware_bridge.virtual_rig import Athlete
from tests.analysis.helpers import rig_session

RATES = (50.0, 80.0, 400.0, 1000.0, 2000.0)


def _matched(run):
    """Pairs (detected rep, true rep) in time order; the counts must agree first."""
    truth = run.rig.rep_windows()
    reps = run.result.reps
    assert len(reps) == len(truth), (len(reps), [r.start_s for r in reps])
    for rep, true in zip(reps, truth, strict=True):
        # The detected window holds the true peaks.
        assert rep.start_s <= min(true.peak_s) and max(true.peak_s) <= rep.end_s
    return list(zip(reps, truth, strict=True))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("seed", [1, 7])
def test_peak_force_and_imbalance_match_the_model(rate: float, seed: int) -> None:
    run = rig_session(rate, seed=seed)
    assert run.result.zero.source == "quiet_start"
    for rep, true in _matched(run):
        for leg, k in (("left", 0), ("right", 1)):
            measured = rep.leg(leg).peak_force_n
            assert measured == pytest.approx(true.peak_n[k], rel=0.015), (leg, rep.number)
        assert rep.imbalance.pct == pytest.approx(true.imbalance_pct, abs=1.0)
        assert rep.imbalance.stronger == true.stronger
    left_max = max(t.peak_n[0] for t in run.rig.rep_windows())
    assert run.result.summary.left.max_force_n == pytest.approx(left_max, rel=0.015)


@pytest.mark.parametrize("rate", RATES)
def test_rep_count_is_exact_with_one_leg_pulls_and_blips(rate: float) -> None:
    run = rig_session(rate, seed=3)
    kinds = {d.kind for d in run.rig.model.athlete.distractors}
    assert kinds == {"one_leg_pull", "blip"}
    assert len(run.result.reps) == run.rig.model.athlete.reps == 3
    reasons = sorted(p.reason for p in run.result.ignored)
    assert reasons == ["one_leg", "too_short"]
    assert "pulls_ignored" in run.result.flags


def test_early_rehab_reps_around_80_n_are_found_and_measured() -> None:
    athlete = Athlete(left_peak_n=85.0, right_peak_n=75.0, tremor_n=1.0).with_rest_distractors(
        one_leg_force_n=70.0, blip_force_n=40.0
    )
    run = rig_session(80.0, athlete=athlete, seed=2)
    for rep, true in _matched(run):
        assert rep.left.peak_force_n == pytest.approx(true.peak_n[0], rel=0.03)
        assert rep.right.peak_force_n == pytest.approx(true.peak_n[1], rel=0.03)


@pytest.mark.parametrize("rate", [10.0, 20.0])
def test_slow_rigs_find_every_rep_and_say_what_they_cannot_do(rate: float) -> None:
    run = rig_session(rate, seed=4)
    _matched(run)
    flags = run.result.flags
    assert "cutoff_lowered" in flags and "rfd_unavailable" in flags
    assert run.result.cutoff_hz < rate / 2
    assert all(r.left.rfd_n_per_s is None for r in run.result.reps)


FAULTS_IN_RESTS = (
    # (fault spec, counter changes it must cause) - all in rests, far from any rep
    ("drop:12s:3", {"dropped_samples": 12}),
    ("overrun:30s:40", {"dropped_samples": 40, "overrun_events": 1}),
    ("garbage:16s", {"frames_corrupt": 1}),
    ("bitflip:35s", {"frames_corrupt": 1, "dropped_samples": 4}),
)


@pytest.mark.parametrize(("fault", "changes"), FAULTS_IN_RESTS)
def test_faults_outside_reps_change_the_counters_exactly_and_no_peak(
    fault: str, changes: dict[str, int]
) -> None:
    clean = rig_session(80.0, seed=5)
    faulty = rig_session(80.0, seed=5, faults=(fault,))
    before = clean.stream.counters.to_dict()
    after = faulty.stream.counters.to_dict()
    for name in ("dropped_samples", "frames_corrupt", "overrun_events", "frames_unknown"):
        assert after[name] - before[name] == changes.get(name, 0), name
    stream_json = faulty.result.to_dict()["stream"]
    assert stream_json["dropped_samples"] == after["dropped_samples"]
    assert stream_json["frames_corrupt"] == after["frames_corrupt"]
    assert len(faulty.result.reps) == len(clean.result.reps) == 3
    for a, b in zip(clean.result.reps, faulty.result.reps, strict=True):
        assert b.left.peak_force_n == pytest.approx(a.left.peak_force_n, abs=0.01)
        assert b.right.peak_force_n == pytest.approx(a.right.peak_force_n, abs=0.01)
        assert "samples_dropped_in_rep" not in b.flags
    if changes.get("dropped_samples"):
        assert "samples_dropped" in faulty.result.flags
    if changes.get("frames_corrupt"):
        assert "corrupt_data" in faulty.result.flags


def test_samples_dropped_inside_a_rep_are_flagged_and_the_rep_kept() -> None:
    clean = rig_session(80.0, seed=5)
    rep2 = clean.rig.rep_windows()[1]
    at = rep2.start_s + 1.0  # during the rise of rep 2
    faulty = rig_session(80.0, seed=5, faults=(f"drop:{at:.2f}s:2",))
    assert len(faulty.result.reps) == 3
    assert "samples_dropped_in_rep" in faulty.result.reps[1].flags
    assert "samples_dropped_in_rep" not in faulty.result.reps[0].flags
    assert faulty.result.reps[1].left.peak_force_n == pytest.approx(rep2.peak_n[0], rel=0.015)


def test_adc_fault_inside_a_rep_flags_that_rep_and_the_result() -> None:
    clean = rig_session(80.0, seed=5)
    rep2 = clean.rig.rep_windows()[1]
    at = rep2.start_s + 1.0  # during the rise of rep 2
    faulty = rig_session(80.0, seed=5, faults=(f"adcfault:{at:.2f}s:0.5",))
    assert [r.code for r in faulty.stream.events].count(5) == 1  # one EVENT FAULT
    assert "adc_fault" in faulty.result.flags
    assert len(faulty.result.reps) == 3
    assert ["adc_fault" in r.flags for r in faulty.result.reps] == [False, True, False]
    for a, b in zip(clean.result.reps, faulty.result.reps, strict=True):
        assert b.left.peak_force_n == pytest.approx(a.left.peak_force_n, abs=0.01)


def test_adc_fault_outside_the_reps_flags_the_result_but_no_rep_and_no_peak() -> None:
    clean = rig_session(80.0, seed=5)
    faulty = rig_session(80.0, seed=5, faults=("adcfault:12s:1",))
    assert "adc_fault" in faulty.result.flags and "adc_fault" not in clean.result.flags
    before, after = clean.stream.counters.to_dict(), faulty.stream.counters.to_dict()
    for name in ("dropped_samples", "frames_corrupt", "overrun_events", "samples"):
        assert after.get(name) == before.get(name), name
    assert after["frames_ok"] == before["frames_ok"] + 1  # the EVENT FAULT
    rests = all(not (t.start_s <= 13.0 and t.end_s >= 12.0) for t in clean.rig.rep_windows())
    assert rests  # the fault really is outside every rep
    assert len(faulty.result.reps) == len(clean.result.reps) == 3
    for a, b in zip(clean.result.reps, faulty.result.reps, strict=True):
        assert "adc_fault" not in b.flags
        assert b.left.peak_force_n == pytest.approx(a.left.peak_force_n, abs=0.01)
        assert b.right.peak_force_n == pytest.approx(a.right.peak_force_n, abs=0.01)
