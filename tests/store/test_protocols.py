"""Protocol, knee angle and position stored with every test (issue 15 §1): through the
import, live and recovery paths, the CLI, the exports and the schema migration."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from firmware_bridge.messages import Info
from firmware_bridge.recording import RecordingWriter
from firmware_bridge.virtual_rig import VirtualRig
from firmware_bridge.virtual_rig.ramp import RampContraction, RampModel
from station import paths
from station.store import Store, ValidationError, open_store, protocols, schema
from tests.cli_run import run_cli
from tests.store import synth

RATE = 200.0
# Left only, then both legs, then right only.
CONTRACTIONS = (
    RampContraction("left", 4.0, 1200.0, 420.0),
    RampContraction("left", 11.0, 1500.0, 500.0),
    RampContraction("right", 11.05, 1000.0, 380.0),
    RampContraction("right", 18.0, 900.0, 300.0),
)


@pytest.fixture(scope="module")
def isometric_bytes() -> tuple[bytes, dict]:
    model = RampModel(CONTRACTIONS, seed=2, rate_hz=RATE)
    rig = VirtualRig(model, rate_hz=RATE, seed=2, serial_number="NR-SIM-0001")
    return rig.capture_bytes(model.session_duration_s()), synth.certificate()


@pytest.fixture
def isometric_file(tmp_path: Path, isometric_bytes: tuple[bytes, dict]) -> Path:
    path = tmp_path / "iso.bin"
    path.write_bytes(isometric_bytes[0])
    return path


def test_an_isometric_import_is_analysed_per_leg_and_keeps_its_angle(
    store: Store, athlete, isometric_file: Path
) -> None:
    test = store.new_tests.import_file(
        athlete.id,
        isometric_file,
        certificate=synth.certificate(),
        protocol="isometric",
        knee_angle_deg="30",
        position="prone",
    )
    assert (test.protocol, test.knee_angle_deg, test.position) == ("isometric", 30.0, "prone")
    assert test.result is not None
    settings = test.result.settings
    assert (settings["protocol"], settings["knee_angle_deg"], settings["position"]) == (
        "isometric",
        30.0,
        "prone",
    )
    legs = [r["legs"] for r in test.result.metrics["reps"]]
    assert legs == [["left"], ["left", "right"], ["right"]]
    reps = store.tests.reps(test.id)
    assert reps[0].right_peak_n is None and reps[2].left_peak_n is None
    listed = store.tests.of_athlete(athlete.id)[0]
    assert (listed.protocol, listed.knee_angle_deg, listed.position) == (
        "isometric",
        30.0,
        "prone",
    )
    created = store.audit_log("test", test.id)[0]
    assert created.after["knee_angle_deg"] == 30.0 and created.after["position"] == "prone"
    # A recompute with today's definitions keeps the test's protocol, angle and position,
    # and so does a bulk one: neither turns the test into a Nordic.
    outcome = store.runs.recompute(test.id, settings={"cutoff_hz": 8.0})
    assert outcome.stored and outcome.new is not None
    assert (outcome.new.settings["protocol"], outcome.new.settings["knee_angle_deg"]) == (
        "isometric",
        30.0,
    )
    assert store.runs.recompute_targets() == ([test.id], 0)
    store.runs.recompute_all(workers=1)
    again = store.tests.get(test.id)
    assert again.result is not None and again.result.settings["cutoff_hz"] == 10.0
    assert [r["legs"] for r in again.result.metrics["reps"]] == legs
    assert again.result.settings["position"] == "prone"
    assert store.runs.recompute_targets() == ([], 1)


def test_a_nordic_import_has_no_angle(store: Store, athlete, capture_file: Path) -> None:
    test = store.new_tests.import_file(athlete.id, capture_file, certificate=synth.certificate())
    assert (test.protocol, test.knee_angle_deg, test.position) == ("nordic_eccentric", None, None)
    assert test.result is not None and test.result.settings["protocol"] == "nordic"


@pytest.mark.parametrize(
    ("protocol", "angle", "position", "message"),
    [
        ("isometric", 181, None, "outside 0 to 180"),
        ("isometric", -1, None, "outside 0 to 180"),
        ("isometric", "steep", None, "must be a number"),
        ("isometric", float("nan"), None, "outside 0 to 180"),
        (None, 30, None, "only for the isometric protocol"),
        ("nordic", None, "prone", "only for the isometric protocol"),
        ("isometric", 30, "x" * 61, "longer than 60"),
        ("sprint", None, None, "not one of"),
    ],
)
def test_bad_protocol_values_are_refused_by_name(
    store: Store, athlete, capture_file: Path, protocol, angle, position, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        store.new_tests.import_file(
            athlete.id,
            capture_file,
            certificate=synth.certificate(),
            protocol=protocol,
            knee_angle_deg=angle,
            position=position,
        )
    assert store.tests.of_athlete(athlete.id) == []


def test_settings_alone_can_make_an_import_isometric(
    store: Store, athlete, isometric_file: Path
) -> None:
    test = store.new_tests.import_file(
        athlete.id,
        isometric_file,
        certificate=synth.certificate(),
        settings={"protocol": "isometric", "knee_angle_deg": 60.0},
    )
    assert (test.protocol, test.knee_angle_deg) == ("isometric", 60.0)


def _record(store: Store, athlete_id: int, data: bytes, **kind: object):
    pending = store.live.begin(athlete_id, certificate=synth.certificate(), **kind)
    writer = RecordingWriter(
        pending.path, info=Info(int(RATE * 1000), "NR-SIM-0001"), calibration=synth.certificate()
    )
    writer.write(data)
    writer.close()
    return pending


def test_live_and_recovered_tests_keep_their_angle(
    home: Path, athlete, isometric_bytes: tuple[bytes, dict]
) -> None:
    with open_store(actor="app") as store:
        pending = _record(
            store,
            athlete.id,
            isometric_bytes[0],
            protocol="isometric",
            knee_angle_deg=90.0,
            position="90/90",
        )
        assert (pending.protocol, pending.knee_angle_deg, pending.position) == (
            "isometric",
            90.0,
            "90/90",
        )
        test = store.live.finish(pending)
        assert (test.source, test.knee_angle_deg, test.position) == ("live", 90.0, "90/90")
        assert test.result is not None and test.result.settings["protocol"] == "isometric"
        left_behind = _record(
            store, athlete.id, isometric_bytes[0], protocol="isometric", knee_angle_deg=0
        )
        store.live.in_progress.locks.pop(left_behind.id).release()  # as if the station had died
    with open_store(actor="app") as store:
        [found] = store.recovery.pending()
        assert found.knee_angle_deg == 0.0 and not found.live
        recovered = store.recovery.recover(found.id)
        assert (recovered.recovered, recovered.protocol, recovered.knee_angle_deg) == (
            True,
            "isometric",
            0.0,
        )


def test_exports_carry_protocol_angle_and_position(
    store: Store, athlete, isometric_file: Path, tmp_path: Path
) -> None:
    from station.store.export import export_summary, export_test

    test = store.new_tests.import_file(
        athlete.id,
        isometric_file,
        certificate=synth.certificate(),
        protocol="isometric",
        knee_angle_deg=30,
        position="prone",
    )
    out = tmp_path / "out"
    out.mkdir()
    export_summary(store, out / "summary.csv")
    header, row = (out / "summary.csv").read_text().splitlines()[:2]
    columns = dict(zip(header.split(","), row.split(","), strict=False))
    assert (columns["protocol"], columns["knee_angle_deg"], columns["position"]) == (
        "isometric",
        "30.0",
        "prone",
    )
    export_test(store, test.id, out)
    meta = json.loads((out / f"test-{test.id}.json").read_text())
    assert meta["test"]["knee_angle_deg"] == 30.0 and meta["test"]["position"] == "prone"
    rep = meta["reps"][0]
    assert rep["right"] is None and set(rep["left"]["rfd_window_n_per_s"]) == {
        "0-50ms",
        "0-100ms",
        "0-150ms",
        "0-200ms",
        "0-250ms",
    }


@pytest.mark.sqlite_only("upgrades an SQLite file of schema 6 (a server starts at schema 8)")
def test_a_version_6_database_gains_the_columns_and_their_checks(home: Path) -> None:
    home.mkdir(parents=True)
    db = paths.database_path(home)
    conn = sqlite3.connect(db)
    with conn:
        for migration in schema.MIGRATIONS[:6]:
            for step in migration.steps:
                step(conn) if callable(step) else conn.execute(step)
        conn.execute("PRAGMA user_version = 6")
    conn.close()
    with open_store() as store:
        assert store.backend.migrated_from == 6
    conn = sqlite3.connect(db)
    for table in ("tests", "pending_tests"):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        assert {"knee_angle_deg", "position"} <= columns
    conn.execute(
        "INSERT INTO athletes (name, name_key, created_at, updated_at, uuid) "
        "VALUES ('A', 'a', 'x', 'x', ?)",
        (str(uuid.uuid4()),),
    )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        conn.execute(
            "INSERT INTO pending_tests (athlete_id, file_name, started_at, started_by, "
            "protocol, knee_angle_deg, uuid) VALUES (1, 'f', 'x', 'x', 'isometric', 181, ?)",
            (str(uuid.uuid4()),),
        )
    conn.close()


def test_cli_import_list_and_show_name_the_protocol(
    capsys, home: Path, isometric_file: Path, cert_file: Path
) -> None:
    def run(*argv: str) -> tuple[int, str, str]:
        return run_cli(capsys, *argv)

    assert run("athlete", "add", "--name", "Ada", "--external-id", "S1")[0] == 0
    code, out, err = run(
        "test",
        "import",
        "S1",
        str(isometric_file),
        "--calibration",
        str(cert_file),
        "--protocol",
        "isometric",
        "--knee-angle",
        "30",
        "--position",
        "prone",
    )
    assert code == 0, err
    test_id = out.strip()
    code, out, _ = run("test", "list", "S1")
    assert code == 0 and "Isometric 30° (prone)" in out
    code, out, _ = run("test", "show", test_id)
    assert code == 0 and "Isometric 30° (prone)" in out
    code, out, _ = run("test", "show", test_id, "--json")
    assert json.loads(out)["knee_angle_deg"] == 30.0
    code, _, err = run(
        "test",
        "import",
        "S1",
        str(isometric_file),
        "--calibration",
        str(cert_file),
        "--protocol",
        "isometric",
        "--knee-angle",
        "200",
    )
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "knee angle" in lines[0]
    assert "Traceback" not in err


def test_a_station_recording_brings_its_protocol_to_an_import(
    store: Store, athlete, tmp_path: Path, isometric_bytes: tuple[bytes, dict]
) -> None:
    """What the Test screen writes in the recording's header is used when nothing is
    given (a replay saved to an athlete, a re-import); what is given wins."""
    path = tmp_path / "iso.nsrec"
    writer = RecordingWriter(
        path,
        info=Info(int(RATE * 1000), "NR-SIM-0001"),
        calibration=synth.certificate(),
        metadata={"protocol": "isometric", "knee_angle_deg": 90.0, "position": "90/90"},
    )
    writer.write(isometric_bytes[0])
    writer.close()
    test = store.new_tests.import_file(athlete.id, path)
    assert (test.protocol, test.knee_angle_deg, test.position) == ("isometric", 90.0, "90/90")
    assert test.result is not None and test.result.settings["knee_angle_deg"] == 90.0
    nordic = store.new_tests.import_file(athlete.id, path, protocol="nordic")
    assert (nordic.protocol, nordic.knee_angle_deg) == ("nordic_eccentric", None)
    odd = tmp_path / "odd.nsrec"
    writer = RecordingWriter(
        odd,
        info=Info(int(RATE * 1000), "NR-SIM-0001"),
        calibration=synth.certificate(),
        metadata={"protocol": "isometric", "knee_angle_deg": 400},
    )
    writer.write(isometric_bytes[0])
    writer.close()
    # odd metadata never blocks the import
    assert store.new_tests.import_file(athlete.id, odd).protocol == "nordic_eccentric"


def test_an_isometric_tests_angle_and_position_are_corrected_after_saving(
    capsys, home: Path, store: Store, athlete, isometric_file: Path, cert_file: Path
) -> None:
    """`test edit --knee-angle --position`: audited, in the history's protocol group, taken
    by a recompute; refused on a Nordic test (as at import) and out of range, in one line."""
    test = store.new_tests.import_file(
        athlete.id,
        isometric_file,
        certificate=cert_file,
        protocol="isometric",
        knee_angle_deg=60,
        position="seated",
    )
    fixed = store.tests.update(test.id, knee_angle="30", position="prone", by="admin")
    assert (fixed.knee_angle_deg, fixed.position) == (30.0, "prone")
    entry = store.audit_log("test", test.id)[-1]
    assert entry.before == {"knee_angle_deg": 60.0, "position": "seated"}
    assert entry.after == {"knee_angle_deg": 30.0, "position": "prone"}
    summary = next(s for s in store.tests.of_athlete(athlete.id) if s.id == test.id)
    assert (summary.knee_angle_deg, summary.position) == (30.0, "prone")
    redo = protocols.of_test(store.tests.get(test.id)).settings(None)  # what a recompute uses
    assert (redo.knee_angle_deg, redo.position) == (30.0, "prone")
    assert store.tests.update(test.id, position="", by="admin").position is None
    nordic = store.new_tests.import_file(athlete.id, isometric_file, certificate=cert_file)
    with pytest.raises(ValidationError, match="Nordic test"):
        store.tests.update(nordic.id, knee_angle=30)
    with pytest.raises(ValidationError, match="outside 0 to 180"):
        store.tests.update(test.id, knee_angle=200)
    assert store.tests.get(test.id).knee_angle_deg == 30.0


def test_cli_test_edit_corrects_the_knee_angle_and_position(
    capsys, home: Path, isometric_file: Path, cert_file: Path
) -> None:
    def run(*argv: str) -> tuple[int, str, str]:
        return run_cli(capsys, *argv)

    assert run("athlete", "add", "--name", "Ada", "--external-id", "S1")[0] == 0
    code, out, err = run(
        "test",
        "import",
        "S1",
        str(isometric_file),
        "--calibration",
        str(cert_file),
        "--protocol",
        "isometric",
        "--knee-angle",
        "60",
    )
    assert code == 0, err
    iso = out.strip()
    code, _, err = run("test", "edit", iso, "--knee-angle", "30", "--position", "prone")
    assert code == 0 and f"test {iso} updated" in err
    code, out, _ = run("test", "show", iso, "--json")
    shown = json.loads(out)
    assert (shown["knee_angle_deg"], shown["position"]) == (30.0, "prone")
    code, out, err = run(
        "test", "import", "S1", str(isometric_file), "--calibration", str(cert_file)
    )
    nordic = out.strip()
    for argv, words in (
        ((nordic, "--knee-angle", "30"), "only for the isometric protocol"),
        ((iso, "--knee-angle", "200"), "knee angle"),
    ):
        code, _, err = run("test", "edit", *argv)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and words in lines[0], err
        assert "Traceback" not in err
