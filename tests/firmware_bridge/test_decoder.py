"""The streaming decoder: messages, counters and the text dialect (protocol.md)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.decoder import StreamCollector, StreamDecoder, decode_bytes, looks_like_text
from firmware_bridge.framing import encode_frame
from firmware_bridge.messages import (
    Ack,
    Event,
    EventCode,
    GetInfo,
    Heartbeat,
    Info,
    MsgType,
    SampleBlock,
    SampleFlag,
    Start,
    encode,
)
from tests.firmware_bridge.streams import INFO, sample_frames, session, wire


def decode_in_chunks(data: bytes, size: int) -> tuple[list, StreamDecoder]:
    decoder = StreamDecoder()
    out = []
    for i in range(0, len(data), size):
        out += decoder.feed(data[i : i + size])
    out += decoder.finish()
    return out, decoder


def test_clean_session_decodes_every_message() -> None:
    messages = session(n_frames=12, per_frame=7)
    out, decoder = decode_in_chunks(wire(messages), 10_000)
    assert out[0] == INFO
    assert out[1] == Event(EventCode.STARTED, 0)
    assert out[-1] == Event(EventCode.STOPPED, 84)
    blocks = [m for m in out if isinstance(m, SampleBlock)]
    assert len(blocks) == 1  # merged: consecutive frames in one chunk
    expected = np.concatenate([b.counts for b in messages if isinstance(b, SampleBlock)])
    np.testing.assert_array_equal(blocks[0].counts, expected)
    assert blocks[0].first_index == 0
    c = decoder.counters
    assert (c.frames_ok, c.frames_corrupt, c.frames_unknown) == (15, 0, 0)
    assert (c.lead_in_bytes, c.tail_bytes, c.dropped_samples, c.device_restarts) == (0, 0, 0, 0)
    assert c.samples == 84
    assert decoder.sample_rate_hz == 1000.0
    assert decoder.serial_number == "NR-0001"


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 255, 256, 257, 4096])
def test_chunk_size_does_not_matter(size: int) -> None:
    data = wire(session(n_frames=30, per_frame=30))
    reference = decode_bytes(data)
    out, decoder = decode_in_chunks(data, size)
    collector = StreamCollector()
    collector.add(out)
    result = collector.result(decoder)
    np.testing.assert_array_equal(result.counts, reference.counts)
    np.testing.assert_array_equal(result.index, reference.index)
    assert decoder.counters == reference.counters


def test_all_message_kinds() -> None:
    messages = [INFO, Heartbeat(1000), Ack(0x82, 0), Event(EventCode.BUTTON, 5, 0)]
    out, decoder = decode_in_chunks(wire(messages), 5)
    assert out == messages
    assert decoder.counters.frames_ok == 4


def test_host_commands_are_unknown_to_a_host_and_known_to_a_device() -> None:
    data = wire([GetInfo(), Start()])
    _, host = decode_in_chunks(data, 100)
    assert host.counters.frames_unknown == 2 and host.counters.frames_ok == 0
    device = StreamDecoder(accept="host")
    out = device.feed(data) + device.finish()
    assert out == [GetInfo(), Start()]


def test_lead_in_is_skipped_not_corrupt() -> None:
    full = wire(session(n_frames=3), lead=b"")
    first_frame_end = full.index(b"\x00")
    data = full[5:]  # capture started mid-frame
    out, decoder = decode_in_chunks(data, 3)
    assert decoder.counters.lead_in_bytes == first_frame_end - 5
    assert decoder.counters.frames_corrupt == 0
    assert decoder.counters.frames_ok == 5  # STARTED, 3 sample frames, STOPPED


def test_lead_in_that_is_a_valid_frame_is_used() -> None:
    data = wire(session(n_frames=2), lead=b"")  # no leading 0x00 at all
    out, decoder = decode_in_chunks(data, 1)
    assert out[0] == INFO
    assert decoder.counters.lead_in_bytes == 0
    assert decoder.counters.frames_ok == 5


def test_truncated_tail_is_counted_as_bytes() -> None:
    data = wire(session(n_frames=4))
    cut = data[:-9]
    _, decoder = decode_in_chunks(cut, 50)
    last_delim = cut.rindex(b"\x00")
    assert decoder.counters.tail_bytes == len(cut) - last_delim - 1
    assert decoder.counters.frames_corrupt == 0


def test_padding_is_ignored() -> None:
    frames = [encode(m) for m in session(n_frames=3)]
    data = b"\x00\x00\x00" + b"\x00\x00".join(frames)
    _, decoder = decode_in_chunks(data, 4)
    assert decoder.counters.frames_ok == 6
    assert decoder.counters.frames_corrupt == 0


def test_bad_crc_wrong_length_and_unknown_type() -> None:
    good = encode(Heartbeat(5))
    bad_crc = bytearray(good)
    bad_crc[2] ^= 0x01
    wrong_length = encode_frame(Heartbeat(5).body() + b"\x01")
    unknown = encode_frame(b"\x7f\x01\x02")
    empty_body = encode_frame(b"\x04")[:0] + b"\x03\xff\xff\x00"  # CRC-only payload
    data = b"\x00" + good + bytes(bad_crc) + wrong_length + unknown + empty_body + good
    _, decoder = decode_in_chunks(data, 7)
    c = decoder.counters
    assert (c.frames_ok, c.frames_corrupt, c.frames_unknown) == (2, 3, 1)


def test_sample_frame_with_bad_count_is_corrupt() -> None:
    good = encode(SampleBlock(0, [[1, 2]]))
    count_says_five = encode_frame(bytes([0x02, 0, 0, 0, 0, 5, 0]) + bytes(8 * 2))
    zero_count = encode_frame(bytes([0x02, 0, 0, 0, 0, 0, 0]))
    too_many = encode_frame(bytes([0x02, 0, 0, 0, 0, 31, 0]) + bytes(8 * 30))
    _, decoder = decode_in_chunks(b"\x00" + count_says_five + zero_count + too_many + good, 100)
    assert decoder.counters.frames_corrupt == 3
    assert decoder.counters.frames_ok == 1


def test_dropped_samples_and_wrap() -> None:
    start = 2**32 - 25
    blocks = sample_frames(start, 6, per_frame=10)
    del blocks[2]  # 10 samples lost
    data = b"\x00" + b"".join(encode(b) for b in blocks)
    stream = decode_bytes(data)
    assert stream.counters.dropped_samples == 10
    assert stream.counters.device_restarts == 0
    assert stream.samples == 50
    # The index keeps counting past 2^32 and keeps the gap.
    assert stream.index[-1] - stream.index[0] == 59
    assert np.count_nonzero(np.diff(stream.index) != 1) == 1


def test_backwards_index_is_a_restart() -> None:
    data = b"\x00" + b"".join(encode(b) for b in sample_frames(1000, 3) + sample_frames(0, 2))
    stream = decode_bytes(data)
    assert stream.counters.device_restarts == 1
    assert stream.counters.dropped_samples == 0
    assert list(np.unique(stream.segment)) == [0, 1]
    assert np.all(np.diff(stream.index) == 1)  # segments laid end to end


def test_started_event_begins_a_new_segment_without_restart() -> None:
    data = wire(session(n_frames=2) + session(n_frames=3))
    stream = decode_bytes(data)
    assert stream.counters.device_restarts == 0
    assert list(np.unique(stream.segment)) == [0, 1]
    assert stream.segments == 2
    assert stream.samples == 50


def test_overrun_event_counts_and_gap_is_dropped() -> None:
    blocks = sample_frames(0, 4)
    messages = [blocks[0], blocks[1], Event(EventCode.OVERRUN, 20, 25), *sample_frames(45, 2)]
    stream = decode_bytes(wire(messages))
    assert stream.counters.overrun_events == 1
    assert stream.counters.dropped_samples == 25


def test_saturation_counted_per_channel() -> None:
    top = 2**23 - 1
    counts = np.array([[top, 0], [5, -(2**23)], [1, 2], [1, 2]])
    flags = np.array([0, 0, SampleFlag.RIGHT_SATURATED, SampleFlag.RIGHT_SATURATED])
    data = (
        b"\x00" + encode(SampleBlock(0, counts[:2])) + encode(SampleBlock(2, counts[2:], flags[2:]))
    )
    stream = decode_bytes(data)
    assert stream.counters.saturated_left == 1
    assert stream.counters.saturated_right == 3
    assert stream.flags.tolist() == [0, 0, 2, 2]


def test_saturation_uses_info_adc_bits() -> None:
    info = Info(80_000, "X", adc_bits=16)
    stream = decode_bytes(wire([info, SampleBlock(0, [[32767, 0], [0, -32768], [100, 100]])]))
    assert (stream.counters.saturated_left, stream.counters.saturated_right) == (1, 1)


def test_garbage_without_delimiter_is_one_corrupt_frame() -> None:
    frames = [encode(m) for m in session(n_frames=2)]
    data = b"\x00" + frames[0] + bytes([7] * 1000) + b"\x00" + b"".join(frames[1:])
    _, decoder = decode_in_chunks(data, 64)
    assert decoder.counters.frames_corrupt == 1
    assert decoder.counters.frames_ok == 5


def test_long_tail_without_delimiter_counts_every_byte() -> None:
    data = wire(session(n_frames=1)) + bytes([9] * 700)
    _, decoder = decode_in_chunks(data, 100)
    assert decoder.counters.tail_bytes == 700
    assert decoder.counters.frames_corrupt == 0


def test_text_dialect() -> None:
    text = (
        b"# rate=80\r\n# serial=DIY-7\r\n"
        b"10,20\r\n11\t21\r\n12 22\r\nhello\r\n13,23\r\n"
        b"\r\n# a comment\n14,24\n"
    )
    stream = decode_bytes(text)
    assert stream.mode == "text"
    assert stream.sample_rate_hz == 80.0
    assert stream.serial_number == "DIY-7"
    assert stream.counts.tolist() == [[10, 20], [11, 21], [12, 22], [13, 23], [14, 24]]
    assert stream.counters.lines_corrupt == 1
    assert stream.counters.lines_ok == 5


def test_text_with_index_column_keeps_gaps() -> None:
    text = b"0,1,2\n1,1,2\n2,1,2\n5,1,2\n6,1,2\n"
    stream = decode_bytes(text, rate_hz=10)
    assert stream.counters.dropped_samples == 2
    assert stream.index.tolist() == [0, 1, 2, 5, 6]
    assert stream.sample_rate_hz == 10


def test_text_last_line_without_newline_and_chunking() -> None:
    text = b"# rate=10\n1,2\n3,4\n5,6"
    out, decoder = decode_in_chunks(text, 1)
    collector = StreamCollector()
    collector.add(out)
    assert collector.result(decoder).counts.tolist() == [[1, 2], [3, 4], [5, 6]]


def test_text_bad_values_are_corrupt_lines() -> None:
    stream = decode_bytes(b"1,2\n1,2,3,4\n99999999999,1\n-1,5,6\n1.5,2\n7,8\n")
    assert stream.counters.lines_corrupt == 4
    assert stream.counts.tolist() == [[1, 2], [7, 8]]


def test_dialect_detection() -> None:
    assert looks_like_text(b"1,2\n3,4\n")
    assert not looks_like_text(b"\x00\x01\x02")
    assert not looks_like_text(b"1,2\n\xff\n")
    assert decode_bytes(wire(session(n_frames=1))).mode == "binary"
    assert decode_bytes(b"12,13\n").mode == "text"


def test_short_stream_is_decided_at_finish() -> None:
    stream = decode_bytes(b"1,2")
    assert stream.mode == "text" and stream.counts.tolist() == [[1, 2]]
    assert decode_bytes(b"").samples == 0


def test_time_axis_needs_a_rate() -> None:
    stream = decode_bytes(b"1,2\n3,4\n")
    with pytest.raises(ValueError):
        stream.time_s()
    assert stream.duration_s() is None
    assert decode_bytes(b"# rate=2\n1,2\n3,4\n").duration_s() == 1.0


# -- counts that close at the end of a test (issue 12 §2) ------------------------
def test_stopped_index_counts_the_samples_lost_at_the_end() -> None:
    """STOPPED says where the test ended: samples missing before it are dropped."""
    messages = [
        INFO,
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 10),
        Event(EventCode.STOPPED, 150),
    ]
    for size in (7, 10_000):
        _, decoder = decode_in_chunks(wire(messages), size)
        assert decoder.counters.dropped_samples == 50
        assert decoder.counters.samples == 100


def test_stopped_after_an_overrun_near_the_end_closes_the_count() -> None:
    messages = [
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 4),
        Event(EventCode.OVERRUN, 40, 25),
        Event(EventCode.STOPPED, 65),
    ]
    stream = decode_bytes(wire(messages))
    assert stream.counters.overrun_events == 1
    assert stream.counters.dropped_samples == 25


def test_a_second_stopped_and_a_complete_test_add_nothing() -> None:
    messages = [*session(n_frames=3), Event(EventCode.STOPPED, 30)]
    assert decode_bytes(wire(messages)).counters.dropped_samples == 0


def test_a_started_test_whose_every_sample_was_lost_counts_them_all() -> None:
    messages = [Event(EventCode.STARTED, 0), Event(EventCode.STOPPED, 40)]
    assert decode_bytes(wire(messages)).counters.dropped_samples == 40


# -- a rig that rebooted during a test -------------------------------------------
def test_a_rig_that_rebooted_and_was_started_again_counts_one_restart() -> None:
    reboot = [
        INFO,
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 5),
        INFO,  # as at power-on: nobody asked for it
        Heartbeat(1000),
        Ack(MsgType.START),
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 3),
        Event(EventCode.STOPPED, 30),
    ]
    for size in (1, 13, 10_000):
        out, decoder = decode_in_chunks(wire(reboot), size)
        collector = StreamCollector()
        collector.add(out)
        stream = collector.result(decoder)
        assert stream.counters.device_restarts == 1
        assert list(np.unique(stream.segment)) == [0, 1]
        assert stream.counters.dropped_samples == 0


def test_an_unasked_info_then_started_is_a_reboot_even_without_heartbeats() -> None:
    messages = [
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 5),
        INFO,
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 3),
    ]
    assert decode_bytes(wire(messages)).counters.device_restarts == 1


def test_info_asked_for_and_a_reopened_port_are_not_restarts() -> None:
    asked = [
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 3),
        Ack(MsgType.GET_INFO),
        INFO,
        *sample_frames(30, 2),
    ]
    reopened = [Event(EventCode.STARTED, 0), *sample_frames(0, 3), INFO, *sample_frames(30, 2)]
    stopped_then_started = [*session(n_frames=3), *session(n_frames=2)]
    for messages in (asked, reopened, stopped_then_started):
        assert decode_bytes(wire(messages)).counters.device_restarts == 0


def test_a_test_started_again_without_a_stop_is_a_restart() -> None:
    """After an unplug over a pty the rig's boot INFO is lost with the old port: the
    stream shows only the asked-for INFO and a new STARTED, with no STOPPED before it."""
    messages = [
        INFO,
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 3),
        Ack(MsgType.GET_INFO),
        INFO,
        Ack(MsgType.START),
        Event(EventCode.STARTED, 0),
        *sample_frames(0, 2),
    ]
    stream = decode_bytes(wire(messages))
    assert stream.counters.device_restarts == 1 and stream.segments == 2


# -- one answer whatever the chunking ----------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        b"# rate=80\r" + b"1" * 4090 + b"\n1,2\n3,4\n",  # a bare CR in a long comment line
        b"1,2\n" + b" " * 5000 + b"\n3,4\n",  # a long blank line
        b"1,2\n# " + b"x" * 5000 + b"\n3,4\n",  # a long comment
        b"1,2\n" + b"9" * 4097 + b"\n3,4\n",
    ],
)
def test_long_text_lines_count_the_same_in_bulk_and_in_chunks(text: bytes) -> None:
    whole = decode_bytes(text)
    for size in (1, 64, 4096, 4097):
        _, decoder = decode_in_chunks(text, size)
        assert decoder.counters == whole.counters
        assert decoder.sample_rate_hz == whole.sample_rate_hz
    assert whole.counters.lines_corrupt == 1
    assert whole.counters.lines_ok == 2


def test_saturation_counts_follow_the_info_in_stream_order() -> None:
    """An INFO changing the ADC width applies only to the samples after it."""
    loud = [[32767, 0]] * 3  # the top of a 16-bit ADC, not of a 24-bit one
    messages = [
        *[SampleBlock(i * 3, loud) for i in range(10)],
        Info(80_000, "X", adc_bits=16),
        *[SampleBlock(30 + i * 3, loud) for i in range(10)],
    ]
    data = wire(messages)
    whole = decode_bytes(data)
    _, decoder = decode_in_chunks(data, 40)
    assert whole.counters.saturated_left == decoder.counters.saturated_left == 30
