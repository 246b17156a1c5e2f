"""Property tests: no byte sequence makes the decoder raise, and damage to a
valid stream changes the counters by exactly what protocol.md defines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge.decoder import Counters, StreamCollector, StreamDecoder, decode_bytes
from firmware_bridge.messages import Ack, Event, EventCode, Heartbeat, Info, SampleBlock, encode
from tests.firmware_bridge.streams import INFO

# The number of examples comes from the profile (tests/conftest.py): make test / make fuzz.
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.fuzz


def run(data: bytes, cuts: list[int]) -> tuple[StreamCollector, StreamDecoder]:
    decoder = StreamDecoder()
    collector = StreamCollector()
    bounds = sorted({0, len(data), *[c % (len(data) + 1) for c in cuts]})
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        collector.add(decoder.feed(data[lo:hi]))
    collector.add(decoder.finish())
    return collector, decoder


@st.composite
def sample_stream(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    """INFO then sample frames (the last one never damaged); returns frames and sample counts."""
    n = draw(st.integers(3, 12))
    first = draw(st.sampled_from([0, 1000, 2**32 - 40]))
    sizes = draw(st.lists(st.integers(1, 30), min_size=n, max_size=n))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    frames = [encode(INFO)]
    index = first
    for size in sizes:
        counts = rng.integers(-(2**22), 2**22, (size, 2))
        frames.append(encode(SampleBlock(index, counts)))
        index += size
    return frames, [0, *sizes]


def expected_dropped(sizes: list[int], lost: list[int]) -> int:
    """A loss shows as a gap only between two sample frames that did arrive."""
    last = len(sizes) - 1
    if min(lost) > 1 and max(lost) < last:
        return sum(sizes[i] for i in lost)
    return 0


@SETTINGS
@given(st.binary(max_size=3000), st.lists(st.integers(0, 4000), max_size=8))
def test_random_bytes_never_raise_and_chunking_is_invisible(data: bytes, cuts: list[int]) -> None:
    _, decoder = run(data, cuts)
    whole = decode_bytes(data)
    assert decoder.counters == whole.counters
    assert decoder.counters.bytes_total == len(data)
    c = decoder.counters
    assert min(c.to_dict().values()) >= 0


@SETTINGS
@given(st.lists(st.sampled_from(list(range(256))), max_size=600).map(bytes))
def test_bytes_from_a_small_alphabet_never_raise(data: bytes) -> None:
    decoder = StreamDecoder()
    for i in range(0, len(data), 13):
        decoder.feed(data[i : i + 13])
    decoder.finish()
    assert decoder.counters.bytes_total == len(data)


@SETTINGS
@given(
    st.lists(
        st.one_of(
            st.builds(Heartbeat, st.integers(0, 2**32 - 1)),
            st.builds(Ack, st.integers(0x81, 0x84), st.integers(0, 3)),
            st.builds(
                Event, st.sampled_from([3, 4, 5]), st.integers(0, 2**32 - 1), st.integers(0, 65535)
            ),
            st.just(INFO),
        ),
        max_size=20,
    ),
    st.lists(st.integers(0, 2000), max_size=6),
)
def test_valid_messages_come_back_whatever_the_chunks(messages: list, cuts: list[int]) -> None:
    data = b"\x00" + b"".join(encode(m) for m in messages)
    decoder = StreamDecoder()
    out = []
    bounds = sorted({0, len(data), *[c % (len(data) + 1) for c in cuts]})
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        out += decoder.feed(data[lo:hi])
    out += decoder.finish()
    assert out == messages
    overruns = sum(1 for m in messages if isinstance(m, Event) and m.code == EventCode.OVERRUN)
    assert decoder.counters == Counters(
        bytes_total=len(data), frames_ok=len(messages), overrun_events=overruns
    )


@SETTINGS
@given(sample_stream(), st.integers(0, 10**6), st.lists(st.integers(0, 5000), max_size=5))
def test_truncation(stream: tuple[list[bytes], list[int]], where: int, cuts: list[int]) -> None:
    frames, sizes = stream
    data = b"\x00" + b"".join(frames)
    cut = where % (len(data) + 1)
    collector, decoder = run(data[:cut], cuts)
    ends = np.cumsum([1] + [len(f) for f in frames])  # bytes up to and including each delimiter
    complete = int(np.searchsorted(ends[1:], cut, side="right"))
    last_end = int(ends[complete]) if cut >= 1 else 0
    c = decoder.counters
    assert c.frames_ok == complete
    assert c.frames_corrupt == 0
    assert c.samples == sum(sizes[:complete])
    assert c.tail_bytes == (cut - last_end if cut >= 1 else 0)
    assert c.lead_in_bytes == 0
    assert c.dropped_samples == 0


@SETTINGS
@given(sample_stream(), st.data())
def test_one_bit_flip(stream: tuple[list[bytes], list[int]], data: st.DataObject) -> None:
    frames, sizes = stream
    k = data.draw(st.integers(1, len(frames) - 2), label="frame")
    frame = bytearray(frames[k])
    pos = data.draw(st.integers(0, len(frame) - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    frame[pos] ^= 1 << bit
    damaged = [*frames[:k], bytes(frame), *frames[k + 1 :]]
    wire = b"\x00" + b"".join(damaged)
    _, decoder = run(wire, data.draw(st.lists(st.integers(0, 5000), max_size=4)))
    c = decoder.counters
    if pos == len(frame) - 1:
        # The delimiter itself: frame k and k+1 run together into one corrupt frame.
        assert (c.frames_ok, c.frames_corrupt) == (len(frames) - 2, 1)
        assert c.dropped_samples == expected_dropped(sizes, [k, k + 1])
        return
    pieces = [p for p in bytes(frame[:-1]).split(b"\x00") if p]
    assert c.frames_ok == len(frames) - 1
    assert c.frames_corrupt == len(pieces)
    assert c.dropped_samples == expected_dropped(sizes, [k])
    assert c.samples == sum(sizes) - sizes[k]


@SETTINGS
@given(
    sample_stream(),
    st.data(),
    st.binary(min_size=1, max_size=400).map(lambda b: b.replace(b"\x00", b"\x07")),
    st.booleans(),
)
def test_inserted_garbage(stream, data, garbage: bytes, terminated: bool) -> None:
    frames, sizes = stream
    k = data.draw(st.integers(1, len(frames) - 2), label="before frame")
    insert = garbage + (b"\x00" if terminated else b"")
    wire = b"\x00" + b"".join(frames[:k]) + insert + b"".join(frames[k:])
    _, decoder = run(wire, data.draw(st.lists(st.integers(0, 5000), max_size=4)))
    c = decoder.counters
    assert c.frames_corrupt == 1
    if terminated:
        assert c.frames_ok == len(frames)
        assert c.dropped_samples == 0
    else:
        # The garbage runs into frame k, which is lost with it.
        assert c.frames_ok == len(frames) - 1
        assert c.dropped_samples == expected_dropped(sizes, [k])


@SETTINGS
@given(sample_stream(), st.integers(1, 300))
def test_capture_starting_mid_stream(stream, skip: int) -> None:
    frames, _ = stream
    data = b"".join(frames)  # no leading delimiter: the capture began mid-frame
    skip = min(skip, len(frames[0]) - 1)
    _, decoder = run(data[skip:], [])
    c = decoder.counters
    assert c.frames_corrupt == 0
    assert c.lead_in_bytes == len(frames[0]) - 1 - skip
    assert c.frames_ok == len(frames) - 1


@SETTINGS
@given(
    sample_stream(),
    st.binary(max_size=300),
    st.integers(0, 10**6),
    st.lists(st.integers(0, 4000), max_size=6),
)
def test_frame_by_frame_and_bulk_decoding_agree(stream, garbage: bytes, where: int, cuts) -> None:
    """Live reads (a few frames) take a plain-Python path, bulk reads a NumPy one:
    both must give the same blocks and counters for the same bytes."""
    import firmware_bridge.binary_decoding as decoder_module  # where the path is chosen

    frames, _ = stream
    data = b"\x00" + b"".join(frames)
    at = where % (len(data) + 1)
    data = data[:at] + garbage + data[at:]
    results = []
    for few in (0, 10**9):
        original = decoder_module.FEW_FRAMES
        decoder_module.FEW_FRAMES = few
        try:
            collector, decoder = run(data, cuts)
        finally:
            decoder_module.FEW_FRAMES = original
        results.append((collector.result(decoder), decoder.counters))
    (bulk, bulk_counters), (few, few_counters) = results
    assert bulk_counters == few_counters
    for name in ("index", "counts", "flags", "segment"):
        np.testing.assert_array_equal(getattr(bulk, name), getattr(few, name))


# -- one answer whatever the chunking: a generator wide enough to find the odd cases --
_TEXT_LINES = st.one_of(
    st.sampled_from(
        [b"1,2", b"0,3,4", b"7\t8", b"5 6", b"# rate=80", b"# rate=50", b"# serial=DIY", b""]
    ),
    st.sampled_from([b"\r", b"8388607,-8388608", b"2147483648,1", b"x,y", b"# rate=1e400"]),
    st.binary(max_size=24).map(lambda b: b.replace(b"\x00", b"a")),
    # lines around the 4,096-byte limit, blank, comment or numbers
    st.tuples(st.sampled_from([b" ", b"1", b"#"]), st.integers(4090, 4100)).map(
        lambda t: t[0] * t[1]
    ),
)


@st.composite
def text_stream(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(_TEXT_LINES, max_size=14))
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(lines)))
    return b"".join(line + end for line, end in zip(lines, ends, strict=False))


@st.composite
def binary_session(draw: st.DrawFn) -> bytes:
    """Sample frames interleaved with everything that moves the counters."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    out = [b"\x00"]
    index = draw(st.sampled_from([0, 2**32 - 40]))
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["samples"] * 5 + ["gap", "back", "event", "info", "beat"]))
        if kind in ("samples", "gap", "back"):
            if kind == "gap":
                index += draw(st.integers(1, 500))
            elif kind == "back":
                index = draw(st.integers(0, 100))
            size = draw(st.integers(1, 30))
            counts = rng.integers(-(2**15), 2**15, (size, 2))
            counts[rng.random(size) < 0.3] = 2**15 - 1  # saturated at 16 bits, not at 24
            flags = draw(st.integers(0, 7))
            out.append(encode(SampleBlock(index, counts, np.full(size, flags))))
            index += size
        elif kind == "event":
            code = draw(st.sampled_from([EventCode.STARTED, EventCode.STOPPED, EventCode.OVERRUN]))
            at = draw(st.sampled_from([0, index, index + 17]))
            out.append(encode(Event(code, at, draw(st.integers(0, 50)))))
            if code == EventCode.STARTED:
                index = at
        elif kind == "info":
            if draw(st.booleans()):
                out.append(encode(Ack(0x81, 0)))
            bits = draw(st.sampled_from([16, 24, 0, 40]))
            out.append(encode(Info(80_000, "NR-0001", adc_bits=bits)))
        else:
            out.append(encode(Heartbeat(draw(st.integers(0, 10**6)))))
    return b"".join(out)


def _both_ways(data: bytes, cuts: list[int]) -> None:
    """Bulk and chunked decoding, on the NumPy and on the frame-by-frame path, agree."""
    import firmware_bridge.binary_decoding as decoder_module  # where the path is chosen

    whole = decode_bytes(data)
    original = decoder_module.FEW_FRAMES
    try:
        for few in (original, 0, 10**9):
            decoder_module.FEW_FRAMES = few
            collector, decoder = run(data, cuts)
            chunked = collector.result(decoder)
            assert decoder.counters == whole.counters
            assert chunked.sample_rate_hz == whole.sample_rate_hz
            for name in ("index", "counts", "flags", "segment"):
                np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name))
    finally:
        decoder_module.FEW_FRAMES = original


@SETTINGS
@given(text_stream(), st.lists(st.integers(0, 30_000), max_size=6))
def test_text_decodes_the_same_whatever_the_chunks(data: bytes, cuts: list[int]) -> None:
    _both_ways(data, cuts)


@SETTINGS
@given(binary_session(), st.lists(st.integers(0, 5000), max_size=6))
def test_sessions_decode_the_same_whatever_the_chunks(data: bytes, cuts: list[int]) -> None:
    _both_ways(data, cuts)
