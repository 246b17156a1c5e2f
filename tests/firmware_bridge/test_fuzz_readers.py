"""Fuzz targets for the readers of files (beside the decoder's, test_decoder_properties):
the recording reader and the capture loader.

Whatever the bytes, a reader either returns what is intact or raises the
station's own one-line error; it never raises anything else, never loses an
intact record before the damage, and never takes long (linear reading).
``make test`` runs few examples; ``make fuzz`` many (tests/conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.capture import load_capture_bytes
from firmware_bridge.errors import NordicError
from firmware_bridge.messages import Event, EventCode, Info, SampleBlock, encode
from firmware_bridge.recording import (
    FORMAT,
    RECORD_OVERHEAD,
    SYNC,
    RecordingError,
    RecordType,
    encode_header,
    encode_record,
    parse_recording,
)

pytestmark = pytest.mark.fuzz

INFO = Info(80_000, "NR-FUZZ")


def rig_bytes(frames: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    blocks = [SampleBlock(i * 5, rng.integers(-(2**23), 2**23, (5, 2))) for i in range(frames)]
    messages = [INFO, Event(EventCode.STARTED, 0), *blocks, Event(EventCode.STOPPED, frames * 5)]
    return b"\x00" + b"".join(encode(m) for m in messages)


@st.composite
def recordings(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A valid recording of rig bytes cut into chunks, with the chunks it holds."""
    data = rig_bytes(draw(st.integers(1, 40)), draw(st.integers(0, 2**16)))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=12))))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True) if b > a]
    header = {
        "format": FORMAT,
        "info": INFO.to_dict(),
        "metadata": draw(
            st.dictionaries(
                st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8)), max_size=3
            )
        ),
    }
    blob = encode_header(header) + b"".join(
        encode_record(RecordType.DATA, chunk, 0.01 * i) for i, chunk in enumerate(chunks)
    )
    return blob, chunks


_DAMAGE = st.one_of(
    st.binary(max_size=64),
    st.just(SYNC * 8),
    st.binary(max_size=16).map(lambda b: SYNC + b),
    st.just(b"{" * 200),
)


def read(blob: bytes):  # noqa: ANN201
    """parse_recording, allowing only its own error."""
    try:
        return parse_recording(blob, "fuzz.nsrec")
    except RecordingError:
        return None


@given(recordings(), st.data())
def test_damage_anywhere_keeps_every_intact_record_before_it(recording, data) -> None:
    blob, chunks = recording
    at = data.draw(st.integers(0, len(blob)), label="where")
    damage = data.draw(_DAMAGE, label="damage")
    overwrite = data.draw(st.booleans(), label="overwrite")
    end = at + (len(damage) if overwrite else 0)
    damaged = blob[:at] + damage + blob[end:]
    result = read(damaged)
    if result is None:
        return  # refused in one line: only when the damage hit the file's start
    assert all(isinstance(w, str) and "\n" not in w for w in result.warnings)
    # Chunks wholly before the damage come back in order, byte for byte.
    header_end = len(blob) - sum(len(c) + RECORD_OVERHEAD for c in chunks)
    intact = b""
    pos = header_end
    for chunk in chunks:
        pos += len(chunk) + RECORD_OVERHEAD
        if pos > at:
            break
        intact += chunk
    if at >= header_end:
        assert result.data.startswith(intact)
    if damaged == blob:
        assert result.data == b"".join(chunks) and result.warnings == []


@given(st.binary(max_size=4000))
def test_random_bytes_never_break_the_recording_reader(blob: bytes) -> None:
    result = read(blob)
    if result is not None:
        assert result.damaged_bytes >= 0 and len(result.chunk_ends) == len(result.chunk_times)


@given(
    st.lists(st.sampled_from([SYNC, b"\x01", b"\x00", b"\xff", SYNC + b"\x01\x00"]), max_size=400)
)
def test_runs_of_sync_marks_never_break_the_recording_reader(parts: list[bytes]) -> None:
    result = read(encode_header({"format": FORMAT}) + b"".join(parts))
    assert result is not None  # a valid header: never refused, whatever follows


@given(
    st.one_of(
        st.binary(max_size=3000),
        recordings().map(lambda r: r[0]),
        st.builds(lambda a, b: a + b, recordings().map(lambda r: r[0]), st.binary(max_size=200)),
        st.lists(
            st.sampled_from([b"1,2\n", b"# rate=80\n", b"# rate=1e999\n", b"x\n"]), max_size=50
        ).map(b"".join),
    ),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_the_capture_loader_returns_a_capture_or_its_own_error(blob: bytes, rate) -> None:
    try:
        capture = load_capture_bytes(blob, "fuzz.bin", rate)
    except NordicError as exc:
        message = str(exc)
        assert message and "\n" not in message  # one line for the user
        return
    stream = capture.stream
    assert stream.samples > 0 and stream.sample_rate_hz is not None
    assert 1.0 <= stream.sample_rate_hz <= 100_000.0
    assert min(stream.counters.to_dict().values()) >= 0
    assert len(stream.index) == len(stream.counts) == len(stream.segment)
