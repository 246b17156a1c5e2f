"""Each injectable fault has exactly the effect on the station's decoder it promises.

1000 Hz, blocks of 30 samples: slot k holds samples [30k, 30k + 30); a fault at
0.5 s hits sample 500, in slot 16 (480..509).
"""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.errors import InputError
from firmware_bridge.messages import (
    Event,
    EventCode,
    Heartbeat,
    Info,
    SampleBlock,
    SampleFlag,
    Start,
    Stop,
)
from firmware_bridge.virtual_rig import (
    ADC_FAULT_CODE,
    FAULT_HELP,
    Athlete,
    FaultSpec,
    NordicModel,
    ScriptedHost,
    VirtualRig,
    parse_fault,
)

RATE = 1000
N = 2000  # samples in a 2 s capture


def make_rig(*faults: str, seed: int = 7) -> VirtualRig:
    model = NordicModel(Athlete(quiet_start_s=0.2), seed=seed, rate_hz=RATE)
    return VirtualRig(model, rate_hz=RATE, seed=seed, faults=faults)


class Decoded:
    """A capture through the station's decoder: samples by device index, events, counters."""

    def __init__(self, data: bytes) -> None:
        self.decoder = StreamDecoder()
        messages = self.decoder.feed(data) + self.decoder.finish()
        blocks = [m for m in messages if isinstance(m, SampleBlock)]
        self.index = np.concatenate([np.arange(b.first_index, b.end_index) for b in blocks])
        self.counts = np.concatenate([b.counts for b in blocks])
        self.flags = np.concatenate([b.flags for b in blocks])
        self.events = [m for m in messages if isinstance(m, Event)]
        self.infos = [m for m in messages if isinstance(m, Info)]
        self.heartbeats = [m for m in messages if isinstance(m, Heartbeat)]
        self.counters = self.decoder.counters

    def missing(self, n: int = N) -> np.ndarray:
        return np.setdiff1d(np.arange(n), self.index)

    def assert_true_to(self, rig: VirtualRig) -> None:
        """No wrong sample ever gets through: each one is the rig's count for its index."""
        assert len(np.unique(self.index)) == len(self.index)
        np.testing.assert_array_equal(self.counts, rig.expected_counts(self.index)[0])


def test_without_faults_nothing_is_lost() -> None:
    rig = make_rig()
    out = Decoded(rig.capture_bytes(2.0))
    assert len(out.index) == N and out.counters.frames_corrupt == 0
    assert rig.faults.log == [] and not rig.faults.stats


def test_drop_at_a_time_loses_exactly_those_frames() -> None:
    rig = make_rig("drop:0.5s:3")
    out = Decoded(rig.capture_bytes(2.0))
    np.testing.assert_array_equal(out.missing(), np.arange(480, 570))
    assert out.counters.dropped_samples == 90
    assert out.counters.frames_corrupt == 0
    assert rig.faults.stats["dropped_frames"] == 3
    out.assert_true_to(rig)


def test_overrun_announces_the_lost_samples_and_the_index_jumps() -> None:
    rig = make_rig("overrun:0.5s:50")
    out = Decoded(rig.capture_bytes(2.0))
    assert Event(EventCode.OVERRUN, 500, 50) in out.events
    np.testing.assert_array_equal(out.missing(), np.arange(500, 550))
    assert out.counters.overrun_events == 1
    assert out.counters.dropped_samples == 50
    out.assert_true_to(rig)


def test_overrun_default_is_a_tenth_of_a_second() -> None:
    rig = make_rig("overrun:1s")
    out = Decoded(rig.capture_bytes(2.0))
    assert out.counters.dropped_samples == 100
    assert Event(EventCode.OVERRUN, 1000, 100) in out.events


def test_garbage_burst_is_one_corrupt_frame_and_loses_nothing() -> None:
    rig = make_rig("garbage:0.5s:20")
    out = Decoded(rig.capture_bytes(2.0))
    assert out.counters.frames_corrupt == 1
    assert out.counters.dropped_samples == 0
    assert len(out.index) == N
    out.assert_true_to(rig)


def test_bitflip_at_a_time_corrupts_one_frame() -> None:
    rig = make_rig("bitflip:0.5s")
    out = Decoded(rig.capture_bytes(2.0))
    assert out.counters.frames_corrupt == 1
    np.testing.assert_array_equal(out.missing(), np.arange(480, 510))
    assert out.counters.dropped_samples == 30
    out.assert_true_to(rig)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_drops_match_the_rig_log(seed: int) -> None:
    rig = make_rig("drop:0.05", seed=seed)
    out = Decoded(rig.capture_bytes(2.0))
    dropped = [r for r in rig.faults.log if r.kind == "drop"]
    assert dropped
    last = out.index.max()
    # a gap shows before the last frame that arrived (from the START index on)
    expected = sum(r.amount for r in dropped if r.index < last)
    assert out.counters.dropped_samples == expected
    out.assert_true_to(rig)


def test_losing_the_first_frame_of_a_test_is_a_gap_from_index_zero() -> None:
    from firmware_bridge.decoder import decode_bytes

    rig = make_rig("drop:0s")
    stream = decode_bytes(rig.capture_bytes(1.0))
    assert stream.counters.dropped_samples == 30
    assert stream.index[0] == 30


def test_random_overruns_match_the_rig_log() -> None:
    rig = make_rig("overrun:0.05:10")
    out = Decoded(rig.capture_bytes(2.0))
    assert rig.faults.stats["overruns"] >= 1
    assert out.counters.overrun_events == rig.faults.stats["overruns"]
    assert out.counters.dropped_samples == rig.faults.stats["overrun_samples"]
    out.assert_true_to(rig)


def test_random_garbage_is_one_corrupt_frame_per_burst() -> None:
    rig = make_rig("garbage:0.1")
    out = Decoded(rig.capture_bytes(2.0))
    assert rig.faults.stats["garbage_bursts"] >= 3
    assert out.counters.frames_corrupt == rig.faults.stats["garbage_bursts"]
    assert len(out.index) == N


@pytest.mark.parametrize("seed", [1, 2])
def test_line_noise_corrupts_frames_but_no_bad_sample_gets_through(seed: int) -> None:
    rig = make_rig("bitflip:0.001", seed=seed)
    out = Decoded(rig.capture_bytes(2.0))
    assert rig.faults.stats["flipped_bytes"] >= 5
    assert out.counters.frames_corrupt >= 3
    assert 0 < len(out.index) < N
    out.assert_true_to(rig)


def test_stall_sends_nothing_for_its_duration_then_the_backlog() -> None:
    rig = make_rig("stall:0.5s:0.3")
    host = ScriptedHost(rig)
    host.open()
    host.send(Start())
    host.run(1.2, step=0.001)
    times = np.array([a.time for a in host.arrivals if isinstance(a.message, SampleBlock)])
    assert not np.any((times > 0.5) & (times < 0.8 - 1e-9))
    assert np.diff(times).max() == pytest.approx(0.3, abs=0.031)
    index, counts = host.samples()
    np.testing.assert_array_equal(index, np.arange(len(index)))  # nothing lost
    assert host.decoder.counters.dropped_samples == 0
    assert [r.kind for r in rig.faults.log] == ["stall"]
    # a capture has no timing, so a stall changes no byte
    assert rig.capture_bytes(2.0) == make_rig().capture_bytes(2.0)


def test_stall_that_loses_its_samples_leaves_an_unexplained_gap() -> None:
    rig = make_rig("stall:0.5s:0.3:lose")
    out = Decoded(rig.capture_bytes(2.0))
    np.testing.assert_array_equal(out.missing(), np.arange(500, 800))
    assert out.counters.dropped_samples == 300
    assert out.counters.overrun_events == 0
    out.assert_true_to(rig)


def test_timed_faults_recur_in_every_test() -> None:
    rig = make_rig("drop:0.2s")
    host = ScriptedHost(rig)
    host.open()
    for _ in range(2):
        host.send(Start())
        host.run(0.5)
        host.send(Stop())
    assert [(r.kind, r.index) for r in rig.faults.log] == [("drop", 180), ("drop", 180)]
    assert host.decoder.counters.dropped_samples == 60


def test_unplug_reboots_the_rig_which_then_waits_for_start() -> None:
    rig = make_rig("unplug:1s:0.5")
    out = Decoded(rig.capture_bytes(3.0))
    assert rig.connected and rig.boot_count == 2
    assert len(out.infos) == 2  # power-on and the reboot
    assert out.index.max() < 1000 and len(out.index) >= 960
    assert out.events[0] == Event(EventCode.STARTED, 0)
    assert out.events[-1] == Event(EventCode.STOPPED, 0)  # rebooted: nothing streaming
    assert [h.uptime_ms for h in out.heartbeats] == [1000]  # 1 s after the reboot at 1.5 s
    out.assert_true_to(rig)


def test_unplugged_rig_sends_nothing_and_ignores_the_host() -> None:
    rig = make_rig()
    host = ScriptedHost(rig)
    host.open()
    host.send(Start())
    host.run(0.3)
    rig.unplug(for_s=1.0, now=host.now)
    assert not rig.connected and not rig.streaming
    host.send(Start())
    assert host.run(0.9) == []
    host.run(0.2)
    assert rig.connected and rig.boot_count == 2
    assert isinstance(host.messages[-1], Info)
    assert [r.kind for r in rig.faults.log] == ["unplug"]


def test_adc_fault_flags_the_frames_of_its_window_after_one_fault_event() -> None:
    rig = make_rig("adcfault:0.5s:0.1")  # samples 500..599: slots 16..19 (480..599)
    out = Decoded(rig.capture_bytes(2.0))
    faulty = out.index[(out.flags & SampleFlag.ADC_FAULT) != 0]
    np.testing.assert_array_equal(faulty, np.arange(480, 600))
    faults = [e for e in out.events if e.code == EventCode.FAULT]
    assert faults == [Event(EventCode.FAULT, 500, ADC_FAULT_CODE)]
    assert len(out.index) == N and out.counters.dropped_samples == 0  # nothing lost
    assert out.counters.frames_corrupt == 0
    out.assert_true_to(rig)  # the counts themselves are untouched
    assert [(r.kind, r.index, r.amount) for r in rig.faults.log] == [("adcfault", 500, 100)]
    assert rig.faults.stats["adc_faults"] == 1


def test_adc_fault_without_a_duration_is_one_frame_and_recurs_per_test() -> None:
    rig = make_rig("adcfault:0.2s")
    host = ScriptedHost(rig)
    host.open()
    for _ in range(2):
        host.send(Start())
        host.run(0.5)
        host.send(Stop())
    blocks = [m for m in host.messages if isinstance(m, SampleBlock)]
    flagged = [b.first_index for b in blocks if (b.flags & SampleFlag.ADC_FAULT).any()]
    assert flagged == [180, 180]  # the frame holding sample 200, once per test
    faults = [m for m in host.messages if isinstance(m, Event) and m.code == EventCode.FAULT]
    assert faults == [Event(EventCode.FAULT, 200, ADC_FAULT_CODE)] * 2


def test_adc_fault_is_in_the_help() -> None:
    assert "adcfault:T[:D]" in FAULT_HELP


def test_probabilistic_faults_are_reproducible() -> None:
    specs = ("bitflip:0.0005", "drop:0.02", "garbage:0.02", "overrun:0.01:5")
    assert make_rig(*specs).capture_bytes(1.0) == make_rig(*specs).capture_bytes(1.0)
    assert make_rig(*specs, seed=1).capture_bytes(1.0) != make_rig(*specs, seed=2).capture_bytes(
        1.0
    )


# -- the --fault syntax -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("bitflip:0.001", FaultSpec("bitflip", probability=0.001)),
        ("bitflip:10s", FaultSpec("bitflip", at_s=10.0)),
        ("garbage:5s", FaultSpec("garbage", at_s=5.0)),
        ("garbage:0.01:40", FaultSpec("garbage", probability=0.01, count=40)),
        ("drop:0.01", FaultSpec("drop", probability=0.01)),
        ("drop:2.5s:4", FaultSpec("drop", at_s=2.5, count=4)),
        ("overrun:10s", FaultSpec("overrun", at_s=10.0)),
        ("overrun:500ms:250", FaultSpec("overrun", at_s=0.5, count=250)),
        ("stall:20s:3", FaultSpec("stall", at_s=20.0, duration_s=3.0)),
        ("stall:20s:1.5:lose", FaultSpec("stall", at_s=20.0, duration_s=1.5, lose=True)),
        ("unplug:30s:5", FaultSpec("unplug", at_s=30.0, duration_s=5.0)),
        ("UNPLUG:30s:500ms", FaultSpec("unplug", at_s=30.0, duration_s=0.5)),
        ("adcfault:12s", FaultSpec("adcfault", at_s=12.0)),
        ("adcfault:12s:2", FaultSpec("adcfault", at_s=12.0, duration_s=2.0)),
    ],
)
def test_fault_syntax(text: str, spec: FaultSpec) -> None:
    assert parse_fault(text) == spec
    assert parse_fault(str(spec)) == spec  # the canonical form reads back


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("bogus:1s", "unknown kind"),
        ("drop", "needs a time or a probability"),
        ("drop:5", "probability"),
        ("drop:0", "probability"),
        ("drop:soon", "neither a time"),
        ("bitflip:1s:3", "too many"),
        ("stall:0.1", "takes a time"),
        ("stall:2s", "needs a duration"),
        ("stall:2s:0", "more than 0"),
        ("stall:2s:1:keep", "too many"),
        ("unplug:2s:x", "not a number"),
        ("overrun:1s:70000", "1..65535"),
        ("garbage:1s:0", "1..250"),
        ("adcfault:0.1", "takes a time"),
        ("adcfault:1s:0", "more than 0"),
        ("adcfault:1s:2:3", "too many"),
    ],
)
def test_bad_fault_is_one_line_naming_the_problem(text: str, words: str) -> None:
    with pytest.raises(InputError) as error:
        parse_fault(text)
    message = str(error.value)
    assert words in message
    assert text in message and "\n" not in message
