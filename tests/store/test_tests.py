"""Tests: import from every capture kind, exclusions, recompute and the run history."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from calibration.certificate import parse_certificate
from firmware_bridge.capture import load_capture
from firmware_bridge.errors import InputError, describe
from station.analysis import AnalysisSettings, analyze
from station.store import ConflictError, NotFoundError, Store, StoreError, ValidationError
from station.store.processing import new_reps, new_result
from tests.store import synth


def _analysis_of(path: Path, cert: dict, **kw) -> dict:
    """What `nordic-station analyze` computes for the same file."""
    return analyze(load_capture(path).stream, parse_certificate(cert), **kw).to_dict()


def test_import_keeps_the_exact_bytes_and_the_same_numbers_as_analyze(
    store: Store, athlete, capture_file: Path, cert_file: Path
) -> None:
    test = store.new_tests.import_file(
        athlete.id, capture_file, certificate=cert_file, operator="Kim", notes="baseline"
    )
    raw = capture_file.read_bytes()
    assert store.tests.recording(test.id) == raw
    assert test.recording_sha256 == hashlib.sha256(raw).hexdigest()
    assert (test.recording_size, test.recording_kind, test.source) == (
        len(raw),
        "binary",
        "import:session.bin",
    )
    assert (test.operator, test.notes, test.rig_serial, test.sample_rate_hz) == (
        "Kim",
        "baseline",
        "NR-SIM-0001",
        80.0,
    )
    assert (test.body_mass_kg, test.lever_arm_m) == (62.5, 0.42)
    assert test.certificate_id is not None
    assert store.certificates.get(test.certificate_id).data == synth.certificate()
    expected = _analysis_of(capture_file, synth.certificate(), body_mass_kg=62.5, lever_arm_m=0.42)
    assert test.result is not None and test.result.metrics == expected
    assert test.result.analysis_version == expected["analysis_version"]
    assert test.result.settings == expected["settings"]
    # And the model's truth: three reps, peaks within a few percent.
    truth = synth.rig().rep_windows()
    reps = store.tests.reps(test.id)
    assert len(reps) == len(truth) == 3
    for rep, known in zip(reps, truth, strict=True):
        assert rep.left_peak_n == pytest.approx(known.peak_n[0], rel=0.05)
        assert rep.right_peak_n == pytest.approx(known.peak_n[1], rel=0.05)
    assert store.audit_log("test", test.id)[0].after["recording_sha256"] == test.recording_sha256


def test_import_a_text_capture_and_a_station_recording(
    store: Store, athlete, tmp_path: Path, cert_file
) -> None:
    text = tmp_path / "diy.txt"
    text.write_bytes(synth.text_capture())
    from_text = store.new_tests.import_file("S01", text, certificate=cert_file)
    assert from_text.recording_kind == "text" and len(store.tests.reps(from_text.id)) == 3

    recording = synth.write_recording(tmp_path / "rec.nsrec")
    from_recording = store.new_tests.import_file(
        "S01", recording
    )  # its header carries the certificate
    assert from_recording.recording_kind == "recording"
    assert store.tests.recording(from_recording.id) == recording.read_bytes()
    header_start = load_capture(recording).header["started_utc"]
    assert from_recording.recorded_at[:19] == header_start[:19]
    # Same certificate content is stored once.
    assert from_recording.certificate_id == from_text.certificate_id
    assert len(store.certificates.find()) == 1


def test_a_capture_without_calibration_is_refused_and_nothing_is_stored(
    store: Store, athlete, capture_file: Path
) -> None:
    with pytest.raises(StoreError, match="carries no calibration: pass .* --calibration"):
        store.new_tests.import_file(athlete.id, capture_file)
    assert store.tests.of_athlete(athlete.id) == []


def test_a_capture_without_a_rate_needs_one(
    store: Store, athlete, tmp_path: Path, cert_file
) -> None:
    lines = synth.text_capture().decode().splitlines()
    path = tmp_path / "norate.txt"
    path.write_text("\n".join(line for line in lines if not line.startswith("# rate")) + "\n")
    with pytest.raises(InputError, match="no sample rate") as caught:
        store.new_tests.import_file(athlete.id, path, certificate=cert_file)
    assert "--rate" in describe(caught.value, for_cli=True)  # the option is in the CLI's hint
    test = store.new_tests.import_file(athlete.id, path, certificate=cert_file, rate_hz=80)
    assert test.sample_rate_hz == 80.0
    # A recompute decodes the stored bytes with the rate given at import.
    assert store.runs.recompute(test.id).changed is False


@pytest.mark.parametrize("kind", ["missing", "folder", "empty", "garbage"])
def test_unreadable_files_are_clear_errors(
    store: Store, athlete, tmp_path: Path, cert_file, kind
) -> None:
    path = tmp_path / "x.bin"
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="x.bin"):
        store.new_tests.import_file(athlete.id, path, certificate=cert_file)
    assert store.tests.of_athlete(athlete.id) == []


def test_certificate_problems_become_warnings(
    store: Store, athlete, capture_file, tmp_path: Path
) -> None:
    other = synth.certificate(serial="NR-OTHER")
    other["valid_until"] = "2020-01-01"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(other))
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=path)
    assert any("expired on 2020-01-01" in w for w in test.warnings)
    assert any("NR-OTHER" in w for w in test.warnings)
    assert store.tests.get(test.id).warnings == test.warnings


def test_the_body_mass_of_the_test_day_is_used(
    store: Store, athlete, capture_file, cert_file
) -> None:
    store.athletes.add_body_mass(athlete.id, 70.0, "2024-01-01")
    test = store.new_tests.import_file(
        athlete.id, capture_file, certificate=cert_file, recorded_at="2024-02-01T10:00"
    )
    assert test.body_mass_kg == 70.0
    left = test.result.metrics["summary"]["left"]
    assert left["relative_max_force_n_per_kg"] == pytest.approx(
        left["max_force_n"] / 70.0, abs=0.01
    )


def test_list_tests_newest_first_with_summaries(
    store: Store, athlete, capture_file, cert_file
) -> None:
    first = store.new_tests.import_file(
        athlete.id, capture_file, certificate=cert_file, recorded_at="2024-01-01T09:00"
    )
    second = store.new_tests.import_file(
        athlete.id, capture_file, certificate=cert_file, recorded_at="2024-05-01T09:00"
    )
    listed = store.tests.of_athlete("S01")
    assert [t.id for t in listed] == [second.id, first.id]
    assert listed[0].summary == second.result.summary
    assert (listed[0].reps, listed[0].excluded_reps) == (3, 0)
    # A time without a zone is the station's local time, stored as UTC.
    local_nine = datetime(2024, 1, 1, 9, 0).astimezone(UTC)
    assert first.recorded_at == local_nine.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    # The same bytes imported twice are stored once, and the second import says so.
    assert store.backend._one("SELECT count(*) FROM recordings")[0] == 1
    assert f"imported before as test {first.id}" in second.warnings[0]
    assert not any("imported before" in w for w in first.warnings)


def test_curves_are_stored_and_read_back(store: Store, athlete, capture_file, cert_file) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    certificate = parse_certificate(synth.certificate())
    fresh = analyze(
        load_capture(capture_file).stream, certificate, body_mass_kg=62.5, lever_arm_m=0.42
    )
    expected = fresh.curves.to_arrays()
    # Stored: the processed (filtered) forces as float32, the time axis, the sample map.
    stored = store.tests.curves(test.id, raw=False)
    assert set(stored) == {"time_s", "left_n", "right_n", "sample", "saturated"}
    np.testing.assert_array_equal(stored["time_s"], expected["time_s"])
    for name in ("left_n", "right_n"):
        assert stored[name].dtype == np.float32
        np.testing.assert_array_equal(stored[name], expected[name].astype(np.float32))
    np.testing.assert_array_equal(stored["sample"], expected["sample"])
    np.testing.assert_array_equal(stored["saturated"], expected["saturated"])
    # The unfiltered forces are rebuilt from the kept raw bytes, equal to float32 rounding.
    curves = store.tests.curves(test.id)
    for name in ("left_raw_n", "right_raw_n"):
        np.testing.assert_array_equal(np.isnan(curves[name]), np.isnan(expected[name]))
        np.testing.assert_allclose(curves[name], expected[name], rtol=1e-6, atol=1e-4)
    row_bytes = store.backend._one("SELECT sum(length(data)) FROM curves")[0]
    assert row_bytes < 2 * 4 * len(expected["time_s"]) + 10_000  # two float32 columns and a little


def test_exclude_and_include_a_rep(store: Store, athlete, capture_file, cert_file) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    first_run = test.result
    run = store.runs.exclude_rep(test.id, 2, "heel lifted", by="Kim")
    assert run.reason == "exclusion" and run.is_current and run.excluded == (2,)
    assert run.summary["reps_included"] == 2
    assert run.curves_result_id == first_run.id  # same curves, not stored twice
    # Same summary as the analysis computes with that exclusion.
    expected = _analysis_of(
        capture_file,
        synth.certificate(),
        body_mass_kg=62.5,
        lever_arm_m=0.42,
        excluded={2: "heel lifted"},
    )
    assert run.summary == expected["summary"]
    rep = store.tests.reps(test.id)[1]
    assert (rep.excluded, rep.exclusion_reason, rep.excluded_by) == (True, "heel lifted", "Kim")
    assert rep.excluded_at is not None
    # The first run is kept, unchanged.
    runs = store.tests.results(test.id)
    assert [(r.id, r.is_current) for r in runs] == [(first_run.id, False), (run.id, True)]
    assert runs[0].metrics == first_run.metrics
    np.testing.assert_array_equal(
        store.tests.curves(test.id)["left_n"], store.tests.curves(test.id, first_run.id)["left_n"]
    )

    with pytest.raises(StoreError, match="already excluded"):
        store.runs.exclude_rep(test.id, 2, "again")
    back = store.runs.include_rep(test.id, 2, by="Kim")
    assert back.summary == first_run.summary and back.excluded == ()
    assert not store.tests.reps(test.id)[1].excluded
    with pytest.raises(StoreError, match="not excluded"):
        store.runs.include_rep(test.id, 2)
    actions = [(e.action, e.before, e.after) for e in store.audit_log("rep", test.id)]
    assert actions == [
        (
            "exclude",
            {"rep": 2, "excluded": False, "reason": None},
            {"rep": 2, "excluded": True, "reason": "heel lifted"},
        ),
        (
            "include",
            {"rep": 2, "excluded": True, "reason": "heel lifted"},
            {"rep": 2, "excluded": False, "reason": None},
        ),
    ]


def test_bad_exclusions_are_refused(store: Store, athlete, capture_file, cert_file) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    with pytest.raises(NotFoundError, match=r"no rep 7 \(reps: 1, 2, 3\)"):
        store.runs.exclude_rep(test.id, 7, "x")
    with pytest.raises(ValidationError, match="reason must not be empty"):
        store.runs.exclude_rep(test.id, 1, "  ")
    with pytest.raises(ValidationError, match="not a rep number"):
        store.runs.exclude_rep(test.id, "two", "x")
    with pytest.raises(NotFoundError, match="no test 99"):
        store.runs.exclude_rep(99, 1, "x")
    assert len(store.tests.results(test.id)) == 1


def test_recompute_unchanged_stores_nothing(store: Store, athlete, capture_file, cert_file) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    outcome = store.runs.recompute(test.id)
    assert (outcome.changed, outcome.stored, outcome.new) == (False, False, None)
    assert outcome.new_metrics == test.result.metrics
    assert len(store.tests.results(test.id)) == 1


def test_recompute_with_other_settings_keeps_both_runs(
    store: Store, athlete, capture_file, cert_file
) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    store.runs.exclude_rep(test.id, 3, "cramp")
    settings = AnalysisSettings(cutoff_hz=4.0)
    dry = store.runs.recompute(test.id, settings=settings, dry_run=True)
    assert dry.changed and not dry.stored and len(store.tests.results(test.id)) == 2
    outcome = store.runs.recompute(test.id, settings=settings, by="researcher")
    assert outcome.stored and outcome.new is not None and outcome.new.is_current
    assert outcome.new.settings["cutoff_hz"] == 4.0
    assert outcome.old.metrics["summary"] != outcome.new.metrics["summary"]
    runs = store.tests.results(test.id)
    assert [r.reason for r in runs] == ["import", "exclusion", "recompute"]
    assert [r.is_current for r in runs] == [False, False, True]
    assert outcome.new.curves_result_id == outcome.new.id  # new curves, stored with the run
    # The exclusion survives the recompute (matched by time).
    rep = store.tests.reps(test.id)[2]
    assert (rep.excluded, rep.exclusion_reason) == (True, "cramp")
    assert outcome.new.excluded == (3,)
    # Old curves still readable; the new ones differ (different filter).
    assert not np.array_equal(
        store.tests.curves(test.id)["left_n"], store.tests.curves(test.id, runs[0].id)["left_n"]
    )
    # With the test's own settings nothing changes.
    assert store.runs.recompute(test.id, keep_settings=True).changed is False


def test_a_concurrent_change_is_detected_not_overwritten(
    store: Store, athlete, capture_file, cert_file
) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    stale = test.result.id
    store.runs.exclude_rep(test.id, 1, "first writer")
    from firmware_bridge.capture import load_capture as load
    from station.analysis import analyze as run

    result = run(load(capture_file).stream, parse_certificate(synth.certificate()))
    payload = new_result(result, "recompute")
    with pytest.raises(ConflictError, match="changed meanwhile"):
        store.backend.add_result(
            test.id, payload, new_reps(payload.metrics, {}), stale, "second writer"
        )
    assert len(store.tests.results(test.id)) == 2
    assert store.tests.reps(test.id)[0].excluded


def test_edit_a_test(store: Store, athlete, capture_file, cert_file) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    other = store.athletes.add("Right Person")
    store.tests.update(
        test.id, notes="wrong athlete picked", athlete=other.id, operator="Lee", by="admin"
    )
    moved = store.tests.get(test.id)
    assert (moved.athlete_id, moved.notes, moved.operator) == (
        other.id,
        "wrong athlete picked",
        "Lee",
    )
    assert [t.id for t in store.tests.of_athlete(other.id)] == [test.id]
    entry = store.audit_log("test", test.id)[-1]
    assert entry.before["athlete_id"] == athlete.id and entry.after["athlete_id"] == other.id
    with pytest.raises(ValidationError, match="nothing to change"):
        store.tests.update(test.id)
    with pytest.raises(NotFoundError):
        store.tests.update(test.id, athlete="nobody")


def test_certificates_and_verifications(store: Store) -> None:
    first = store.certificates.add(synth.certificate())
    again = store.certificates.add(synth.certificate())
    assert first.id == again.id and first.data == synth.certificate()
    other = store.certificates.add(synth.certificate("NR-0002"))
    assert [c.id for c in store.certificates.find("NR-0002")] == [other.id]
    check = store.certificates.add_verification(
        {"mass_kg": 20.0, "expected_n": 196.13, "measured_n": {"left": 196.0, "right": 196.4}},
        certificate_id=first.id,
        device_serial="NR-SIM-0001",
        passed=True,
        operator="Kim",
    )
    assert check.passed is True and check.data["mass_kg"] == 20.0
    assert store.certificates.verifications(first.id) == [check]
    with pytest.raises(InputError, match="gain_n_per_count"):
        store.certificates.add({"format": "nordic-station.calibration/1", "channels": {}})


def test_a_tests_audit_trail_is_in_time_order_with_its_reps(
    store: Store, athlete, capture_file, cert_file
) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=cert_file)
    store.runs.exclude_rep(test.id, 1, "heel lifted", by="Kim")
    store.tests.update(test.id, notes="second", by="Kim")
    store.runs.include_rep(test.id, 1, by="Kim")
    trail = [(e.entity, e.action) for e in store.test_audit_log(test.id)]
    assert [t for t in trail if not t[1].startswith("result:")] == [
        ("test", "create"),
        ("rep", "exclude"),
        ("test", "update"),
        ("rep", "include"),
    ]
    assert trail.index(("rep", "exclude")) < trail.index(("test", "update"))
    assert [e.at for e in store.test_audit_log(test.id)] == sorted(
        e.at for e in store.test_audit_log(test.id)
    )


@pytest.mark.sqlite_only("writes an audit row the way a sync does, into the SQLite file")
def test_an_entry_synced_later_but_made_earlier_reads_first(
    store: Store, home: Path, athlete
) -> None:
    import sqlite3
    import uuid

    store.athletes.update(athlete.id, notes="made here", by="Kim")
    made_here = store.audit_log("athlete", athlete.id)[-1].at
    earlier = "2000-01-01T00:00:00.000000+00:00"
    with sqlite3.connect(store.folder / "nordic-station.sqlite3") as conn:
        conn.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after, uuid) "
            "VALUES (?, 'Lee', 'athlete', ?, 'update', '{}', '{}', ?)",
            (earlier, athlete.id, str(uuid.uuid4())),
        )
    trail = store.audit_log("athlete", athlete.id)
    assert trail[0].at == earlier and trail[0].actor == "Lee"
    assert trail[-1].at == made_here
