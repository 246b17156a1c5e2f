"""The live view: causal filter and rep counter, block by block, against the offline analysis."""

from __future__ import annotations

import numpy as np
import pytest

from station.analysis import LiveProcessor
from tests.analysis.helpers import rig_session


def _feed(proc: LiveProcessor, index: np.ndarray, counts: np.ndarray, block: int):
    reps, forces = [], []
    for a in range(0, len(index), block):
        update = proc.process(counts[a : a + block], int(index[a]))
        reps += update.completed
        forces.append(update.forces_n)
        assert update.rep_count == len(reps)
    return reps, np.concatenate(forces)


@pytest.mark.parametrize("rate", [50.0, 80.0, 1000.0])
def test_live_counts_the_same_reps_as_the_offline_analysis(rate: float) -> None:
    run = rig_session(rate, seed=2)
    stream, result = run.stream, run.result
    proc = LiveProcessor(rate, result.calibration.gains, result.zero.counts)
    reps, _ = _feed(proc, stream.index, stream.counts, 20)
    assert len(reps) == len(result.reps) == 3
    for live, offline in zip(reps, result.reps, strict=True):
        assert live.left_peak_n == pytest.approx(offline.left.peak_force_n, rel=0.03)
        assert live.right_peak_n == pytest.approx(offline.right.peak_force_n, rel=0.03)
        assert live.imbalance.stronger == offline.imbalance.stronger
        assert live.start_s == pytest.approx(offline.start_s, abs=0.3)
        # Reported as soon as it ends, not at the end of the recording.
        assert live.end_s < offline.end_s + 0.3


def test_block_size_does_not_change_anything() -> None:
    run = rig_session(400.0, seed=3)
    stream, result = run.stream, run.result
    outputs = []
    for block in (1, 7, 20, 30, 100):
        proc = LiveProcessor(400.0, result.calibration.gains, result.zero.counts)
        reps, forces = _feed(proc, stream.index, stream.counts, block)
        outputs.append(([r.to_dict() for r in reps], forces))
    first_reps, first_forces = outputs[0]
    assert len(first_reps) == 3
    for reps, forces in outputs[1:]:
        assert len(reps) == len(first_reps)
        for a, b in zip(reps, first_reps, strict=True):
            assert (a["number"], a["start_s"], a["end_s"]) == (
                b["number"],
                b["start_s"],
                b["end_s"],
            )
            assert a["left_peak_n"] == pytest.approx(b["left_peak_n"], rel=1e-12)
            assert a["right_peak_n"] == pytest.approx(b["right_peak_n"], rel=1e-12)
        np.testing.assert_allclose(forces, first_forces, rtol=1e-9, atol=1e-9)


def test_a_gap_resets_the_filter_instead_of_smearing() -> None:
    proc = LiveProcessor(100.0, (0.001, 0.001), (0.0, 0.0))
    proc.process(np.zeros((50, 2)), 0)
    update = proc.process(np.full((10, 2), 200_000.0), 80)  # 30 samples lost, then 200 N
    np.testing.assert_allclose(update.forces_n, 200.0)


def test_tare_zeroes_the_recent_counts_without_a_transient() -> None:
    proc = LiveProcessor(100.0, (0.001, 0.002), (0.0, 0.0))
    proc.process(np.full((200, 2), [30_000.0, 10_000.0]), 0)
    zeros = proc.tare()
    assert zeros == (30_000.0, 10_000.0)
    update = proc.process(np.full((20, 2), [30_000.0, 10_000.0]), 200)
    np.testing.assert_allclose(update.forces_n, 0.0, atol=1e-9)


def test_a_one_leg_pull_is_not_counted_live() -> None:
    rate = 100.0
    t = np.arange(0, 10, 1 / rate)
    left = np.where((t > 2) & (t < 4), 200.0, 0.0)
    counts = np.stack([left / 0.001, np.zeros_like(t)], axis=1)
    proc = LiveProcessor(rate, (0.001, 0.001), (0.0, 0.0))
    reps, _ = _feed(proc, np.arange(len(t)), counts, 20)
    assert reps == []


def test_isometric_live_reps_are_per_leg_and_match_the_offline_legs() -> None:
    """Isometric: a one-leg contraction is a live rep with the other leg absent (None,
    never 0), as the offline analysis finds it; the Nordic counter ignores it."""
    from calibration.certificate import parse_certificate
    from firmware_bridge.decoder import decode_bytes
    from firmware_bridge.virtual_rig import VirtualRig
    from firmware_bridge.virtual_rig.ramp import RampContraction, RampModel
    from station.analysis import AnalysisSettings, analyze

    rate = 200.0
    contractions = (
        RampContraction("left", 4.0, 1200.0, 420.0),
        RampContraction("right", 11.0, 1000.0, 380.0),
        RampContraction("left", 18.0, 1500.0, 500.0),
        RampContraction("right", 18.05, 1100.0, 300.0),
    )
    model = RampModel(contractions, seed=5, rate_hz=rate)
    rig = VirtualRig(model, rate_hz=rate, seed=5)
    stream = decode_bytes(rig.capture_bytes(model.session_duration_s()))
    iso = AnalysisSettings(protocol="isometric", knee_angle_deg=30.0)
    offline = analyze(stream, parse_certificate(rig.calibration_certificate(), "rig"), iso)
    gains, zeros = offline.calibration.gains, offline.zero.counts
    reps, _ = _feed(LiveProcessor(rate, gains, zeros, iso), stream.index, stream.counts, 20)
    assert [r.legs for r in offline.reps] == [("left",), ("right",), ("left", "right")]
    assert [(r.left_peak_n is not None, r.right_peak_n is not None) for r in reps] == [
        (True, False),
        (False, True),
        (True, True),
    ]
    for live, rep in zip(reps, offline.reps, strict=True):
        for leg in rep.legs:
            assert getattr(live, f"{leg}_peak_n") == pytest.approx(
                rep.leg(leg).peak_force_n, rel=0.03
            )
    assert reps[0].imbalance.pct is None and reps[2].imbalance.pct is not None
    nordic, _ = _feed(LiveProcessor(rate, gains, zeros), stream.index, stream.counts, 20)
    assert len(nordic) == 1  # only the rep where both legs pull together
