"""Voiding a test: it leaves every list, trend and export but keeps its recording
and audit trail, needs a reason, and can be undone (issue 11 §1)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from station.store import ConflictError, Store, ValidationError
from station.store.export import export_summary, export_test
from tests.store.test_cli import assert_one_line_error, run


@pytest.fixture
def two_tests(store: Store, athlete, capture_file: Path, cert_file: Path, tmp_path: Path):
    first = store.new_tests.import_file(
        athlete.id, capture_file, certificate=cert_file, recorded_at="2024-01-01T10:00"
    )
    other = tmp_path / "second.bin"
    other.write_bytes(capture_file.read_bytes() + b"\x00")
    second = store.new_tests.import_file(
        athlete.id, other, certificate=cert_file, recorded_at="2024-02-01T10:00"
    )
    return first, second


def test_a_voided_test_leaves_lists_but_keeps_recording_and_audit(store: Store, two_tests) -> None:
    first, second = two_tests
    raw = store.tests.recording(second.id)
    voided = store.tests.void(second.id, "double start", operator="Dr Who")
    assert (voided.voided, voided.void_reason) == (True, "double start")
    assert [t.id for t in store.tests.of_athlete(first.athlete_id)] == [first.id]
    listed = store.tests.of_athlete(first.athlete_id, include_voided=True)
    assert [(t.id, t.voided, t.void_reason) for t in listed] == [
        (second.id, True, "double start"),
        (first.id, False, None),
    ]
    # The team view shows the newest *valid* test ("previous valid test").
    assert store.tests.latest()[first.athlete_id].id == first.id
    assert store.tests.latest(include_voided=True)[first.athlete_id].id == second.id
    assert [r["test_id"] for r in store.exports.summary_rows()] == [first.id]
    assert [r["test_id"] for r in store.exports.summary_rows(include_voided=True)] == [
        first.id,
        second.id,
    ]
    # Kept whole: the raw bytes, the test itself, and who voided it, when and why.
    assert store.tests.recording(second.id) == raw
    assert store.tests.get(second.id).result == second.result
    entry = store.audit_log("test", second.id)[-1]
    assert (entry.action, entry.actor, entry.after) == (
        "void",
        "Dr Who",
        {"voided": True, "reason": "double start"},
    )

    back = store.tests.unvoid(second.id, "was a real test")
    assert (back.voided, back.void_reason) == (False, None)
    assert [t.id for t in store.tests.of_athlete(first.athlete_id)] == [second.id, first.id]
    assert store.tests.latest()[first.athlete_id].id == second.id
    entry = store.audit_log("test", second.id)[-1]
    assert (entry.action, entry.actor, entry.before["void_reason"]) == (
        "unvoid",
        "tester",
        "double start",
    )


def test_an_athlete_whose_only_test_is_voided_leaves_the_team_view(store: Store, two_tests):
    first, second = two_tests
    store.tests.void(first.id, "wrong athlete")
    store.tests.void(second.id, "wrong athlete")
    assert store.tests.latest() == {}
    assert store.tests.of_athlete(first.athlete_id) == []


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_void_needs_a_reason(store: Store, two_tests, reason) -> None:
    with pytest.raises(ValidationError, match="reason"):
        store.tests.void(two_tests[0].id, reason)  # type: ignore[arg-type]
    assert store.tests.get(two_tests[0].id).voided is False
    assert [e.action for e in store.audit_log("test", two_tests[0].id)] == ["create"]


def test_voiding_twice_or_unvoiding_a_valid_test_is_refused(store: Store, two_tests) -> None:
    test = two_tests[0]
    with pytest.raises(ConflictError, match="not voided"):
        store.tests.unvoid(test.id, "oops")
    store.tests.void(test.id, "mistake")
    with pytest.raises(ConflictError, match=r"already voided \(mistake\)"):
        store.tests.void(test.id, "again")
    assert [e.action for e in store.audit_log("test", test.id)] == ["create", "void"]


def test_exports_leave_voided_tests_out_unless_asked(
    store: Store, two_tests, tmp_path: Path
) -> None:
    first, second = two_tests
    store.tests.void(second.id, "double start")
    export_summary(store, tmp_path / "s.csv")
    with open(tmp_path / "s.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["test_id"]), r["voided"]) for r in rows] == [(first.id, "false")]
    export_summary(store, tmp_path / "all.csv", include_voided=True)
    with open(tmp_path / "all.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["test_id"]), r["voided"], r["void_reason"]) for r in rows] == [
        (first.id, "false", ""),
        (second.id, "true", "double start"),
    ]
    export_test(store, second.id, tmp_path / "t")
    meta = json.loads((tmp_path / "t" / f"test-{second.id}.json").read_text())
    assert (meta["test"]["voided"], meta["test"]["void_reason"]) == (True, "double start")


def test_cli_void_unvoid_and_list_all(capsys, store: Store, two_tests) -> None:
    first, second = two_tests
    athlete = str(first.athlete_id)
    code, _, err = run(capsys, "test", "void", str(second.id), "--reason", "double start")
    assert code == 0 and "voided" in err
    code, out, _ = run(capsys, "test", "list", athlete)
    assert code == 0 and str(second.id) not in [line.split()[0] for line in out.splitlines()[1:]]
    code, out, _ = run(capsys, "test", "list", athlete, "--all")
    voided_line = [line for line in out.splitlines() if line.startswith(str(second.id) + " ")]
    assert code == 0 and "VOIDED: double start" in voided_line[0]
    code, out, _ = run(capsys, "test", "list", athlete, "--all", "--json")
    assert [t["voided"] for t in json.loads(out)] == [True, False]
    code, out, _ = run(capsys, "test", "show", str(second.id))
    assert "VOIDED: double start" in out
    assert_one_line_error(*run(capsys, "test", "void", str(second.id), "--reason", "x")[::2],
                          "already voided")  # fmt: skip
    code, _, err = run(capsys, "test", "void", str(first.id))
    assert code == 2 and "--reason" in err
    assert run(capsys, "test", "unvoid", str(second.id), "--reason", "real")[0] == 0
    code, out, _ = run(capsys, "test", "list", athlete)
    assert [line.split()[0] for line in out.splitlines()[1:]] == [str(second.id), str(first.id)]
