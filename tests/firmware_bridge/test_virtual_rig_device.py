"""The virtual rig speaks protocol.md: commands, replies, samples, cadence and heartbeats.

Driven on a virtual clock (ScriptedHost), decoded with the station's own decoder.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from firmware_bridge.decoder import StreamDecoder, decode_bytes
from firmware_bridge.framing import decode_frame, encode_frame
from firmware_bridge.messages import (
    Ack,
    AckStatus,
    Event,
    EventCode,
    GetInfo,
    Heartbeat,
    Info,
    MsgType,
    SampleBlock,
    SampleFlag,
    SetRate,
    Start,
    Stop,
    encode,
)
from firmware_bridge.virtual_rig import (
    Athlete,
    LoadCellAdc,
    NordicModel,
    ScriptedHost,
    VirtualRig,
)


def make_rig(rate_hz: float = 80.0, seed: int = 1, **kwargs: object) -> VirtualRig:
    return VirtualRig(
        NordicModel(Athlete(), seed=seed, rate_hz=rate_hz), rate_hz=rate_hz, seed=seed, **kwargs
    )


def started(rig: VirtualRig) -> ScriptedHost:
    host = ScriptedHost(rig)
    host.open()
    host.send(Start())
    return host


def sample_frame_sizes(raw: bytes) -> list[int]:
    """Samples in each SAMPLES frame of a clean byte stream, in order."""
    bodies = [decode_frame(f) for f in raw.split(b"\x00") if f]
    return [b[5] for b in bodies if b is not None and b[0] == MsgType.SAMPLES]


def test_boot_sends_one_zero_then_info() -> None:
    rig = make_rig()
    data = rig.poll(0.0)
    assert data == b"\x00" + encode(Info(80_000, "NR-SIM-0001", "virtual-rig 1", 24))


def test_opening_the_port_greets_once_more_but_not_twice_while_unsent() -> None:
    rig = make_rig()
    rig.on_open(0.0)  # boot greeting still unsent: no second one
    assert rig.poll(0.0).count(encode(rig.info)) == 1
    rig.on_open(0.5)
    assert rig.poll(0.5) == b"\x00" + encode(rig.info)


def test_get_info_is_acked_then_answered() -> None:
    host = ScriptedHost(make_rig())
    host.open()
    assert host.send(GetInfo()) == [Ack(MsgType.GET_INFO, AckStatus.OK), host.device.info]
    assert host.decoder.counters.frames_corrupt == 0


def test_start_acks_then_started_then_samples_from_zero() -> None:
    rig = make_rig()
    host = ScriptedHost(rig)
    host.open()
    assert host.send(Start()) == [Ack(MsgType.START), Event(EventCode.STARTED, 0)]
    host.run(1.0)
    index, counts = host.samples()
    # 81 samples are taken by t = 1.0 s (0..80); only whole blocks of 4 have left
    assert rig.block_size == 4
    np.testing.assert_array_equal(index, np.arange(80))
    np.testing.assert_array_equal(counts, rig.expected_counts(np.arange(80))[0])


def test_stop_flushes_the_short_last_block_then_acks_and_reports_the_count() -> None:
    rig = make_rig()
    host = started(rig)
    host.run(1.0)
    replies = host.send(Stop())
    assert isinstance(replies[0], SampleBlock) and replies[0].first_index == 80
    assert len(replies[0]) == 1  # sample 80, taken at exactly 1.0 s
    assert replies[1:] == [Ack(MsgType.STOP), Event(EventCode.STOPPED, 81)]
    assert not rig.streaming
    assert host.run(0.5) == []  # nothing more until the next heartbeat


def test_stop_when_idle_is_still_acked_with_stopped() -> None:
    host = ScriptedHost(make_rig())
    host.open()
    assert host.send(Stop()) == [Ack(MsgType.STOP), Event(EventCode.STOPPED, 0)]


def test_start_while_streaming_restarts_at_index_zero() -> None:
    rig = make_rig()
    host = started(rig)
    host.run(0.5)
    replies = host.send(Start())
    assert replies[-2:] == [Ack(MsgType.START), Event(EventCode.STARTED, 0)]
    host.run(0.2)
    assert host.blocks()[-1].segment == 1  # a new segment, from 0 again
    assert rig.next_index == 16


def test_set_rate_is_refused_while_streaming() -> None:
    rig = make_rig()
    host = started(rig)
    assert host.send(SetRate(1_000_000))[-1] == Ack(MsgType.SET_RATE, AckStatus.BUSY)
    assert rig.rate_hz == 80


@pytest.mark.parametrize("rate_mhz", [0, 9_999, 2_000_001, 5_000_000])
def test_set_rate_outside_10_to_2000_hz_is_a_bad_argument(rate_mhz: int) -> None:
    host = ScriptedHost(make_rig())
    host.open()
    assert host.send(SetRate(rate_mhz)) == [Ack(MsgType.SET_RATE, AckStatus.BAD_ARGUMENT)]
    assert host.device.rate_hz == 80


@pytest.mark.parametrize("rate_mhz", [10_000, 50_000, 1_000_000, 2_000_000])
def test_set_rate_ok_sends_info_again_and_samples_at_the_new_rate(rate_mhz: int) -> None:
    rig = make_rig()
    host = ScriptedHost(rig)
    host.open()
    replies = host.send(SetRate(rate_mhz))
    assert replies[0] == Ack(MsgType.SET_RATE, AckStatus.OK)
    assert isinstance(replies[1], Info) and replies[1].sample_rate_mhz == rate_mhz
    assert host.decoder.sample_rate_hz == rate_mhz / 1000
    host.send(Start())
    host.run(0.5)
    index, counts = host.samples()
    assert len(index) >= math.floor(0.5 * rate_mhz / 1000) - rig.block_size
    np.testing.assert_array_equal(counts, rig.expected_counts(index)[0])


def test_unknown_command_and_device_type_from_host_get_status_1() -> None:
    host = ScriptedHost(make_rig())
    host.open()
    assert host.send_bytes(encode_frame(bytes([0x99, 1, 2]))) == [
        Ack(0x99, AckStatus.UNKNOWN_COMMAND)
    ]
    assert host.send(Heartbeat(5)) == [Ack(MsgType.HEARTBEAT, AckStatus.UNKNOWN_COMMAND)]


def test_corrupt_command_gets_no_answer_and_is_counted() -> None:
    rig = make_rig()
    host = ScriptedHost(rig)
    host.open()
    host.send(GetInfo())
    frame = bytearray(encode(GetInfo()))
    frame[1] ^= 0x10
    assert host.send_bytes(bytes(frame)) == []
    assert rig.host_counters["frames_corrupt"] == 1
    assert host.send(GetInfo())[0] == Ack(MsgType.GET_INFO)  # and it carries on


def test_commands_split_into_single_bytes_and_garbage_first() -> None:
    rig = make_rig()
    host = ScriptedHost(rig)
    host.open()
    data = b"\x17\x42\x00" + encode(GetInfo()) + encode(Start())  # line noise, then a clean start
    replies = []
    for byte in data:
        replies += host.send_bytes(bytes([byte]))
    assert replies == [
        Ack(MsgType.GET_INFO),
        rig.info,
        Ack(MsgType.START),
        Event(EventCode.STARTED, 0),
    ]


def test_heartbeat_every_second_while_not_streaming_only() -> None:
    rig = make_rig()
    host = ScriptedHost(rig)
    host.open()
    host.run(3.5, step=0.25)
    beats = [a for a in host.arrivals if isinstance(a.message, Heartbeat)]
    assert [b.message.uptime_ms for b in beats] == [1000, 2000, 3000]
    assert [b.time for b in beats] == [1.0, 2.0, 3.0]
    host.send(Start())
    host.run(2.0)
    assert sum(isinstance(m, Heartbeat) for m in host.messages) == 3
    host.send(Stop())
    host.run(1.0)
    assert [m.uptime_ms for m in host.messages if isinstance(m, Heartbeat)][-1] == 6000


def test_button_event_at_the_next_sample_index() -> None:
    rig = make_rig()
    host = started(rig)
    host.run(0.5)
    rig.press_button()
    assert host.read() == [Event(EventCode.BUTTON, rig.next_index)]


@pytest.mark.parametrize("rate_hz", [10, 80, 1000, 2000])
def test_capture_decodes_to_the_model_counts_exactly(rate_hz: int) -> None:
    rig = make_rig(rate_hz)
    data = rig.capture_bytes(1.5)
    assert data.startswith(b"\x00" + encode(rig.info) + encode(Ack(MsgType.START)))
    stream = decode_bytes(data)
    n = math.ceil(1.5 * rate_hz)
    assert stream.samples == n
    assert stream.sample_rate_hz == rate_hz
    c = stream.counters
    assert (c.frames_corrupt, c.dropped_samples, c.lead_in_bytes, c.tail_bytes) == (0, 0, 0, 0)
    np.testing.assert_array_equal(stream.counts, rig.expected_counts(np.arange(n))[0])
    assert stream.events == [Event(EventCode.STARTED, 0), Event(EventCode.STOPPED, n)]


def test_capture_is_reproducible_and_seed_dependent() -> None:
    assert make_rig(seed=3).capture_bytes(2.0) == make_rig(seed=3).capture_bytes(2.0)
    assert make_rig(seed=3).capture_bytes(2.0) != make_rig(seed=4).capture_bytes(2.0)


@pytest.mark.parametrize("rate_hz", [10, 80, 1000, 2000])
def test_samples_frames_leave_at_least_every_100_ms(rate_hz: int) -> None:
    rig = make_rig(rate_hz)
    host = started(rig)
    host.run(2.0, step=0.001)
    times = [a.time for a in host.arrivals if isinstance(a.message, SampleBlock)]
    assert times[0] <= 0.1 + 1e-9
    assert max(np.diff(times)) <= 0.1 + 1e-9
    sizes = sample_frame_sizes(bytes(host.raw))
    assert set(sizes) == {rig.block_size}
    assert len(sizes) == len(times)  # one frame per arrival: none held back
    assert rig.block_size / rate_hz <= 0.1


def test_bytes_do_not_depend_on_how_often_the_rig_is_polled() -> None:
    fine, coarse = started(make_rig(1000)), started(make_rig(1000))
    fine.run(1.3, step=0.001)
    coarse.run(1.3, step=0.37)
    assert fine.raw == coarse.raw


def test_configured_block_size_is_used_and_capped_at_100_ms() -> None:
    rig = make_rig(1000, block_size=7)
    sizes = sample_frame_sizes(rig.capture_bytes(0.7, stop=False))
    assert sizes == [7] * 100
    assert sample_frame_sizes(rig.capture_bytes(0.7))[-1] == 700 - 7 * 99  # 700 taken, 1 left
    assert make_rig(80, block_size=30).block_size == 8
    assert make_rig(10, block_size=30).block_size == 1


def test_saturated_blocks_are_flagged_per_channel() -> None:
    athlete = Athlete(left_peak_n=500, right_peak_n=100, reps=1, quiet_start_s=0.5, rest_s=5)
    rig = VirtualRig(
        NordicModel(athlete, seed=2, rate_hz=80),
        rate_hz=80,
        adc=LoadCellAdc(gain_n_per_count=(0.0005, 0.0005), offset_counts=(0, 0), adc_bits=20),
    )
    decoder = StreamDecoder()
    messages = decoder.feed(rig.capture_bytes(5.0))
    blocks = [m for m in messages if isinstance(m, SampleBlock)]
    counts = np.concatenate([b.counts for b in blocks])
    flags = np.concatenate([b.flags for b in blocks])
    top = (1 << 19) - 1  # 20-bit ADC: +-524287 counts = +-262 N at this gain
    assert counts[:, 0].max() == top
    assert counts[:, 1].max() < top
    assert np.all(flags[counts[:, 0] == top] & SampleFlag.LEFT_SATURATED)
    assert not np.any(flags & SampleFlag.RIGHT_SATURATED)
    assert decoder.counters.saturated_left >= np.count_nonzero(counts[:, 0] == top)
    assert decoder.counters.saturated_right == 0


def test_bad_configuration_is_an_input_error() -> None:
    from firmware_bridge.errors import InputError

    for rate in (5, 2001, float("inf"), float("nan")):
        with pytest.raises(InputError, match="10..2000 Hz"):
            VirtualRig(rate_hz=rate)
    with pytest.raises(InputError, match="block size"):
        VirtualRig(block_size=31)
    with pytest.raises(InputError, match="serial number"):
        VirtualRig(serial_number="X" * 17)
