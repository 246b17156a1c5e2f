"""The live view's sample handling: newtons, peaks, reps, tare, restarts and gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.messages import SampleBlock
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station.app.live.live_session import LiveSession, NotStill

GAINS = (0.001, 0.002)
ZEROS = (1000.0, -500.0)


def counts_for(force_n: np.ndarray) -> np.ndarray:
    """(n, 2) newtons to counts with GAINS and ZEROS."""
    return np.round(force_n / np.array(GAINS) + np.array(ZEROS)).astype(np.int32)


def blocks(first: int, force_n: np.ndarray, size: int = 20, segment: int = 0) -> list[SampleBlock]:
    counts = counts_for(force_n)
    return [
        SampleBlock(first + i, counts[i : i + size], segment=segment)
        for i in range(0, len(counts), size)
    ]


def test_virtual_session_gives_three_reps_with_their_peaks() -> None:
    athlete = Athlete(rest_s=2.0, rise_s=0.8, fall_s=0.3, quiet_start_s=1.5)
    rig = VirtualRig(NordicModel(athlete, seed=1, rate_hz=200), rate_hz=200)
    decoder = StreamDecoder()
    messages = decoder.feed(rig.capture_bytes(1.5 + 3 * athlete.slot_s + 1.0)) + decoder.finish()
    certificate = rig.calibration_certificate()["channels"]
    gains = [certificate[leg]["gain_n_per_count"] for leg in ("left", "right")]
    zeros = [certificate[leg]["offset_counts"] for leg in ("left", "right")]
    session = LiveSession(200, gains, zeros)
    reps = session.feed(m for m in messages if isinstance(m, SampleBlock))
    truth = rig.rep_windows()
    assert [r.number for r in reps] == [1, 2, 3] and session.rep_count == 3
    preload = athlete.preload
    for rep, true in zip(reps, truth, strict=True):
        # Live peaks include the preload (zero = the certificate's) and the causal filter's lag.
        assert rep.left_peak_n == pytest.approx(true.left_peak_n + preload[0], rel=0.05)
        assert rep.right_peak_n == pytest.approx(true.right_peak_n + preload[1], rel=0.05)
    assert session.peak_n[0] == pytest.approx(max(r.left_peak_n for r in reps), rel=0.01)


def test_tare_zeroes_a_still_athlete_and_refuses_a_moving_one() -> None:
    session = LiveSession(100, GAINS, ZEROS)
    still = np.tile([[25.0, 18.0]], (200, 1))  # preload only
    session.feed(blocks(0, still))
    assert session.current_n[0] == pytest.approx(25.0, abs=0.5)
    zeros = session.tare()
    # The preload in counts: 25 N / 0.001 N/count above 1000, 18 N / 0.002 above -500.
    assert zeros == pytest.approx((26_000.0, 8_500.0), abs=1.0)
    assert session.tared and tuple(session.zeros) == pytest.approx(zeros)
    session.feed(blocks(200, still))
    assert session.current_n == pytest.approx((0.0, 0.0), abs=0.5)
    pulling = np.column_stack([np.linspace(0, 200, 150), np.linspace(0, 150, 150)])
    session.feed(blocks(400, pulling))
    with pytest.raises(NotStill, match="not still"):
        session.tare()


def test_restart_and_gap_keep_time_running_forwards() -> None:
    session = LiveSession(100, GAINS, ZEROS)
    flat = np.zeros((100, 2))
    session.feed(blocks(0, flat))
    session.feed(blocks(150, flat[:50]))  # 50 dropped samples
    assert session.gap_samples == 50 and session.next_display_index == 200
    session.feed(blocks(0, flat[:40], segment=1))  # the rig restarted: indices from 0
    assert session.restarts == 1 and session.next_display_index == 241
    x, y = session.buffer.view()
    assert np.all(np.diff(x) > 0)
    assert math.isnan(y[0][-41])  # a break where the restart was
    session.begin_test()
    assert session.samples == 0 and session.rep_count == 0 and len(session.buffer) == 0
