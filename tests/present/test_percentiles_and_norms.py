"""Percentiles within the clinic's own data, published norm tables, and the protocol groups
that keep a 30° isometric apart from a Nordic (issue 15 §4, §5)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from station.analysis.references import DEFAULT_REFERENCES
from station.present import norms
from station.present.history_data import last_change, previous_valid, trend_points
from station.present.percentiles import (
    MIN_GROUP,
    age_band,
    percentile_rank,
    standing,
    standing_text,
)
from station.present.protocols import keys_in, protocol_key, protocol_label

# -- a store stand-in with the public API percentiles use --------------------------------


@dataclass
class Athlete:
    id: int
    sport: str | None = "soccer"
    sex: str | None = "female"
    date_of_birth: dt.date | None = dt.date(2000, 6, 1)
    erased_at: str | None = None


@dataclass
class Summary:
    id: int
    athlete_id: int
    recorded_at: str
    summary: dict[str, Any]
    protocol: str = "nordic_eccentric"
    knee_angle_deg: float | None = None
    body_mass_kg: float | None = 70.0
    reps: int = 3
    excluded_reps: int = 0
    voided: bool = False


@dataclass
class Result:
    summary: dict[str, Any]


@dataclass
class Record(Summary):
    result: Result | None = None


@dataclass
class FakeStore:
    """The store's services that percentiles and the team view read, over two dicts."""

    athlete_rows: dict[int, Athlete] = field(default_factory=dict)
    test_rows: dict[int, list[Summary]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.athletes = SimpleNamespace(
            find=lambda team=None: list(self.athlete_rows.values()),
            get=lambda athlete_id: self.athlete_rows[athlete_id],
        )
        self.tests = SimpleNamespace(of_athlete=self.of_athlete)

    def of_athlete(self, athlete_id: int) -> list[Summary]:
        rows = self.test_rows.get(athlete_id, [])
        return sorted(rows, key=lambda t: t.recorded_at, reverse=True)


def summary(left: float | None, right: float | None) -> dict[str, Any]:
    return {"left": {"max_force_n": left}, "right": {"max_force_n": right}}


def add(store: FakeStore, athlete: Athlete, force: float, **kw: Any) -> Summary:
    store.athlete_rows[athlete.id] = athlete
    test = Summary(
        id=len(store.test_rows) * 10 + athlete.id,
        athlete_id=athlete.id,
        recorded_at=kw.pop("recorded_at", "2026-05-01T10:00:00.000Z"),
        summary=summary(force, force),
        **kw,
    )
    store.test_rows.setdefault(athlete.id, []).append(test)
    return test


def shown(store: FakeStore, athlete: Athlete, force: float, **kw: Any) -> Record:
    store.athlete_rows[athlete.id] = athlete
    return Record(
        id=999,
        athlete_id=athlete.id,
        recorded_at="2026-05-02T10:00:00.000Z",
        summary=summary(force, force),
        result=Result(summary(force, force)),
        **kw,
    )


# -- percentiles ----------------------------------------------------------------------


def test_percentile_rank_is_the_mid_rank_on_a_known_set() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile_rank(1.0, values) == 2.5
    assert percentile_rank(20.0, values) == 97.5
    assert percentile_rank(10.0, values) == 47.5
    assert percentile_rank(5.0, [5.0, 5.0, 1.0, 9.0]) == 50.0  # ties count half
    with pytest.raises(ValueError):
        percentile_rank(1.0, [])


def test_age_bands_on_the_test_day() -> None:
    on = dt.date(2026, 5, 1)
    assert age_band(dt.date(2010, 5, 2), on) == "under 16"  # 15 the day before 16
    assert age_band(dt.date(2010, 5, 1), on) == "16–17"
    assert age_band(dt.date(2008, 5, 1), on) == "18–24"
    assert age_band(dt.date(1981, 5, 1), on) == "45 and over"
    assert age_band(None, on) is None


def _group_of(size: int) -> tuple[FakeStore, Athlete]:
    """``size`` athletes in one group, forces 300, 310, ... N; athlete 1 is the one shown."""
    store = FakeStore()
    for i in range(2, size + 1):
        add(store, Athlete(i), 300.0 + 10 * (i - 1))
    return store, Athlete(1)


def test_a_group_under_20_gives_no_percentile() -> None:
    store, me = _group_of(MIN_GROUP - 1)
    result = standing(store, shown(store, me, 300.0))
    assert result.force_group == MIN_GROUP - 1 and result.force_percentile is None
    assert result.per_kg_percentile is None
    assert "at least 20" in standing_text(result)


def test_exact_percentiles_in_n_and_n_per_kg() -> None:
    store, me = _group_of(MIN_GROUP)  # forces 310..490 for the others, 300 N for me
    result = standing(store, shown(store, me, 405.0, body_mass_kg=90.0))
    # The others are 310, 320 ... 490 N: 10 of them below 405 N, so (10 + ½) / 20 = 52.5.
    assert result.force_group == 20
    assert result.force_percentile == pytest.approx(52.5)
    # N/kg: the others weigh 70 kg (4.43 ... 7.0 N/kg); 405 / 90 = 4.5 N/kg: only 310 N
    # (4.43) is below, so (1 + ½) / 20 = 7.5.
    assert result.per_kg_group == 20
    assert result.per_kg_percentile == pytest.approx(7.5)
    assert "P" in standing_text(result) and "N/kg" in standing_text(result)


def test_the_group_is_same_protocol_angle_sport_sex_and_age_band() -> None:
    store, me = _group_of(MIN_GROUP)
    # Outsiders: another sport, sex, age band, protocol or angle; a one-leg test; their
    # latest test is the one that counts (an older one in the group does not).
    add(store, Athlete(50, sport="rugby"), 900.0)
    add(store, Athlete(51, sex="male"), 900.0)
    add(store, Athlete(52, date_of_birth=dt.date(1970, 1, 1)), 900.0)
    add(store, Athlete(53), 900.0, protocol="isometric", knee_angle_deg=30.0)
    other = Athlete(54)
    add(store, other, 900.0, protocol="isometric", knee_angle_deg=60.0)
    store.test_rows[55] = [
        Summary(550, 55, "2026-04-01T10:00:00.000Z", summary(900.0, None)),
    ]
    store.athlete_rows[55] = Athlete(55)
    result = standing(store, shown(store, me, 405.0))
    assert result.force_group == 20  # none of the outsiders joined
    iso = standing(store, shown(store, me, 405.0, protocol="isometric", knee_angle_deg=30.0))
    assert iso.force_group == 2 and iso.force_percentile is None  # me and athlete 53 only


def test_no_percentile_without_sport_sex_or_birth_date() -> None:
    store, _ = _group_of(MIN_GROUP)
    result = standing(store, shown(store, Athlete(1, sex=None), 405.0))
    assert result.force_percentile is None and "sport, sex and birth date" in result.reason


# -- protocol groups ----------------------------------------------------------------------


def test_changes_are_never_judged_across_protocols_or_angles() -> None:
    tests = [
        Summary(1, 1, "2026-01-01T10:00:00.000Z", summary(300.0, 300.0)),
        Summary(2, 1, "2026-02-01T10:00:00.000Z", summary(500.0, 500.0), "isometric", 30.0),
        Summary(3, 1, "2026-03-01T10:00:00.000Z", summary(600.0, 600.0), "isometric", 60.0),
        Summary(4, 1, "2026-04-01T10:00:00.000Z", summary(310.0, 310.0)),
    ]
    points = trend_points(tests)
    before = previous_valid(points)
    assert before[4].test_id == 1  # not the isometric tests in between
    assert 2 not in before and 3 not in before  # each first in its own group
    assert last_change(points, 60.0)["left"].delta_n == pytest.approx(10.0)
    assert [p.test_id for p in trend_points(tests, protocol_key("isometric", 30.0))] == [2]
    assert keys_in(tests) == [
        ("nordic_eccentric", None),
        ("isometric", 30.0),
        ("isometric", 60.0),
    ]
    assert protocol_label("isometric", 90.0, "90/90") == "Isometric 90° (90/90)"
    assert protocol_label("training") == "Training"  # another protocol is its own group
    assert protocol_key("training", 30.0) == ("training", None)


# -- norm tables ------------------------------------------------------------------------


def _write(folder: Path, name: str, data: dict[str, Any] | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


GOOD = {
    "format": norms.FORMAT,
    "id": "clinic_iso30",
    "source": "Our clinic's 2025 squad testing",
    "population": "our U21 soccer squad",
    "protocol": "isometric",
    "knee_angle_deg": 30,
    "measure": "force_n",
    "unit": "N",
    "compared_with": "max",
    "percentiles": {"10": 200, "50": 300, "90": 400},
}


def test_the_shipped_tables_are_the_cited_reference_values() -> None:
    loaded = norms.load_all(None)
    assert loaded.problems == []
    by_id = {t.id: t for t in loaded.tables}
    lines = {line.id: line for line in DEFAULT_REFERENCES}
    opar = by_id["opar2015"]
    assert [c.value for c in opar.cutoffs] == [
        lines["opar2015_start"].value,
        lines["opar2015_end"].value,
    ]
    assert opar.source == lines["opar2015_start"].source
    assert [c.value for c in by_id["timmins2016"].cutoffs] == [lines["timmins2016"].value]
    assert by_id["timmins2016"].source == lines["timmins2016"].source


def test_a_clinic_table_loads_and_places_a_result(tmp_path: Path) -> None:
    _write(tmp_path / "norms", "iso30.json", GOOD)
    loaded = norms.load_all(tmp_path)
    assert loaded.problems == []
    table = next(t for t in loaded.tables if t.id == "clinic_iso30")
    assert table.place(250.0) == pytest.approx(30.0)  # halfway from P10 to P50
    assert table.place(150.0) is None
    key = protocol_key("isometric", 30.0)
    chosen = norms.applicable(loaded.tables, key, "soccer", "female")
    assert [t.id for t in chosen] == ["clinic_iso30"]  # the Nordic cut-offs do not apply
    lines = norms.norm_lines(chosen, summary(250.0, 150.0))
    assert lines == [
        "Left 250 N ≈P30; Right 150 N below P10 (our U21 soccer squad, "
        "Our clinic's 2025 squad testing)"
    ]
    assert norms.applicable(loaded.tables, protocol_key("isometric", 60.0), None, None) == []


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        ("{ not json", 1, "not valid JSON"),
        ({**GOOD, "format": "other/1"}, 2, '"format" must be'),
        ({**GOOD, "knee_angle_deg": 200}, 7, "0 to 180"),
        ({**GOOD, "unit": "kg"}, 9, '"unit" of force_n must be "N"'),
        ({**GOOD, "percentiles": {"10": 300, "50": 200}}, 11, "must not fall"),
        ({k: v for k, v in GOOD.items() if k != "source"}, None, '"source" is required'),
        ({**GOOD, "percentiles": {"150": 3}}, 12, "0 < P < 100"),
    ],
)
def test_a_malformed_table_is_one_line_naming_file_and_line(
    tmp_path: Path, change: Any, line: int | None, words: str
) -> None:
    folder = tmp_path / "norms"
    _write(folder, "ok.json", GOOD)
    bad = _write(folder, "bad.json", change)
    loaded = norms.load_tables([folder])
    assert [t.id for t in loaded.tables] == ["clinic_iso30"]  # the good one still loads
    [problem] = loaded.problems
    assert "\n" not in problem and words in problem
    assert problem.startswith(f"{bad}:{line}:" if line else f"{bad}:")


def test_duplicate_ids_and_unreadable_files_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "norms"
    _write(folder, "a.json", GOOD)
    _write(folder, "b.json", GOOD)
    (folder / "c.json").write_bytes(b"\xff\xfe bad")
    loaded = norms.load_tables([folder, tmp_path / "missing"])
    assert len(loaded.tables) == 1
    assert any("already used" in p for p in loaded.problems)
    assert any("not UTF-8" in p for p in loaded.problems)


def test_the_team_view_takes_each_athletes_latest_test_of_its_own_protocol() -> None:
    from station.present.team_data import latest_results

    store = FakeStore()
    a, b = Athlete(1), Athlete(2)
    add(store, a, 300.0, recorded_at="2026-01-01T10:00:00.000Z")
    newest_iso = add(
        store,
        a,
        800.0,
        recorded_at="2026-02-01T10:00:00.000Z",
        protocol="isometric",
        knee_angle_deg=30.0,
    )
    add(
        store,
        b,
        500.0,
        recorded_at="2026-02-01T10:00:00.000Z",
        protocol="isometric",
        knee_angle_deg=30.0,
    )

    def latest_tests(team: str | None) -> dict[int, Summary]:
        return {aid: store.of_athlete(aid)[0] for aid in store.test_rows}

    store.tests.latest = latest_tests
    store.athletes.find = lambda team=None: [a, b]
    rows = {r.athlete.id: r.latest for r in latest_results(store, None)}
    assert rows[1] is not None and rows[1].left_max_n == 300.0  # its Nordic test
    assert rows[2] is None  # no Nordic test: the isometric one is not put beside them
    iso = {
        r.athlete.id: r.latest for r in latest_results(store, None, protocol_key("isometric", 30.0))
    }
    assert iso[1] is not None and iso[1].test_id == newest_iso.id and iso[2] is not None
