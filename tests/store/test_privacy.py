"""Athletes' data protected: no formulas in CSVs, nothing identifying in
anonymised exports (issue 12 §1)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from station.store import Store
from station.store.csv_cells import safe_cell, safe_row
from station.store.export import export_summary, export_test
from tests.store import synth

HOSTILE = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", " =1", "\uff1d1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_text_is_escaped(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-12.5, -3, 0, "-12.5", "+4", "-1e-3", "12", "", None, "Ada"])
def test_numbers_and_plain_text_are_left_alone(value) -> None:
    assert safe_cell(value) == value


def _cells(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell and not _is_number(cell):
                assert cell.lstrip(" ")[0] not in "=+-@\t\r\uff1d", (cell, row)


@pytest.fixture
def hostile(store: Store, tmp_path: Path, cert_file: Path):
    athlete = store.athletes.add(
        '=HYPERLINK("http://x","Ada")',
        external_id="@ext",
        team="+team",
        sport="-sport",
        notes="=notes",
        body_mass_kg=70,
    )
    path = synth.write_capture(tmp_path / "=file.bin")
    test = store.new_tests.import_file(
        athlete.id, path, certificate=cert_file, operator="@op", notes="=n"
    )
    return athlete, test


def test_every_csv_the_station_writes_is_free_of_formulas(
    store: Store, hostile, tmp_path: Path
) -> None:
    athlete, test = hostile
    for anonymise in (False, True):
        out = tmp_path / f"summary-{anonymise}.csv"
        export_summary(store, out, anonymise=anonymise)
        rows = _cells(out)
        _assert_no_formula(rows)
        header = rows[0]
        row = dict(zip(header, rows[1], strict=True))
        assert row["team"] == "'+team" and row["sport"] == "'-sport"
        if not anonymise:
            assert row["name"] == "'" + athlete.name and row["operator"] == "'@op"
        # Numbers stay numbers.
        assert _is_number(row["left_max_force_n"]) and _is_number(row["body_mass_kg"])
    export_test(store, test.id, tmp_path / "t")
    rows = _cells(tmp_path / "t" / f"test-{test.id}.csv")
    _assert_no_formula(rows)
    negative = [c for row in rows[1:] for c in row if c.startswith("-")]
    assert negative and all(_is_number(c) for c in negative)  # raw forces dip below zero


def test_safe_row_keeps_types() -> None:
    assert safe_row([1, -2.5, "=x", None]) == [1, -2.5, "'=x", None]


# -- anonymised exports -----------------------------------------------------------------
def test_anonymised_exports_hold_nothing_identifying(store: Store, tmp_path: Path) -> None:
    athlete = store.athletes.add(
        "Zelda Quixotic-Marrow",
        external_id="EXT-98765",
        date_of_birth="2001-07-19",
        notes="private note about her knee",
        team="U21",
        sport="football",
        sex="female",
        body_mass_kg=61,
    )
    store.athletes.add_injury(athlete.id, "left", "2023-01-02", "hamstring strain at Wembley")
    cert = synth.certificate()
    cert["operator"] = "Technician Bartholomew"
    cert["notes"] = "calibrated in Oslo lab by Bartholomew"
    cert_path = tmp_path / "cal.json"
    cert_path.write_text(json.dumps(cert))
    capture = synth.write_capture(tmp_path / "zelda-quixotic-session.bin")
    test = store.new_tests.import_file(
        athlete.id,
        capture,
        certificate=cert_path,
        operator="Dr Ophelia Nightingale",
        notes="felt a twinge, said Zelda",
    )
    store.runs.exclude_rep(test.id, 2, "heel lifted, Zelda distracted by phone", by="Dr Ophelia")
    identifying = [
        "Zelda",
        "Quixotic",
        "EXT-98765",
        "2001-07-19",
        "private note",
        "Wembley",
        "Bartholomew",
        "Oslo",
        "Ophelia",
        "Nightingale",
        "twinge",
        "distracted",
        "zelda-quixotic-session",
        ".bin",
    ]
    out = tmp_path / "anon"
    out.mkdir()
    export_summary(store, out / "summary.csv", anonymise=True, athlete="EXT-98765")
    export_test(store, test.id, out, anonymise=True)
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [
        "summary.csv",
        "summary.json",
        f"test-{test.id}.csv",
        f"test-{test.id}.json",
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        fields = _fields(path, text)
        assert fields, path
        for field in fields:  # every field of every output, headers and sidecars included
            for value in identifying:
                assert value.casefold() not in field.casefold(), (path.name, field, value)
        assert not re.search(r"\b2001-07-19\b", text)
    meta = json.loads((out / f"test-{test.id}.json").read_text())
    # Still useful: pseudonym, age, the certificate's numbers, the exclusion itself.
    assert meta["athlete"]["athlete"] == store.exports.pseudonym(athlete.id)
    assert meta["athlete"]["age_years"] > 20
    assert meta["certificate"]["channels"]["left"]["gain_n_per_count"] == pytest.approx(
        cert["channels"]["left"]["gain_n_per_count"]
    )
    assert [e["rep"] for e in meta["exclusions"]] == [2]


def _fields(path: Path, text: str) -> list[str]:
    """Every key and value of a JSON file, every cell of a CSV file."""
    if path.suffix == ".csv":
        return [cell for row in _cells(path) for cell in row]
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                found.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            found.append("" if value is None else str(value))

    walk(json.loads(text))
    return found
