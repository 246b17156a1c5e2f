"""Athletes: validation with clear messages, search, history and audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from station.store import (
    BodyMass,
    DuplicateError,
    NotFoundError,
    Store,
    ValidationError,
)


def test_add_and_read_back(store: Store, athlete) -> None:
    again = store.athletes.get(athlete.id)
    assert again == athlete
    assert (again.name, again.external_id, again.team, again.sport) == (
        "Ada Lovelace",
        "S01",
        "U19",
        "football",
    )
    assert again.date_of_birth == date(2005, 3, 2)
    assert (again.sex, again.dominant_leg, again.lever_arm_m, again.body_mass_kg) == (
        "female",
        "right",
        0.42,
        62.5,
    )
    assert store.athletes.body_mass_history(athlete.id) == [BodyMass(date.today(), 62.5)]
    entry = store.audit_log("athlete", athlete.id)[0]
    assert (entry.action, entry.actor, entry.before) == ("create", "tester", None)
    assert entry.after["name"] == "Ada Lovelace" and entry.after["body_mass"]["kg"] == 62.5


TOMORROW = object()  # the day after the day the test runs (collection may be on the day before)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body_mass_kg": 0}, "body mass 0 kg is impossible"),
        ({"body_mass_kg": -3}, "body mass -3 kg is impossible"),
        ({"body_mass_kg": 400.5}, "at most 400"),
        ({"body_mass_kg": "heavy"}, "body mass must be a number"),
        ({"body_mass_kg": float("nan")}, "finite"),
        ({"lever_arm_m": 0}, "lever arm 0 m is impossible"),
        ({"lever_arm_m": 1.2}, "lever arm 1.2 m is impossible"),
        ({"date_of_birth": TOMORROW}, "is in the future"),
        ({"date_of_birth": "1850-01-01"}, "before 1900"),
        ({"date_of_birth": "02/03/2005"}, "not a date: use YYYY-MM-DD"),
        ({"date_of_birth": "2005-02-30"}, "not a date"),
        ({"sex": "unknown"}, "sex 'unknown' is not one of: female, male, other"),
        ({"dominant_leg": "both"}, "dominant leg 'both' is not one of: left, right"),
        ({"team": "line\x00break"}, "control characters"),
    ],
)
def test_impossible_values_are_refused_and_nothing_is_written(
    store: Store, fields, message
) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    fields = {name: tomorrow if value is TOMORROW else value for name, value in fields.items()}
    with pytest.raises(ValidationError, match=message):
        store.athletes.add("Bob", **fields)
    assert store.athletes.find(include_archived=True) == []
    assert store.audit_log() == []


def test_names_must_not_be_empty(store: Store) -> None:
    with pytest.raises(ValidationError, match="name must not be empty"):
        store.athletes.add("   ")


def test_external_id_is_unique_when_given(store: Store, athlete) -> None:
    with pytest.raises(DuplicateError, match="external id 'S01' is already used by athlete 1"):
        store.athletes.add("Someone Else", external_id="S01")
    # Not given is fine any number of times.
    store.athletes.add("No Id 1")
    store.athletes.add("No Id 2", external_id="  ")
    assert [a.external_id for a in store.athletes.find()] == ["S01", None, None]
    other = store.athletes.add("Other", external_id="S02")
    with pytest.raises(DuplicateError):
        store.athletes.update(other.id, external_id="S01")
    assert store.athletes.get(other.id).external_id == "S02"


def test_search_ignores_case_and_accents(store: Store) -> None:
    ids = {
        name: store.athletes.add(name, external_id=ext).id
        for name, ext in [
            ("Øyvind Åsen", "N-1"),
            ("Jörg Müller", "D-1"),
            ("Ana Núñez", "E-1"),
            ("Bo", None),
        ]
    }
    assert [a.id for a in store.athletes.find("oyvind")] == [ids["Øyvind Åsen"]]
    assert [a.id for a in store.athletes.find("ASEN")] == [ids["Øyvind Åsen"]]
    assert [a.id for a in store.athletes.find("muller")] == [ids["Jörg Müller"]]
    assert [a.id for a in store.athletes.find("nunez")] == [ids["Ana Núñez"]]
    assert [a.id for a in store.athletes.find("e-1")] == [ids["Ana Núñez"]]  # external id
    assert [a.name for a in store.athletes.find()] == [
        "Ana Núñez",
        "Bo",
        "Jörg Müller",
        "Øyvind Åsen",
    ]


def test_resolve_by_id_or_external_id(store: Store, athlete) -> None:
    assert store.athletes.resolve("1").id == athlete.id
    assert store.athletes.resolve("S01").id == athlete.id
    with pytest.raises(NotFoundError, match="no athlete with id or external id 'nobody'"):
        store.athletes.resolve("nobody")
    # An external id that looks like another athlete's id is ambiguous: refused.
    store.athletes.add("Two", external_id="1")
    with pytest.raises(ValidationError, match="athlete 1's id and athlete 2's external id"):
        store.athletes.resolve("1")


def test_edit_is_audited_with_before_and_after(store: Store, athlete) -> None:
    store.athletes.update(athlete.id, team="Senior", notes="moved up", by="coach")
    updated = store.athletes.get(athlete.id)
    assert (updated.team, updated.notes) == ("Senior", "moved up")
    assert updated.updated_at >= athlete.updated_at
    entry = store.audit_log("athlete", athlete.id)[-1]
    assert entry.actor == "coach" and entry.action == "update"
    assert entry.before == {"team": "U19", "notes": ""}
    assert entry.after == {"team": "Senior", "notes": "moved up"}


def test_a_bad_edit_changes_nothing(store: Store, athlete) -> None:
    with pytest.raises(ValidationError, match="lever arm"):
        store.athletes.update(athlete.id, team="Senior", body_mass_kg=70, lever_arm_m=5)
    assert store.athletes.get(athlete.id) == athlete
    assert len(store.athletes.body_mass_history(athlete.id)) == 1
    with pytest.raises(ValidationError, match="unknown athlete field"):
        store.athletes.update(athlete.id, shoe_size=44)
    with pytest.raises(ValidationError, match="nothing to change"):
        store.athletes.update(athlete.id)


def test_clearing_optional_fields(store: Store, athlete) -> None:
    store.athletes.update(athlete.id, team=None, lever_arm_m=None, date_of_birth=None)
    cleared = store.athletes.get(athlete.id)
    assert (cleared.team, cleared.lever_arm_m, cleared.date_of_birth) == (None, None, None)


def test_body_mass_history_and_the_mass_used_on_a_day(store: Store, athlete) -> None:
    store.athletes.add_body_mass(athlete.id, 64.0, "2024-01-10")
    store.athletes.add_body_mass(athlete.id, 66.0, "2024-06-01")
    history = store.athletes.body_mass_history(athlete.id)
    assert [(m.measured_on.isoformat(), m.kg) for m in history][:2] == [
        ("2024-01-10", 64.0),
        ("2024-06-01", 66.0),
    ]
    assert store.athletes.body_mass_on(athlete.id, date(2024, 3, 1)) == 64.0
    assert store.athletes.body_mass_on(athlete.id, date(2024, 6, 1)) == 66.0
    assert (
        store.athletes.body_mass_on(athlete.id, date(2023, 1, 1)) == 64.0
    )  # before any weighing: the first
    assert store.athletes.get(athlete.id).body_mass_kg == 62.5  # the latest weighing (today)
    with pytest.raises(ValidationError, match="in the future"):
        store.athletes.add_body_mass(athlete.id, 70, date.today() + timedelta(days=3))


def test_injuries(store: Store, athlete) -> None:
    store.athletes.add_injury(athlete.id, "left", "2024-02-01", "grade 1 strain")
    store.athletes.add_injury(athlete.id, "r")
    assert [(i.side, i.note) for i in store.athletes.injuries(athlete.id)] == [
        ("right", ""),
        ("left", "grade 1 strain"),
    ]
    with pytest.raises(ValidationError, match="side 'middle'"):
        store.athletes.add_injury(athlete.id, "middle")


def test_archived_athletes_leave_lists_but_keep_everything(store: Store, athlete) -> None:
    other = store.athletes.add("Active", team="U19")
    store.athletes.archive(athlete.id, by="admin")
    assert [a.id for a in store.athletes.find()] == [other.id]
    assert [a.id for a in store.athletes.find(include_archived=True)] == [other.id, athlete.id]
    assert [a.id for a in store.athletes.find(archived_only=True)] == [athlete.id]
    assert store.athletes.resolve("S01").archived
    store.athletes.archive(athlete.id, archived=False)
    assert [e.action for e in store.audit_log("athlete", athlete.id)] == [
        "create",
        "archive",
        "unarchive",
    ]


def test_team_filter_ignores_case(store: Store, athlete) -> None:
    store.athletes.add("Other", team="Senior")
    assert [a.name for a in store.athletes.find(team="u19")] == ["Ada Lovelace"]
