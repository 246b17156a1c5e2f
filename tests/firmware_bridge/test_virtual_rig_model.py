"""The force model, the ADC and the static loads: realistic, deterministic, and with a
ground truth that analysis tests can rely on."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.certificate import parse_certificate
from firmware_bridge.errors import InputError
from firmware_bridge.virtual_rig import (
    STANDARD_GRAVITY,
    Athlete,
    Distractor,
    LoadCellAdc,
    NordicModel,
    StaticLoads,
    VirtualRig,
)


def quiet_athlete(**kwargs: object) -> Athlete:
    """No tremor: the measured force is the true force plus white noise only."""
    return Athlete(**{"tremor_n": 0.0, **kwargs})  # type: ignore[arg-type]


def test_true_force_relates_to_counts_exactly_without_noise_and_tremor() -> None:
    model = NordicModel(quiet_athlete(), seed=5, rate_hz=1000, noise_n=0.0, drift_n_per_s=0.2)
    rig = VirtualRig(model, rate_hz=1000)
    index = np.arange(0, 60_000, 7)
    counts, saturated = rig.expected_counts(index)
    true = model.true_force(index)
    expected = rig.adc.offsets + np.rint(true / rig.adc.gains)
    np.testing.assert_array_equal(counts, expected)
    assert not saturated.any()
    # and the certificate's calibration takes counts back to within half a count
    assert np.abs(rig.adc.force(counts) - true).max() <= rig.adc.gains.max() / 2 + 1e-12


def test_measured_force_is_deterministic_and_independent_of_block_boundaries() -> None:
    a = NordicModel(Athlete(), seed=9, rate_hz=2000)
    b = NordicModel(Athlete(), seed=9, rate_hz=2000)
    whole = a.measured_force(np.arange(20_000))
    pieces = np.concatenate([b.measured_force(np.arange(s, s + 37)) for s in range(0, 20_000, 37)])
    np.testing.assert_array_equal(whole, pieces[:20_000])
    other = NordicModel(Athlete(), seed=10, rate_hz=2000).measured_force(np.arange(20_000))
    assert not np.array_equal(whole, other)


def test_reps_follow_the_schedule_and_the_peaks_are_the_configured_maxima() -> None:
    athlete = Athlete(left_peak_n=300, right_peak_n=240, reps=4, rest_s=10, quiet_start_s=5)
    model = NordicModel(athlete, seed=3, rate_hz=100)
    reps = model.rep_windows()
    assert [r.number for r in reps] == [1, 2, 3, 4]
    assert max(r.left_peak_n for r in reps) == pytest.approx(300)
    assert max(r.right_peak_n for r in reps) == pytest.approx(240)
    assert all(0.5 * 300 <= r.left_peak_n <= 300 for r in reps)
    assert reps[0].start_s >= 5.0
    for rep in reps:
        assert 3.0 <= rep.end_s - rep.start_s <= 6.0  # a Nordic rep: about 3-6 s
    for before, after in zip(reps, reps[1:], strict=False):
        assert after.start_s - before.end_s >= 10 - 1.0  # rests absorb the timing variation


def test_rep_peak_is_the_force_above_the_baseline_at_the_peak() -> None:
    model = NordicModel(Athlete(preload_n=(25, 15)), seed=4, rate_hz=80, drift_n_per_s=0.5)
    for rep in model.rep_windows():
        for leg in (0, 1):
            t = np.array([rep.peak_s[leg]])
            above = model.force_at(t)[0, leg] - model.baseline_at(t)[0, leg]
            assert above == pytest.approx(rep.peak_n[leg], abs=1e-9)
            assert rep.sampled_peak_n[leg] <= rep.peak_n[leg]
            assert rep.sampled_peak_n[leg] == pytest.approx(rep.peak_n[leg], rel=2e-3)
    # the baseline is preload + drift * t
    np.testing.assert_allclose(model.baseline_at(np.array([10.0]))[0], [30.0, 20.0])


def test_sampled_peak_is_the_max_of_the_noiseless_samples_above_baseline() -> None:
    model = NordicModel(quiet_athlete(reps=2), seed=8, rate_hz=10, noise_n=0.0)
    index = np.arange(0, 500)
    above = model.true_force(index) - model.baseline(index)
    for rep in model.rep_windows():
        window = (index >= rep.start_index) & (index < rep.end_index)
        np.testing.assert_allclose(above[window].max(axis=0), rep.sampled_peak_n)


def test_quiet_start_is_preload_only() -> None:
    model = NordicModel(Athlete(quiet_start_s=4.0, preload_n=18.0), seed=1, rate_hz=80)
    index = np.arange(0, 320)  # 0 .. 4 s
    np.testing.assert_allclose(model.true_force(index), 18.0)
    assert model.rep_windows()[0].start_s >= 4.0


def test_peaks_as_low_as_80_newtons() -> None:
    model = NordicModel(Athlete(left_peak_n=80, right_peak_n=85, reps=3), seed=2, rate_hz=80)
    reps = model.rep_windows()
    assert max(r.left_peak_n for r in reps) == pytest.approx(80)
    above = model.true_force(np.arange(4000)) - model.baseline(np.arange(4000))
    assert above[:, 0].max() == pytest.approx(80, rel=2e-3)


def test_with_imbalance_uses_the_metrics_definition() -> None:
    athlete = Athlete.with_imbalance(400, 15, stronger="right")
    assert (athlete.left_peak_n, athlete.right_peak_n) == (340, 400)
    assert athlete.imbalance_pct == pytest.approx(15)


def test_one_leg_pull_and_blip_shapes() -> None:
    athlete = Athlete(reps=3, rest_s=15).with_rest_distractors()
    model = NordicModel(athlete, seed=0, rate_hz=1000, noise_n=0.0)
    pull, blip = athlete.distractors
    assert pull.kind == "one_leg_pull" and blip.kind == "blip"
    t = np.arange(0, 60, 0.001)
    active = model.active_at(t)
    in_pull = (t >= pull.start_s) & (t < pull.end_s)
    assert active[in_pull, 0].max() == pytest.approx(150, rel=1e-3)
    assert active[in_pull, 1].max() == 0
    in_blip = (t >= blip.start_s) & (t < blip.end_s)
    assert blip.duration_s < 0.5
    np.testing.assert_allclose(active[in_blip, 0], active[in_blip, 1])
    assert active[in_blip, 0].max() == pytest.approx(50, rel=1e-3)
    for rep in model.rep_windows():  # both sit in rests
        for d in athlete.distractors:
            assert d.end_s <= rep.start_s or d.start_s >= rep.end_s


def test_distractor_overlapping_a_rep_is_refused() -> None:
    athlete = Athlete(distractors=(Distractor.blip(5.0),))
    with pytest.raises(InputError, match="overlaps rep 1"):
        NordicModel(athlete, seed=0)


def test_tremor_is_8_to_12_hz_while_pulling_and_absent_at_rest() -> None:
    athlete = Athlete(reps=1, tremor_n=3.0, rise_s=4.0, quiet_start_s=2.0)
    model = NordicModel(athlete, seed=6, rate_hz=1000, noise_n=0.0)
    rep = model.rep_windows()[0]
    t = np.arange(rep.onset_s[0] + 1.5, rep.peak_s[0], 0.001)
    tremor = model.tremor_at(t)[:, 0]
    spectrum = np.abs(np.fft.rfft(tremor * np.hanning(len(t))))
    freqs = np.fft.rfftfreq(len(t), 0.001)
    assert 8.0 <= freqs[spectrum.argmax()] <= 12.0
    assert np.abs(tremor).max() <= 3.0 + 1e-9
    assert np.all(model.tremor_at(np.arange(0, 1.9, 0.001)) == 0)


def test_noise_has_the_configured_spread() -> None:
    model = NordicModel(None, seed=1, rate_hz=1000, noise_n=0.5)
    noise = model.measured_force(np.arange(50_000))
    assert noise.std(axis=0) == pytest.approx([0.5, 0.5], rel=0.03)
    assert abs(np.corrcoef(noise.T)[0, 1]) < 0.03


def test_bad_athlete_is_an_input_error() -> None:
    with pytest.raises(InputError, match="athlete left peak must be a number >= 0, not -1"):
        Athlete(left_peak_n=-1)
    with pytest.raises(InputError, match="athlete reps must be a whole number >= 0, not 2.5"):
        Athlete(reps=2.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="overlap"):
        NordicModel(Athlete(rest_s=0.0, timing_variation=0.25), seed=3)


# -- static loads (calibration bench) -------------------------------------------------


def test_static_load_settles_to_mass_times_g_after_ramp_swing_and_creep() -> None:
    loads = StaticLoads()
    loads.set_mass(0, 20.0, at_s=1.0)
    t = np.array([0.5, 1.2, 2.0, 4.0, 30.0])
    force = loads.force_at(t)[:, 0]
    target = 20.0 * STANDARD_GRAVITY
    assert force[0] == 0
    assert 0 < force[1] < target  # being hung on
    assert abs(force[2] - target) > abs(force[3] - target) > abs(force[4] - target)
    assert force[4] == pytest.approx(target, abs=1e-3)
    np.testing.assert_array_equal(loads.force_at(t)[:, 1], 0)


def test_mass_removed_too_early_never_reaches_its_weight() -> None:
    loads = StaticLoads(swing_fraction=0.0)
    loads.set_mass(1, 10.0, at_s=1.0)
    loads.set_mass(1, 0.0, at_s=1.2)
    force = loads.force_at(np.arange(0, 10, 0.01))[:, 1]
    assert force.max() < 10 * STANDARD_GRAVITY * 0.9  # off again halfway through hanging it
    assert force[-1] == pytest.approx(0, abs=1e-3)


def test_live_load_change_on_a_streaming_rig_and_settling_at_the_next_start() -> None:
    model = NordicModel(None, seed=1, rate_hz=80, noise_n=0.0)
    rig = VirtualRig(model, rate_hz=80)
    rig.set_static_load("left", 10.0)  # idle: simply hanging, settled
    np.testing.assert_allclose(rig.true_force(np.array([0]))[0], [10 * STANDARD_GRAVITY, 0])
    rig.capture_bytes(1.0, stop=False)  # streaming at index 80
    rig.set_static_load("right", 5.0)
    force = rig.true_force(np.array([80, 81, 80 * 20]))
    assert force[0, 1] == 0 and 0 < force[1, 1] < 5 * STANDARD_GRAVITY
    assert force[2, 1] == pytest.approx(5 * STANDARD_GRAVITY, abs=1e-3)
    rig.capture_bytes(1.0)  # the next START: the 5 kg is simply hanging
    np.testing.assert_allclose(
        rig.true_force(np.array([0]))[0], np.array([10, 5]) * STANDARD_GRAVITY
    )


def test_static_bench_counts_average_to_the_known_mass() -> None:
    model = NordicModel(None, seed=2, rate_hz=80, noise_n=0.05)
    model.static.set_mass(0, 20.0)
    rig = VirtualRig(model, rate_hz=80)
    counts, _ = rig.expected_counts(np.arange(800))
    force = rig.adc.force(counts).mean(axis=0)
    assert force[0] == pytest.approx(20 * STANDARD_GRAVITY, abs=0.01)
    assert force[1] == pytest.approx(0, abs=0.01)


# -- ADC and certificate ----------------------------------------------------------------


def test_adc_clips_at_24_bit_limits_and_reports_saturation() -> None:
    adc = LoadCellAdc(gain_n_per_count=0.0005, offset_counts=(80_000, -40_000))
    counts, saturated = adc.counts(np.array([[0.0, 0.0], [5000.0, -5000.0], [1.0, -1.0]]))
    np.testing.assert_array_equal(counts[0], [80_000, -40_000])
    np.testing.assert_array_equal(counts[1], [2**23 - 1, -(2**23)])
    np.testing.assert_array_equal(saturated, [[False, False], [True, True], [False, False]])
    assert counts.dtype == np.int32


def test_certificate_matches_the_rig_and_parses() -> None:
    rig = VirtualRig(serial_number="NR-TEST-7")
    data = rig.calibration_certificate(created="2026-01-02T03:04:05Z")
    cert = parse_certificate(data)
    assert data["format"] == "nordic-station.calibration/1"
    assert cert.device_serial == "NR-TEST-7"
    assert cert.gain("left") == rig.adc.gain_n_per_count[0]
    assert cert.gain("right") == rig.adc.gain_n_per_count[1]
    assert (cert.offset("left"), cert.offset("right")) == (80_000, -40_000)
    assert data["created"] == "2026-01-02T03:04:05Z" and data["valid_until"] == "2027-01-02"


def test_bad_adc_is_an_input_error() -> None:
    with pytest.raises(InputError, match="zero"):
        LoadCellAdc(gain_n_per_count=0.0)
    with pytest.raises(InputError, match="range"):
        LoadCellAdc(offset_counts=2**23)
