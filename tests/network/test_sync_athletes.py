"""Athlete edits made on two stations: the later edit wins everywhere, whichever station
syncs first, and both edits stay in every copy of the audit log."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import psycopg

from tests.network.sync_fixtures import PgServer, clinic_server, local_db, ok, one, station

__all__ = ["clinic_server"]


def athlete_id(home: Path, uuid: str) -> str:
    with closing(local_db(home)) as conn:
        return str(conn.execute("SELECT id FROM athletes WHERE uuid = ?", (uuid,)).fetchone()[0])


def sport_and_updates(home: Path, uuid: str) -> tuple[str, list[str]]:
    with closing(local_db(home)) as conn:
        athlete, sport = conn.execute(
            "SELECT id, sport FROM athletes WHERE uuid = ?", (uuid,)
        ).fetchone()
        updates = conn.execute(
            "SELECT after FROM audit_log WHERE entity = 'athlete' AND entity_id = ? "
            "AND action = 'update' ORDER BY at",
            (athlete,),
        ).fetchall()
    return sport, [row[0] for row in updates]


def test_the_later_edit_wins_and_both_stay_in_the_audit(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        ok(station(home, "station", "join", clinic_server.url))
    ok(station(b, "athlete", "add", "--name", "Someone Else", "--team", "A"))
    ok(station(a, "athlete", "add", "--name", "Kim Shared", "--team", "A", "--sport", "rugby"))
    ok(station(a, "sync"))
    ok(station(b, "sync"))
    with closing(local_db(a)) as conn:
        uuid = conn.execute("SELECT uuid FROM athletes").fetchone()[0]
    assert athlete_id(b, uuid) == "2"  # ids differ between stations; the uuid is the same

    ok(station(a, "athlete", "edit", athlete_id(a, uuid), "--sport", "football"))  # earlier
    ok(station(b, "athlete", "edit", athlete_id(b, uuid), "--sport", "hockey"))  # later
    ok(station(b, "sync"))  # the later edit reaches the server first
    ok(station(a, "sync"))  # the earlier one must not overwrite it
    ok(station(b, "sync"))

    for home in (a, b):
        sport, updates = sport_and_updates(home, uuid)
        assert sport == "hockey"
        assert len(updates) == 2
        assert "football" in updates[0] and "hockey" in updates[1]
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        sport = one(conn, "SELECT sport FROM athletes WHERE uuid = %s", uuid)
        audited = one(
            conn,
            "SELECT count(*) FROM audit_log l JOIN athletes t ON t.id = l.entity_id "
            "WHERE l.entity = 'athlete' AND l.action = 'update' AND t.uuid = %s",
            uuid,
        )
    assert (sport, audited) == ("hockey", 2)


def test_a_void_and_a_note_edited_on_two_stations_both_stay(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    from tests.network.test_sync_stations import captures

    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        ok(station(home, "station", "join", clinic_server.url))
    ok(station(b, "athlete", "add", "--name", "Other One"))
    ok(station(b, "test", "import", "1", str(captures(tmp_path, 1, seed=9)[0])))
    athlete = ok(station(a, "athlete", "add", "--name", "Lee Both")).strip()
    ok(station(a, "test", "import", athlete, str(captures(tmp_path, 1, seed=8)[0])))
    for home in (a, b, a):
        ok(station(home, "sync"))
    with closing(local_db(a)) as conn:
        uuid = conn.execute("SELECT uuid FROM tests WHERE athlete_id = ?", (athlete,)).fetchone()[0]
    with closing(local_db(b)) as conn:
        on_b = str(conn.execute("SELECT id FROM tests WHERE uuid = ?", (uuid,)).fetchone()[0])
    assert on_b == "2"
    ok(station(b, "test", "void", on_b, "--reason", "wrong athlete"))
    ok(station(a, "test", "edit", "1", "--notes", "felt a twinge"))
    for home in (b, a, b):
        ok(station(home, "sync"))
    for home in (a, b):
        with closing(local_db(home)) as conn:
            row = conn.execute(
                "SELECT voided, void_reason, notes FROM tests WHERE uuid = ?", (uuid,)
            ).fetchone()
        assert row == (1, "wrong athlete", "felt a twinge")
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT voided, void_reason, notes FROM tests WHERE uuid = %s", (uuid,)
        ).fetchone()
    assert row == (1, "wrong athlete", "felt a twinge")


def details(home: Path, uuid: str) -> tuple[str, str, str]:
    with closing(local_db(home)) as conn:
        return conn.execute(
            "SELECT sport, notes, updated_at FROM athletes WHERE uuid = ?", (uuid,)
        ).fetchone()


def test_edits_of_different_fields_on_two_stations_both_stay(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    """A's note (the earlier edit) must survive B's later edit of the sport, whichever
    station syncs first: only the fields an edit changed travel."""
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        ok(station(home, "station", "join", clinic_server.url))
    ok(station(a, "athlete", "add", "--name", "Ari Fields", "--team", "A", "--sport", "rugby"))
    ok(station(a, "athlete", "add", "--name", "Bea Fields", "--team", "A", "--sport", "rugby"))
    for home in (a, b):
        ok(station(home, "sync"))
    with closing(local_db(a)) as conn:
        first, second = (row[0] for row in conn.execute("SELECT uuid FROM athletes ORDER BY id"))

    # The first athlete: A's note is the earlier edit, B's sport the later; the second:
    # B's sport is the earlier, A's note the later.  B syncs first.
    ok(station(a, "athlete", "edit", athlete_id(a, first), "--notes", "left hamstring"))
    ok(station(b, "athlete", "edit", athlete_id(b, first), "--sport", "hockey"))
    ok(station(b, "athlete", "edit", athlete_id(b, second), "--sport", "tennis"))
    ok(station(a, "athlete", "edit", athlete_id(a, second), "--notes", "right calf"))
    assert ok(station(b, "sync")).startswith("sent 2 athlete changes;")
    assert ok(station(a, "sync")).startswith("sent 2 athlete changes; received 2 athlete")
    assert "received 2 athlete changes;" in ok(station(b, "sync"))

    with closing(local_db(b)) as conn:
        latest = conn.execute(
            "SELECT max(at) FROM audit_log WHERE entity = 'athlete' AND action = 'update'"
        ).fetchone()[0]
    for home in (a, b):
        assert details(home, first)[:2] == ("hockey", "left hamstring")
        assert details(home, second)[:2] == ("tennis", "right calf")
        assert details(home, first)[2] == details(b, first)[2] <= latest
        assert details(home, second)[2] == latest  # the later of the two edits
        for uuid in (first, second):
            assert len(sport_and_updates(home, uuid)[1]) == 2  # both edits stay audited
    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT uuid, sport, notes FROM athletes WHERE uuid IN (%s, %s) ORDER BY id",
            (first, second),
        ).fetchall()
    assert rows == [(first, "hockey", "left hamstring"), (second, "tennis", "right calf")]
