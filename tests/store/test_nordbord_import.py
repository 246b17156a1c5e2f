"""``test import-nordbord``: a NordBord trace export becomes a test, analysed
by our definitions, with the file kept byte for byte; bad files get one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from station.store import Store
from tests.store.test_cli import assert_one_line_error, run


def nordbord_csv(path: Path, peak_left: float = 320.0, peak_right: float = 290.0) -> bytes:
    rate = 50.0
    t = np.arange(0, 12, 1 / rate)
    shape = np.where((t >= 3) & (t < 7), np.sin(np.pi * (t - 3) / 4), 0.0)
    rows = ["Time,LeftForce,RightForce"]
    rows += [
        f"{a:.2f},{peak_left * s:.2f},{peak_right * s:.2f}" for a, s in zip(t, shape, strict=True)
    ]
    blob = ("\r\n".join(rows) + "\r\n").encode()
    path.write_bytes(blob)
    return blob


def test_a_trace_becomes_a_test_with_its_file_kept(capsys, home: Path, tmp_path: Path) -> None:
    assert run(capsys, "athlete", "add", "--name", "Ada", "--external-id", "S01")[0] == 0
    blob = nordbord_csv(tmp_path / "export.csv")
    code, out, err = run(capsys, "test", "import-nordbord", "S01", str(tmp_path / "export.csv"))
    assert code == 0, err
    test_id = int(out)
    assert "imported NordBord trace" in err
    code, out, _ = run(capsys, "test", "show", str(test_id), "--json")
    shown = json.loads(out)
    assert shown["recording_kind"] == "nordbord"
    summary = shown["result"]["metrics"]["summary"]
    assert summary["left"]["max_force_n"] == pytest.approx(320.0, rel=0.015)
    assert summary["right"]["max_force_n"] == pytest.approx(290.0, rel=0.015)
    with Store.open(home) as store:
        raw, _, _ = store.backend.recording(test_id)
    assert raw == blob


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Name,Score\nAda,3\n", "line 1: no Time, Left Force and Right Force columns"),
        (b"Time,Left Force,Right Force\n0,1,2\n0.02,1,2\n0.01,1,2\n", "line 4: time 0.01"),
        (b"Time,Left Force,Right Force\n0,1,2\n0.02,abc,2\n", "line 3: left force 'abc'"),
        (b"Time,Left Force\n0,1\n0.02,1\n", "no right force column"),
    ],
)
def test_bad_traces_are_one_line_naming_the_line(
    capsys, home: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    assert run(capsys, "athlete", "add", "--name", "Ada")[0] == 0
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    code, _, err = run(capsys, "test", "import-nordbord", "1", str(path))
    assert_one_line_error(code, err, message)
    code, out, _ = run(capsys, "test", "list", "1", "--json")
    assert json.loads(out) == []  # nothing saved half
