"""Erasure and access on request (issue 12 §1): an erased athlete's name, date of
birth, notes, free text and raw recordings are gone from the database file, its
write-ahead log and its backups; export-all gives an athlete everything held."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from station import paths
from station.store import ConflictError, NotFoundError, Store, open_store
from tests.store import synth
from tests.store.test_cli import assert_one_line_error, run

NAME = "Zebedee Quantum-Fox"
SECRETS = [
    "Zebedee",
    "Quantum-Fox",
    "ZQF-4242",
    "1999-12-31",
    "allergic to latex",
    "torn at Anfield",
    "wobbly ankle today",
    "slipped on wet floor",
    "started by Zebedee's brother",
    "zebedee-session",
    "Quantum Fox",  # an old name, changed later: still in the audit before erasure
    "left calf near the old scar",  # an injury's free-text region
]


def _files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _leaks(folder: Path, needles: list[bytes]) -> list[tuple[str, bytes]]:
    return [
        (str(path.relative_to(folder)), needle)
        for path, data in _files(folder).items()
        for needle in needles
        if needle.lower() in data.lower()
    ]


@pytest.fixture
def subject(store: Store, tmp_path: Path, cert_file: Path, home: Path, engine: str):
    athlete = store.add_athlete(
        "Quantum Fox",
        external_id="ZQF-4242",
        date_of_birth="1999-12-31",
        notes="allergic to latex",
        team="Reds",
        body_mass_kg=80,
    )
    store.update_athlete(athlete.id, name=NAME)
    store.add_injury(athlete.id, "left", "2022-05-01", "torn at Anfield")
    store.add_injury(
        athlete.id, "right", "2023-02-01", None, region="left calf near the old scar", grade="2b"
    )
    capture = synth.write_capture(tmp_path / "zebedee-session.bin", seed=7)
    first = store.import_test(
        athlete.id, capture, certificate=cert_file, notes="wobbly ankle today"
    )
    store.exclude_rep(first.id, 1, "slipped on wet floor")
    second = store.import_test(
        athlete.id, synth.write_capture(tmp_path / "zebedee-session-2.bin", seed=8),
        certificate=cert_file,
    )  # fmt: skip
    store.void_test(second.id, "started by Zebedee's brother")
    pending = store.begin_test(athlete.id, certificate=cert_file, notes="wobbly ankle today")
    pending.path.write_bytes(synth.capture(seed=9))
    store.abort_test(pending)  # the partial recording goes to discarded/
    other = store.add_athlete("Another Person", external_id="AP-1", notes="keep me")
    kept = store.import_test(other.id, synth.write_capture(tmp_path / "other.bin", seed=11),
                             certificate=cert_file)  # fmt: skip
    store.backend.checkpoint()
    if engine == "sqlite":
        # A backup copy, as an upgrade would leave it (a plain SQLite copy of the file).
        backups = paths.backups_dir(home)
        backups.mkdir()
        target = sqlite3.connect(backups / "nordic-station-schema4-20260101T000000000Z.sqlite3")
        source = sqlite3.connect(store.path)
        source.backup(target)
        source.close()
        target.close()
    raw = [store.recording(first.id), store.recording(second.id)]
    return athlete, first, second, other, kept, raw


@pytest.mark.sqlite_only("looks for erased bytes in the SQLite file, its WAL and backups")
def test_erase_removes_the_athlete_from_database_wal_and_backups(
    capsys, store: Store, subject, home: Path
) -> None:
    athlete, first, second, other, kept, raw = subject
    discarded = synth.capture(seed=9)[1000:1064]  # the aborted test's partial recording
    needles = [s.encode() for s in SECRETS] + [blob[1000:1064] for blob in raw] + [discarded]
    assert {needle for _, needle in _leaks(home, needles)} == set(needles)  # there before
    kept_raw = store.recording(kept.id)
    summary = store.get_test(first.id).result.summary

    code, _, err = run(capsys, "athlete", "erase", str(athlete.id), "--reason", "request 17",
                       "--by", "dpo")  # fmt: skip
    assert code == 0, err
    assert "2 test(s)" in err and "2 raw recording(s) removed" in err
    assert _leaks(home, needles) == []  # database, WAL, backups, discarded/: nothing left

    with open_store() as reopened:
        erased = reopened.get_athlete(athlete.id)
        assert erased.name == "erased athlete" and erased.erased_at is not None
        assert (erased.external_id, erased.date_of_birth, erased.notes) == (None, None, "")
        assert erased.archived
        # Numbers stay: the tests, their forces, body mass; the raw bytes are gone.
        test = reopened.get_test(first.id)
        assert test.result is not None
        assert test.result.summary == summary
        assert reopened.reps(first.id)[0].exclusion_reason == "[erased]"
        assert reopened.curves(first.id) is not None
        with pytest.raises(NotFoundError, match="erased"):
            reopened.recording(first.id)
        assert reopened.test_ids() == [kept.id]  # recompute --all skips erased recordings
        # The audit keeps that it happened, by whom, when and why.
        entry = reopened.audit_log("athlete", athlete.id)[-1]
        assert (entry.action, entry.actor) == ("erase", "dpo")
        assert entry.after["reason"] == "request 17" and entry.after["tests"] == 2
        # Nobody else was touched.
        assert reopened.get_athlete(other.id).notes == "keep me"
        assert reopened.recording(kept.id) == kept_raw
        assert reopened.backend.integrity_check() == []
        # The guards are back: the audit is append-only again.
        conn = sqlite3.connect(reopened.path)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit_log SET actor = 'x'")
        conn.close()
        with pytest.raises(ConflictError, match="erased"):
            reopened.update_athlete(athlete.id, notes="again")
        again = reopened.erase_athlete(athlete.id, "finish")  # idempotent: finishes a cut one
        assert (again.recordings, again.compacted) == (0, True)
    backup = next(paths.backups_dir(home).iterdir())
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT name FROM athletes WHERE id = ?", (athlete.id,)).fetchone() == (
        "erased athlete",
    )
    assert (
        conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0] > 5
    )  # its guards are back too
    conn.close()


def test_a_reason_that_names_the_athlete_is_not_kept(store: Store, subject) -> None:
    athlete = subject[0]
    store.erase_athlete(athlete.id, f"{NAME} asked by email")
    assert store.audit_log("athlete", athlete.id)[-1].after["reason"] == "[erased]"


def test_erase_needs_a_reason(capsys, store: Store, subject) -> None:
    athlete = subject[0]
    code, _, err = run(capsys, "athlete", "erase", str(athlete.id))
    assert code == 2 and "--reason" in err
    assert_one_line_error(*run(capsys, "athlete", "erase", str(athlete.id), "--reason", " ")[::2],
                          "reason must not be empty")  # fmt: skip
    assert store.get_athlete(athlete.id).name == NAME


def test_export_all_gives_everything_held(capsys, store: Store, subject, tmp_path: Path) -> None:
    athlete, first, second, _, _, raw = subject
    out = tmp_path / "access"
    code, stdout, err = run(capsys, "athlete", "export-all", "ZQF-4242", "--out", str(out))
    assert code == 0, err
    data = json.loads((out / "athlete.json").read_text())
    assert data["athlete"]["name"] == NAME and data["athlete"]["date_of_birth"] == "1999-12-31"
    assert [i["note"] for i in data["injuries"]] == ["torn at Anfield", ""]
    assert data["injuries"][1]["region"] == "left calf near the old scar"
    assert [m["kg"] for m in data["body_mass_history"]] == [80.0]
    assert sorted(t["id"] for t in data["tests"]) == [first.id, second.id]
    voided = next(t for t in data["tests"] if t["id"] == second.id)
    assert voided["voided"] and voided["void_reason"] == "started by Zebedee's brother"
    assert {"create", "update", "injury", "void", "exclude"} <= {e["action"] for e in data["audit"]}
    assert data["certificates"] and data["tests"][0]["runs"]
    with open(out / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(r["test_id"]) for r in rows) == [first.id, second.id]
    assert (out / "tests" / f"test-{first.id}.csv").is_file()
    assert (out / "recordings" / f"test-{first.id}.bin").read_bytes() == raw[0]
    assert (out / "recordings" / f"test-{second.id}.bin").read_bytes() == raw[1]
    # Another athlete's data is not in it.
    assert "Another Person" not in "".join(p.read_text(errors="replace")
                                           for p in out.rglob("*") if p.is_file())  # fmt: skip
    # A second export does not mix into the first.
    assert_one_line_error(*run(capsys, "athlete", "export-all", "ZQF-4242", "--out",
                               str(out))[::2], "not empty")  # fmt: skip
    shutil.rmtree(out)
