"""NordBord CSV traces: read by the station's own decoder, bad files refused
with the line that is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.choice import imported_trace_certificate
from firmware_bridge.decoder import decode_bytes
from firmware_bridge.nordbord import (
    COUNTS_PER_UNIT,
    NordBordError,
    is_trace,
    to_text_dialect,
)


def trace(
    header: str = "Time,Left Force,Right Force",
    rows: int = 100,
    rate: float = 50.0,
    sep: str = ",",
    time_scale: float = 1.0,
    skip: tuple[int, ...] = (),
) -> bytes:
    lines = [header]
    for i in range(rows):
        if i in skip:
            continue
        t = i / rate * time_scale
        lines.append(sep.join([f"{t:.4f}", f"{100 + i * 0.5:.2f}", f"{-1.25 + i:.2f}"]))
    return ("\r\n".join(lines) + "\r\n").encode()


def decoded(blob: bytes):
    text, rate = to_text_dialect(blob, "trace.csv")
    return decode_bytes(text), rate


@pytest.mark.parametrize(
    "header",
    [
        "Time,Left Force,Right Force",
        "Time,LeftForce,RightForce",
        " TIME , left force ,RIGHT_FORCE ",
        "Time (s),Left Force (N),Right Force [N]",
        "\ufeffTime,Left Force,Right Force",
    ],
)
def test_both_header_styles_read_the_same(header: str) -> None:
    stream, rate = decoded(trace(header))
    assert rate == 50.0
    assert stream.samples == 100 and stream.sample_rate_hz == 50.0
    newtons = stream.counts / COUNTS_PER_UNIT
    np.testing.assert_allclose(newtons[:, 0], 100 + np.arange(100) * 0.5)
    np.testing.assert_allclose(newtons[:, 1], -1.25 + np.arange(100))
    assert is_trace(trace(header))


def test_semicolons_and_milliseconds() -> None:
    stream, rate = decoded(trace("Time (ms);Left Force;Right Force", sep=";", time_scale=1000))
    assert rate == 50.0 and stream.samples == 100


def test_a_missing_sample_is_counted_as_dropped_not_smeared() -> None:
    stream, _ = decoded(trace(skip=(10, 11)))
    assert stream.samples == 98
    assert stream.counters.dropped_samples == 2


def test_the_certificate_turns_millinewtons_into_newtons() -> None:
    certificate = imported_trace_certificate("nordbord")
    assert certificate is not None and imported_trace_certificate("binary") is None
    channel = certificate["channels"]["left"]
    assert channel["gain_n_per_count"] * COUNTS_PER_UNIT == pytest.approx(1.0)
    assert channel["offset_counts"] == 0


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"Time,Left Force\n0,1\n0.02,2\n", "no right force column"),
        (b"Time,Left Force,Right Force\n0,1,2\n0.02,x,2\n", "line 3: left force 'x' is not"),
        (
            b"Time,Left Force,Right Force\n0,1,2\n0.04,1,2\n0.02,1,2\n",
            "line 4: time 0.02 is not after",
        ),
        (b"Time,Left Force,Right Force\n0,1,2\n", "fewer than two samples"),
        (b"Time,Left Force,Right Force\n0,1,2\n0.02,1\n", "line 3: 2 columns"),
        (b"Time,Left Force,Right Force\n0,1,2\n10,1,2\n20,1,2\n", "0.1 Hz; allowed is 1 Hz"),
        (
            b"Time,Left Force,Right Force\n0,1,2\n0.02,1,2\n0.03,1,2\n0.06,1,2\n",
            "line 4: time 0.03 s is off the 50 Hz grid",
        ),
        (b"Time,Left Force,Right Force\n0,1,2\n0.02,nan,2\n", "line 3: left force 'nan' is not a"),
        (b"Name,Score\nx,1\n", "line 1: no Time, Left Force and Right Force columns"),
        (b"Time,Left Force,Right Force\n0,1,2\n0.02,\xff,2\n", "byte 39 is not text"),
    ],
)
def test_bad_files_name_the_line(blob: bytes, message: str) -> None:
    with pytest.raises(NordBordError, match=message.replace("(", r"\(")):
        to_text_dialect(blob, "trace.csv")


def test_only_nordbord_exports_are_recognised() -> None:
    assert not is_trace(b"# rate=80\n10,20\n11,21\n")  # the text dialect
    assert not is_trace(b"\x00\x01\x02Time,Left,Right")
    assert not is_trace(b"NSREC\x00")
    assert not is_trace(b"Time,Score,Other\n")


def test_a_trace_is_analysed_by_our_definitions(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from firmware_bridge.capture import load_capture
    from station.cli import main

    rate = 50.0
    t = np.arange(0, 20, 1 / rate)
    force = np.zeros((len(t), 2))
    peaks = [(312.0, 287.5), (330.0, 301.0)]
    for start, (left, right) in zip((3.0, 11.0), peaks, strict=True):
        inside = (t >= start) & (t < start + 4.0)
        shape = np.sin(np.pi * (t[inside] - start) / 4.0)
        force[inside, 0] = left * shape
        force[inside, 1] = right * shape
    rows = ["Time,Left Force,Right Force"]
    rows += [
        f"{a:.2f},{b:.2f},{c:.2f}" for a, b, c in zip(t, force[:, 0], force[:, 1], strict=True)
    ]
    path = tmp_path / "nordbord-export.csv"
    path.write_text("\n".join(rows) + "\n")
    capture = load_capture(path)
    assert capture.kind == "nordbord"
    assert capture.stream.sample_rate_hz == rate
    assert any("imported NordBord trace" in w for w in capture.warnings)
    assert main(["analyze", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    reps = result["reps"]
    assert len(reps) == 2
    for rep, (left, right) in zip(reps, peaks, strict=True):
        assert rep["left"]["peak_force_n"] == pytest.approx(left, rel=0.015)
        assert rep["right"]["peak_force_n"] == pytest.approx(right, rel=0.015)
