"""The newest test of every athlete of a team, in one query (the app's team view)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from station.store import Store


@pytest.fixture
def squad(store: Store, athlete: Any, capture_file: Path, cert_file: Path) -> dict[str, Any]:
    """Ada (U19: two tests), Ben (u19, other case: one), Cy (Seniors: one), Di (U19: none),
    Eve (U19, archived: one)."""
    people = {
        "ada": athlete,
        "ben": store.add_athlete("Ben Carter", team="u19"),
        "cy": store.add_athlete("Cy Dunn", team="Seniors"),
        "di": store.add_athlete("Di Evans", team="U19"),
        "eve": store.add_athlete("Eve Ford", team="U19"),
    }
    tests = {}
    for key, who, when in [
        ("ada_old", "ada", "2024-05-01T09:00"),
        ("ada_new", "ada", "2024-06-01T09:00"),
        ("ben_test", "ben", "2024-01-01T09:00"),
        ("cy_test", "cy", "2024-02-01T09:00"),
        ("eve_test", "eve", "2024-03-01T09:00"),
    ]:
        tests[key] = store.import_test(
            people[who].id, capture_file, certificate=cert_file, recorded_at=when
        )
    store.archive_athlete(people["eve"].id)
    return {**people, **tests}


@contextmanager
def counted_selects(store: Store) -> Iterator[list[str]]:
    statements: list[str] = []
    conn = store.backend._conn  # type: ignore[attr-defined]
    conn.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        conn.set_trace_callback(None)


def test_latest_tests_of_a_team_are_each_athletes_newest(store: Store, squad: dict) -> None:
    latest = store.latest_tests("U19")
    # Team names ignore case; Di has no test; Eve is archived; Cy is in another team.
    assert set(latest) == {squad["ada"].id, squad["ben"].id}
    assert latest[squad["ada"].id].id == squad["ada_new"].id
    assert latest[squad["ben"].id].id == squad["ben_test"].id
    for athlete_id, summary in latest.items():
        assert summary == store.list_tests(athlete_id, limit=1)[0]  # the same as one by one


def test_all_teams_and_an_unknown_team(store: Store, squad: dict) -> None:
    everyone = store.latest_tests()
    assert set(everyone) == {squad["ada"].id, squad["ben"].id, squad["cy"].id}
    assert store.latest_tests("") == everyone  # the app's "all teams"
    assert store.latest_tests("Nobody") == {}


def test_latest_tests_carry_the_current_result_after_an_exclusion(
    store: Store, squad: dict
) -> None:
    newest = squad["ada_new"]
    before = store.latest_tests("U19")[squad["ada"].id]
    assert before.summary == newest.result.summary and before.excluded_reps == 0
    result = store.exclude_rep(newest.id, 1, "slipped")
    after = store.latest_tests("U19")[squad["ada"].id]
    assert after.id == newest.id and after.excluded_reps == 1
    assert after.summary == result.summary != before.summary


def test_a_tie_in_time_goes_to_the_later_test(
    store: Store, athlete: Any, capture_file: Path, cert_file: Path
) -> None:
    ids = [
        store.import_test(
            athlete.id, capture_file, certificate=cert_file, recorded_at="2024-01-01T09:00"
        ).id
        for _ in range(2)
    ]
    assert store.latest_tests()[athlete.id].id == max(ids)


@pytest.mark.sqlite_only("counts statements with SQLite's trace hook (the SQL is shared)")
def test_one_query_whatever_the_squad_size(store: Store, squad: dict) -> None:
    with counted_selects(store) as statements:
        store.latest_tests("U19")
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_an_empty_store_has_no_latest_tests(store: Store) -> None:
    assert store.latest_tests() == {}
