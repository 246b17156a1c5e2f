"""Exports: tidy CSVs a researcher can load as is, sidecars, filters, pseudonyms, no overwrite."""

from __future__ import annotations

import csv
import json
import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from station.analysis import AnalysisSettings, asymmetry
from station.store import Store, StoreError, ValidationError, open_store
from station.store.export import export_summary, export_test
from tests.store import synth


@pytest.fixture
def filled(store: Store, athlete, capture_file: Path, cert_file: Path) -> Store:
    """Three tests of Ada (U19) on three days, one of Bo (Senior); one rep excluded."""
    for day in ("2024-01-10", "2024-02-10", "2024-03-10"):
        store.new_tests.import_file(
            athlete.id, capture_file, certificate=cert_file, recorded_at=f"{day}T10:00"
        )
    bo = store.athletes.add(
        "Bo Berg", external_id="S02", team="Senior", date_of_birth="1999-12-31", body_mass_kg=80
    )
    store.new_tests.import_file(
        bo.id, capture_file, certificate=cert_file, recorded_at="2024-02-15T10:00"
    )
    store.runs.exclude_rep(2, 1, "slipped")
    return store


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_summary_has_one_row_per_test_and_every_metric(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "summary.csv"
    report = export_summary(filled, out)
    assert report.rows == 4 and report.files == (out, tmp_path / "summary.json")
    rows = _read(out)
    assert [r["test_id"] for r in rows] == ["1", "2", "4", "3"]  # by time
    test = filled.tests.get(2)
    row = rows[1]
    summary = test.result.summary
    assert float(row["left_max_force_n"]) == summary["left"]["max_force_n"]
    assert float(row["right_avg_force_n"]) == summary["right"]["avg_force_n"]
    assert float(row["imbalance_max_pct"]) == summary["imbalance_max_pct"]
    assert (
        float(row["left_relative_max_force_n_per_kg"])
        == summary["left"]["relative_max_force_n_per_kg"]
    )
    assert float(row["right_max_torque_nm"]) == summary["right"]["max_torque_nm"]
    assert (row["reps_detected"], row["reps_included"], row["excluded_reps"]) == ("3", "2", "1")
    assert row["flags"] == "reps_excluded"
    assert (row["name"], row["external_id"], row["team"], row["recovered"]) == (
        "Ada Lovelace",
        "S01",
        "U19",
        "false",
    )
    assert row["age_years"] == "18.9" and row["recorded_at"].startswith("2024-02-10")
    assert rows[0]["excluded_reps"] == ""  # missing = empty
    # Every row has every column, and the sidecar describes each one.
    assert all(len(r) == len(rows[0]) for r in rows)
    meta = json.loads((tmp_path / "summary.json").read_text())
    assert meta["rows"] == 4 and set(meta["columns"]) == set(rows[0])
    assert meta["columns"]["left_max_force_n"]["unit"] == "N"
    assert meta["columns"]["imbalance_avg_pct"]["unit"] == "%"
    assert meta["columns"]["left_relative_avg_force_n_per_kg"]["unit"] == "N/kg"
    assert meta["columns"]["left_max_torque_nm"]["unit"] == "N·m"


def test_summary_filters(filled: Store, tmp_path: Path) -> None:
    def ids(**filters) -> list[str]:
        out = tmp_path / "f.csv"
        export_summary(filled, out, force=True, **filters)
        return [r["test_id"] for r in _read(out)]

    assert ids(athlete="S02") == ["4"]
    assert ids(team="u19") == ["1", "2", "3"]
    assert ids(since="2024-02-10") == ["2", "4", "3"]
    assert ids(until="2024-02-10") == ["1", "2"]  # inclusive of the whole day
    assert ids(since="2024-02-11", until="2024-03-01") == ["4"]
    assert ids(team="nobody") == []
    with pytest.raises(ValidationError, match="after --until"):
        ids(since="2024-03-01", until="2024-01-01")
    with pytest.raises(ValidationError, match="not a date"):
        ids(since="last week")


def test_anonymised_summary_has_stable_pseudonyms_and_no_identifiers(
    filled: Store, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    export_summary(filled, first, anonymise=True)
    export_summary(filled, second, anonymise=True, team="U19")
    text = first.read_text()
    for secret in ("Ada", "Lovelace", "S01", "Bo Berg", "S02", "2005-03-02", "1999-12-31"):
        assert secret not in text
    rows = _read(first)
    assert {"name", "external_id", "date_of_birth", "athlete_id", "operator"}.isdisjoint(rows[0])
    pseudonyms = {r["test_id"]: r["athlete"] for r in rows}
    assert pseudonyms["1"] == pseudonyms["2"] == pseudonyms["3"] != pseudonyms["4"]
    assert all(r["athlete"] == pseudonyms[r["test_id"]] for r in _read(second))  # stable
    assert rows[0]["age_years"] == "18.9"
    meta = json.loads(first.with_suffix(".json").read_text())
    assert meta["anonymised"] is True and "HMAC" in meta["pseudonyms"]


def test_pseudonyms_depend_on_the_database_secret(
    filled: Store, tmp_path: Path, monkeypatch
) -> None:
    ours = filled.exports.pseudonym(1)
    monkeypatch.setenv("NORDIC_STATION_HOME", str(tmp_path / "other"))
    monkeypatch.delenv("NORDIC_STATION_DATABASE", raising=False)  # another database
    with open_store() as other:
        other.athletes.add("Someone")
        assert other.exports.pseudonym(1) != ours
    assert ours.startswith("P-") and len(ours) == 14


def test_existing_files_are_never_silently_replaced(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "summary.csv"
    out.write_text("precious\n")
    with pytest.raises(StoreError, match="already exists: pass --force"):
        export_summary(filled, out)
    assert out.read_text() == "precious\n" and not out.with_suffix(".json").exists()
    out.unlink()
    out.with_suffix(".json").write_text("also precious")
    with pytest.raises(StoreError, match="summary.json already exists"):
        export_summary(filled, out)
    assert not out.exists()
    export_summary(filled, out, force=True)
    assert len(_read(out)) == 4
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    with pytest.raises(StoreError, match="is a folder"):
        export_summary(filled, tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        export_summary(filled, tmp_path / "missing" / "s.csv")


def test_an_export_into_a_pipe_writes_through_it_and_leaves_it_a_pipe(
    filled: Store, tmp_path: Path
) -> None:
    """A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written straight: renaming
    a finished file over it would replace the device itself (it once replaced /dev/null)."""
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()), daemon=True)
    reader.start()
    export_summary(filled, pipe)  # no --force needed: nothing is replaced
    reader.join(10)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    rows = list(csv.DictReader(received[0].splitlines()))
    assert len(rows) == 4 and rows[0]["test_id"] == "1"


def test_empty_export_still_has_a_header(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "empty.csv"
    assert export_summary(store, out).rows == 0
    header = out.read_text().splitlines()
    assert len(header) == 1 and header[0].startswith("test_id,athlete_id,name")


def test_test_export_curves_and_sidecar(filled: Store, tmp_path: Path) -> None:
    report = export_test(filled, 2, tmp_path / "out")
    csv_path, json_path = report.files
    assert (csv_path.name, json_path.name) == ("test-2.csv", "test-2.json")
    rows = _read(csv_path)
    curves = filled.tests.curves(2)
    assert report.rows == len(rows) == len(curves["time_s"])
    assert list(rows[0]) == [
        "time_s",
        "left_force_n",
        "right_force_n",
        "left_raw_force_n",
        "right_raw_force_n",
        "saturated_left",
        "saturated_right",
        "rep",
    ]
    i = int(np.nanargmax(curves["left_n"]))
    assert float(rows[i]["left_force_n"]) == pytest.approx(float(curves["left_n"][i]), abs=1e-3)
    assert float(rows[i]["time_s"]) == pytest.approx(curves["time_s"][i], abs=1e-6)
    assert rows[i]["rep"] != ""
    assert {r["rep"] for r in rows} == {"", "1", "2", "3"}
    meta = json.loads(json_path.read_text())
    test = filled.tests.get(2)
    assert meta["analysis"]["analysis_version"] == test.result.analysis_version
    assert meta["analysis"]["settings"] == test.result.settings
    assert meta["analysis"]["filter"]["cutoff_hz"] == test.result.metrics["filter"]["cutoff_hz"]
    assert meta["certificate"] == filled.certificates.get(test.certificate_id).data
    assert meta["columns"]["left_force_n"]["unit"] == "N"
    assert meta["exclusions"] == [
        {"rep": 1, "reason": "slipped", "by": "tester", "at": meta["exclusions"][0]["at"]}
    ]
    assert meta["athlete"]["name"] == "Ada Lovelace"
    with pytest.raises(StoreError, match="already exists"):
        export_test(filled, 2, tmp_path / "out")
    anonymous = export_test(filled, 2, tmp_path / "anon", anonymise=True)
    text = anonymous.files[1].read_text()
    assert "Ada" not in text and "S01" not in text and "tester" not in text
    assert json.loads(text)["athlete"]["athlete"] == filled.exports.pseudonym(1)


def test_counters_reach_the_summary_and_the_sidecar_lists_ignored_pulls(
    store: Store, athlete, tmp_path: Path, cert_file: Path
) -> None:
    """Issue 12 §2: restarts, overruns, segments and corrupt lines in the summary CSV;
    the test sidecar lists the ignored pulls its flag mentions."""
    from firmware_bridge.virtual_rig import Athlete as Model
    from firmware_bridge.virtual_rig import NordicModel, VirtualRig
    from firmware_bridge.virtual_rig.model import Distractor

    model = Model(300, 250, reps=2, rest_s=5.0,
                  distractors=(Distractor.one_leg_pull(18.5),))  # fmt: skip
    faulty = VirtualRig(NordicModel(model, seed=3), rate_hz=80.0, serial_number="NR-SIM-0001",
                        faults=["overrun:10s:5"])  # fmt: skip
    # Stopped and started again within one capture: two segments.
    path = tmp_path / "restart.bin"
    path.write_bytes(faulty.capture_bytes(22.0) + synth.capture(seconds=12.0, seed=4))
    test = store.new_tests.import_file(athlete.id, path, certificate=cert_file)
    stream = test.result.metrics["stream"]
    assert stream["segments"] == 2 and stream["overrun_events"] >= 1
    report = export_summary(store, tmp_path / "s.csv")
    with open(report.files[0], newline="") as handle:
        row = next(csv.DictReader(handle))
    assert int(row["segments"]) == 2
    assert int(row["overrun_events"]) == stream["overrun_events"]
    assert int(row["device_restarts"]) == stream["device_restarts"]
    assert int(row["lines_corrupt"]) == 0
    columns = json.loads(report.files[1].read_text())["columns"]
    assert {"segments", "overrun_events", "device_restarts", "lines_corrupt"} <= set(columns)

    export_test(store, test.id, tmp_path / "t")
    meta = json.loads((tmp_path / "t" / f"test-{test.id}.json").read_text())
    assert "pulls_ignored" in meta["flags"]
    assert meta["ignored"] and meta["ignored"] == test.result.metrics["ignored"]
    assert meta["ignored"][0]["reason"] == "one_leg"


def test_text_captures_count_corrupt_lines_in_the_summary(
    store: Store, athlete, tmp_path: Path, cert_file: Path
) -> None:
    lines = synth.text_capture().decode().splitlines()
    lines.insert(100, "12,garbage")
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + "\n")
    store.new_tests.import_file(athlete.id, path, certificate=cert_file)
    report = export_summary(store, tmp_path / "s.csv")
    with open(report.files[0], newline="") as handle:
        assert next(csv.DictReader(handle))["lines_corrupt"] == "1"


def test_summary_names_the_asymmetry_formula_of_every_row(
    filled: Store, athlete, capture_file: Path, cert_file: Path, tmp_path: Path
) -> None:
    """Issue 15 §4: the export names the formula each test's imbalance figures are in."""
    signed = filled.new_tests.import_file(
        athlete.id,
        capture_file,
        certificate=cert_file,
        recorded_at="2024-04-10T10:00",
        settings=AnalysisSettings(asymmetry_formula="symmetry_index"),
    )
    out = tmp_path / "summary.csv"
    export_summary(filled, out)
    rows = {r["test_id"]: r for r in _read(out)}
    assert len(rows) == 5
    assert [rows[t]["asymmetry_formula"] for t in ("1", "2", "3", "4")] == ["pct_difference"] * 4
    row = rows[str(signed.id)]
    assert row["asymmetry_formula"] == "symmetry_index"
    left, right = float(row["left_max_force_n"]), float(row["right_max_force_n"])
    assert float(row["imbalance_max_pct"]) == pytest.approx(
        asymmetry(left, right, "symmetry_index"), abs=0.01
    )
    assert float(row["imbalance_max_difference_pct"]) == pytest.approx(
        asymmetry(left, right, "pct_difference"), abs=0.01
    )
    header = next(csv.reader(out.open(encoding="utf-8")))
    assert header.count("asymmetry_formula") == 1  # a run column, not repeated from the summary
    meta = json.loads((tmp_path / "summary.json").read_text())
    described = meta["columns"]["asymmetry_formula"]["description"]
    assert "signed_pct" in described and "symmetry_index" in described
    assert "asymmetry_formula" in meta["columns"]["imbalance_max_pct"]["description"]
