"""``export summary --changed-since TIME``: tests added or changed since an instant,
for incremental dashboards.  Each kind of change is tested on its own, against
tests of another athlete that stay untouched."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from station.store import Store, ValidationError
from station.store.export import export_summary
from station.store.validate import now_utc
from tests.store.test_cli import assert_one_line_error, run


def later_than(instant: str) -> str:
    """The first instant (ms resolution) after ``instant``: waits on the clock, no sleep."""
    while (now := now_utc()) <= instant:
        pass
    return now


@pytest.fixture
def tests_of_two(store: Store, athlete, capture_file: Path, cert_file: Path, tmp_path: Path):
    other = store.athletes.add("Bo Berg", external_id="S02", team="U21")
    made = []
    for n, who in enumerate((athlete.id, athlete.id, other.id)):
        path = tmp_path / f"t{n}.bin"
        path.write_bytes(capture_file.read_bytes() + b"\x00" * n)  # distinct recordings
        made.append(
            store.new_tests.import_file(
                who, path, certificate=cert_file, recorded_at=f"2024-0{n + 1}-01"
            )
        )
    return made


def changed_ids(store: Store, since: str, **filters) -> list[int]:
    return [row["test_id"] for row in store.exports.summary_rows(changed_since=since, **filters)]


def _reanalysed(store: Store, test_id: int) -> None:
    outcome = store.runs.recompute(test_id, settings={"cutoff_hz": 6.0})
    assert outcome.stored  # a new run, with other settings


CHANGES: dict[str, Callable[[Store, list], list[int]]] = {
    "new analysis run": lambda s, t: [_reanalysed(s, t[0].id), t[0].id][1:],
    "rep excluded": lambda s, t: [s.runs.exclude_rep(t[1].id, 1, "slipped"), t[1].id][1:],
    "voided": lambda s, t: [s.tests.void(t[2].id, "double start"), t[2].id][1:],
    "edited": lambda s, t: [s.tests.update(t[0].id, notes="shoe came off"), t[0].id][1:],
    "athlete edited": lambda s, t: [
        s.athletes.update(t[2].athlete_id, team="U23"),
        t[2].id,
    ][1:],
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_each_kind_of_change_is_found_and_nothing_else(
    store: Store, tests_of_two, kind: str
) -> None:
    since = later_than(store.audit_log()[-1].at)
    assert changed_ids(store, since) == []
    expected = CHANGES[kind](store, tests_of_two)
    assert changed_ids(store, since) == expected


def test_undoing_is_a_change_too(store: Store, tests_of_two) -> None:
    first, second, _ = tests_of_two
    store.tests.void(first.id, "double start")
    store.runs.exclude_rep(second.id, 1, "slipped")
    since = later_than(store.audit_log()[-1].at)
    store.tests.unvoid(first.id, "was fine")
    assert changed_ids(store, since) == [first.id]
    store.runs.include_rep(second.id, 1)
    assert changed_ids(store, since) == [first.id, second.id]


def test_a_new_test_is_found_and_filters_still_apply(
    store: Store, tests_of_two, capture_file: Path, cert_file: Path, tmp_path: Path
) -> None:
    since = later_than(store.audit_log()[-1].at)
    path = tmp_path / "new.bin"
    path.write_bytes(capture_file.read_bytes() + b"\x00" * 9)
    new = store.new_tests.import_file("S02", path, certificate=cert_file, recorded_at="2023-05-01")
    assert changed_ids(store, since) == [new.id]  # recorded long ago, added now
    assert changed_ids(store, since, team="U19") == []
    assert changed_ids(store, since, until="2023-12-31") == [new.id]


def test_a_change_that_is_not_in_the_summary_row_is_not_a_change(
    store: Store, tests_of_two
) -> None:
    since = later_than(store.audit_log()[-1].at)
    athlete_id = tests_of_two[0].athlete_id
    store.athletes.add_body_mass(athlete_id, 70)  # each test keeps its own body mass
    store.athletes.add_injury(athlete_id, "left", note="strain")
    store.athletes.archive(athlete_id)
    assert changed_ids(store, since) == []
    outcome = store.runs.recompute(tests_of_two[0].id)  # same definitions: nothing stored
    assert not outcome.stored and changed_ids(store, since) == []


def test_a_date_means_local_midnight_and_a_future_time_finds_nothing(
    store: Store, tests_of_two
) -> None:
    today = now_utc()[:10]
    assert len(changed_ids(store, "2000-01-01")) == 3
    assert changed_ids(store, "2999-01-01T00:00Z") == []
    # Today's midnight where the day began first (+12:00) is in the past at any hour in UTC;
    # -12:00's would still be ahead before noon UTC.
    assert len(changed_ids(store, f"{today}T00:00:00+12:00")) == 3


@pytest.mark.parametrize("bad", ["yesterday", "", "2024-13-01", "12:00", "2024-01-01T25:00"])
def test_a_time_that_is_not_one_is_refused(store: Store, bad: str) -> None:
    with pytest.raises(ValidationError, match="--changed-since .* is not a date or time"):
        list(store.exports.summary_rows(changed_since=bad))


def test_voided_tests_come_with_the_changes_marked(
    store: Store, tests_of_two, tmp_path: Path
) -> None:
    first, _, third = tests_of_two
    store.tests.void(first.id, "double start")  # before: stays out, as without --changed-since
    since = later_than(store.audit_log()[-1].at)
    store.tests.void(third.id, "wrong athlete")
    report = export_summary(store, tmp_path / "delta.csv", changed_since=since)
    with open(report.files[0], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["test_id"], r["voided"]) for r in rows] == [(str(third.id), "true")]
    meta = json.loads(report.files[1].read_text())
    assert meta["filters"]["changed_since"] == since
    assert meta["filters"]["include_voided"] is True
    assert meta["next_changed_since"] < now_utc()


def test_cli_incremental_round(capsys, store: Store, tests_of_two, tmp_path: Path) -> None:
    first = tmp_path / "all.csv"
    code, out, _ = run(capsys, "export", "summary", "--out", str(first))
    assert code == 0 and out.startswith("3 test(s)")
    since = json.loads(first.with_suffix(".json").read_text())["next_changed_since"]
    store.runs.exclude_rep(tests_of_two[1].id, 1, "slipped")
    code, out, _ = run(
        capsys, "export", "summary", "--out", str(tmp_path / "d.csv"), "--changed-since", since
    )
    assert code == 0 and out.startswith("3 test(s)")  # within the minute of overlap: all again
    later = later_than(store.audit_log()[-1].at)
    store.tests.void(tests_of_two[0].id, "double start")
    code, out, _ = run(
        capsys, "export", "summary", "--out", str(tmp_path / "e.csv"), "--changed-since", later
    )
    assert code == 0 and out.startswith("1 test(s)")
    code, _, err = run(
        capsys, "export", "summary", "--out", str(tmp_path / "f.csv"), "--changed-since", "soon"
    )
    assert_one_line_error(code, err, "--changed-since 'soon' is not a date or time")
    assert not (tmp_path / "f.csv").exists()
