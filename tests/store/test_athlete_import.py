"""``athlete import FILE.csv``: a dry run that says per line what would happen,
then one all-or-nothing transaction; every cell of the file is untrusted."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.store import DuplicateError, Store, ValidationError
from station.store.athlete_import import MAX_IMPORT_BYTES
from tests.store.test_cli import assert_one_line_error, run

HEADER = "Name,External ID,Date of Birth,Sex,Sport,Team,Dominant Leg,Body Mass\n"


def write(tmp_path: Path, text: str | bytes, name: str = "athletes.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def actions(store: Store, path: Path) -> list[tuple[int, str]]:
    return [(line.line, line.action) for line in store.athlete_import.plan(path).lines]


def test_dry_run_lists_every_row_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "Ada Lovelace,S01,2005-03-02,f,football,U19,right,62.5\n"
        "Bo Berg,,,m,,U19,L,80\n"
        ",,,,,,,\n"
        "Cy,S03,2030-01-01,,,,,\n",
    )
    plan = store.athlete_import.plan(path)
    assert [(x.line, x.action) for x in plan.lines] == [
        (2, "add"), (3, "add"), (4, "empty"), (5, "refused"),
    ]  # fmt: skip
    assert "date of birth 2030-01-01 is in the future" in plan.lines[3].detail
    assert "importing this file again would add them again" in plan.lines[1].detail
    assert store.athletes.find(include_archived=True) == []
    assert store.backend.audit_log() == []
    with pytest.raises(ValidationError, match="1 row.* refused: nothing imported"):
        store.athlete_import.apply(plan)
    assert store.athletes.find(include_archived=True) == []


def test_apply_adds_and_changes_matched_by_external_id(store: Store, tmp_path: Path) -> None:
    kept = store.athletes.add("Ada Lovelace", external_id="S01", team="U19", body_mass_kg=60)
    path = write(
        tmp_path,
        "team; EXTERNAL_id ;name;body mass (kg)\n"  # any order, case, spacing; semicolons
        "U21;S01;;62,5\n"  # empty name keeps the stored one; decimal comma
        "U19;S02;Bo Berg;80\n"
        "U21;S01x;Cy;\n",
    )
    plan = store.athlete_import.plan(path)
    assert [x.action for x in plan.lines] == ["change", "add", "add"]
    assert plan.lines[0].detail.endswith("team U19 -> U21, body mass 60 -> 62.5 kg")
    ids = store.athlete_import.apply(plan, by="importer")
    assert ids[0] == kept.id and len(set(ids)) == 3
    ada = store.athletes.get(kept.id)
    assert (ada.name, ada.team, ada.body_mass_kg) == ("Ada Lovelace", "U21", 62.5)
    bo = store.athletes.resolve("ext:S02")
    assert (bo.name, bo.team, bo.body_mass_kg) == ("Bo Berg", "U19", 80.0)
    audit = [
        (e.entity_id, e.action, e.actor) for e in store.backend.audit_log() if e.actor == "importer"
    ]
    assert audit == [
        (kept.id, "body_mass", "importer"),
        (kept.id, "update", "importer"),
        (bo.id, "create", "importer"),
        (ids[2], "create", "importer"),
    ]
    # The same file again: everything is already so.
    assert [x.action for x in store.athlete_import.plan(path).lines] == ["same"] * 3


def test_private_values_are_named_not_shown_in_a_change(store: Store, tmp_path: Path) -> None:
    store.athletes.add("Ada Lovelace", external_id="S01", date_of_birth="2005-03-02")
    path = write(tmp_path, "name,external id,date of birth\nAda King,S01,2004-12-10\n")
    (line,) = store.athlete_import.plan(path).lines
    assert line.action == "change" and "name changed, date of birth changed" in line.detail
    assert "King" not in line.detail and "2004" not in line.detail


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ('=HYPERLINK("http://x"),S9', "name '=HYPERLINK"),
        ("Ada,@SUM(A1)", "external id '@SUM(A1)' looks like a spreadsheet formula"),
        ("Ada,+cmd|' /C calc'!A0", "looks like a spreadsheet formula"),
        ("Ada,S9,,,-2+3", "sport '-2+3' looks like a spreadsheet formula"),
        ("Ada,#12", "cannot start with '#'"),
        ("Ada,ext:9", "cannot start with"),
        ("Ada,S9,02/03/2005", "is not a date: use YYYY-MM-DD"),
        ("Ada,S9,,unknown", "sex 'unknown' is not one of"),
        ("Ada,S9,,,,,both", "dominant leg 'both' is not one of"),
        ("Ada,S9,,,,,,0", "body mass 0 kg is impossible"),
        ("Ada,S9,,,,,,heavy", "body mass must be a number"),
        ("Ada,S9,,,,,,nan", "body mass must be a finite number"),
        ("Ada,S9,,,,,,-70", "body mass -70 kg is impossible"),
        (",S9", "name is empty: a new athlete needs a name"),
        ("\u200b,S9", "only invisible characters"),
        ("Ada\x07,S9", "control characters"),
        ("Ada,S9,,,,,", "7 cells but the header has 8"),
        ("Ada,S9,,,,,,,,", "10 cells but the header has 8"),
        ("Ada," + "x" * 5000, "external id holds 5000 characters (at most 200)"),
        ("Ada,S9,,,," + "T" * 300, "team holds 300 characters (at most 200)"),
    ],
)
def test_bad_rows_are_refused_naming_line_and_problem(
    store: Store, tmp_path: Path, row: str, reason: str
) -> None:
    if "cells but" not in reason:
        row += "," * (7 - row.count(","))  # the other cells empty
    path = write(tmp_path, HEADER + "Bo,S1,,,,,,\n" + row + "\n")
    plan = store.athlete_import.plan(path)
    assert [x.action for x in plan.lines] == ["add", "refused"]
    assert plan.lines[1].line == 3 and reason in plan.lines[1].detail, plan.lines[1].detail


def test_bytes_that_are_not_utf8_refuse_the_row_by_line(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfname,team\nAda,U19\nJos\xe9,U19\n")  # BOM, then Latin-1
    plan = store.athlete_import.plan(path)
    assert [(x.line, x.action) for x in plan.lines] == [(2, "add"), (3, "refused")]
    assert "name is not UTF-8 text: save the file as 'CSV UTF-8'" in plan.lines[1].detail


def test_a_multiline_cell_keeps_the_line_numbers_right(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, 'name,team\n"Ada","U\n19"\nBo,=1+1\n')
    lines = store.athlete_import.plan(path).lines
    assert [(x.line, x.action) for x in lines] == [(2, "add"), (4, "refused")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("naam,team\nAda,U19\n", "line 1: unknown column 'naam'"),
        ("name,Name\nAda,Ada\n", "column 'name' appears twice"),
        ("team,sport\nU19,football\n", "no 'name' column"),
        ("name\xff,team\n".encode("latin-1"), "the header is not UTF-8 text"),
        ("name,team\nAda,U19\n".encode("utf-16"), "is UTF-16 text: save it as 'CSV UTF-8'"),
        (b"name,team\nAda,U19\nB\x00o,U19\n", "line 3 holds a NUL byte"),
        (b"", "is empty"),
        ('name,team\n"' + "x" * 200_000 + '",U19\n', "not readable as CSV"),
    ],
)
def test_bad_files_are_one_clear_error(
    store: Store, tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ValidationError, match=".*".join(map(_escape, message.split("'")))):
        store.athlete_import.plan(path)


def _escape(text: str) -> str:
    import re

    return re.escape(text)


def test_devices_fifos_and_huge_files_are_refused_before_reading(
    store: Store, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError, match="not a regular file"):
        store.athlete_import.plan("/dev/zero")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError, match="not a regular file"):
        store.athlete_import.plan(fifo)
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_IMPORT_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ValidationError, match="files over 16 MB are refused"):
        store.athlete_import.plan(huge)
    with pytest.raises(ValidationError, match="no such file"):
        store.athlete_import.plan(tmp_path / "missing.csv")


def test_the_import_is_all_or_nothing_in_the_database(store: Store, tmp_path: Path) -> None:
    """Another writer takes an external id between the dry run and the write: the
    whole import is rolled back, not just that row."""
    path = write(tmp_path, "name,external id\nAda,S01\nBo,S02\nCy,S03\n")
    plan = store.athlete_import.plan(path)
    assert [x.action for x in plan.lines] == ["add", "add", "add"]
    store.athletes.add("Someone Else", external_id="S03")
    before = len(store.backend.audit_log())
    with pytest.raises(DuplicateError):
        store.athlete_import.apply(plan)
    assert [a.name for a in store.athletes.find()] == ["Someone Else"]
    assert len(store.backend.audit_log()) == before


def test_cli_dry_run_then_apply(capsys, home: Path, tmp_path: Path) -> None:
    good = write(tmp_path, HEADER + "Ada Lovelace,S01,2005-03-02,f,football,U19,right,62.5\n")
    code, out, err = run(capsys, "athlete", "import", str(good))
    assert code == 0 and out == "line 2: add: 'Ada Lovelace' (external id 'S01')\n"
    assert "dry run: 1 to add" in err and "--apply" in err
    assert run(capsys, "athlete", "list", "--json")[1].strip() == "[]"
    code, out, err = run(capsys, "athlete", "import", str(good), "--apply", "--by", "coach")
    assert code == 0 and "imported: 1 to add" in err
    code, out, _ = run(capsys, "athlete", "show", "S01", "--json", "--history")
    assert '"team": "U19"' in out and '"actor": "coach"' in out


def test_cli_refused_rows_exit_2_with_one_error_line(capsys, home: Path, tmp_path: Path) -> None:
    bad = write(tmp_path, HEADER + "Ada,S01,,,,,,\nBo,S02,,,,,,5\n")
    code, out, err = run(capsys, "athlete", "import", str(bad), "--apply")
    assert out.splitlines()[1].startswith("line 3: refused: body mass 5 kg is impossible")
    assert_one_line_error(code, err, "1 refused: nothing imported")
    assert run(capsys, "athlete", "list", "--json")[1].strip() == "[]"
    code, _, err = run(capsys, "athlete", "import", "/dev/zero")
    assert_one_line_error(code, err, "not a regular file")


def test_import_is_logged_without_names(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="station")
    path = write(tmp_path, "name,date of birth\nHermione Secretname,1987-06-05\n")
    store.athlete_import.apply(store.athlete_import.plan(path))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "athlete import applied: 1 athlete(s) written" in text
    assert "Hermione" not in text and "1987" not in text


CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "=1+1", "-1", "@x", "62,5", "2005-03-02", "f", "left", "S1", "#1",
                     "ext:1", "\u200b", "\x00", "\r", '"', "x" * 300, "nan", "1e400"]),
)  # fmt: skip


@pytest.mark.fuzz
@settings(max_examples=int(os.environ.get("NORDIC_FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    header=st.lists(st.sampled_from(HEADER.strip().split(",") + ["bogus"]), min_size=1,
                    max_size=9),
    rows=st.lists(st.lists(CELLS, max_size=9), max_size=6),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)  # fmt: skip
def test_any_file_is_a_plan_or_one_clear_error_and_never_half_imported(
    store: Store, tmp_path: Path, header, rows, encoding: str, delimiter: str
) -> None:
    text = "\n".join(delimiter.join(cells) for cells in [header, *rows]) + "\n"
    path = write(tmp_path, text.encode(encoding, "replace"), "fuzz.csv")
    before = len(store.backend.audit_log())
    try:
        plan = store.athlete_import.plan(path)
    except ValidationError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert [line.line for line in plan.lines] == sorted({line.line for line in plan.lines})
    assert all(line.detail and "\n" not in line.detail for line in plan.lines)
    assert len(store.backend.audit_log()) == before  # a plan writes nothing
    try:
        store.athlete_import.apply(plan)
    except (ValidationError, DuplicateError):
        assert len(store.backend.audit_log()) == before  # all or nothing
