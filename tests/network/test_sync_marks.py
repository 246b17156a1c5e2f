"""A routine pull lists only what is new on the server (the rows above each table's
mark), yet still finds rows that appear below the mark (a team granted later); a sync
that finds nothing new leaves no "read" rows in the server's audit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest

from station.store.store import Store
from station.store.sync import join, sync_now
from station.store.sync.db import ServerDb
from tests.network.sync_fixtures import PgServer, clinic_server, ok, station

__all__ = ["clinic_server"]

MANY = 60


@pytest.fixture
def rows_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many rows each statement of this process's syncs read from the server."""
    counts: list[int] = []
    original = ServerDb.all

    def counting(self: ServerDb, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = original(self, sql, params)
        counts.append(len(rows))
        return rows

    monkeypatch.setattr(ServerDb, "all", counting)
    yield counts


def add_athletes(home: Path, count: int, team: str, prefix: str = "Athlete") -> None:
    with Store.open(home) as store:
        for i in range(count):
            store.athletes.add(name=f"{prefix} {i}", team=team)


def test_a_routine_pull_does_not_list_every_record(
    clinic_server: PgServer, tmp_path: Path, rows_read: list[int]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for home in (a, b):
        join(home, clinic_server.url)
    add_athletes(a, MANY, "A")
    sync_now(a)
    assert sync_now(b).received["athletes"] == MANY

    rows_read.clear()
    report = sync_now(b)
    assert report.line() == "sent nothing; received nothing; 0 waiting"
    # Before: every athlete's key and every audit entry's key, at each sync.
    assert sum(rows_read) < MANY // 2, rows_read

    add_athletes(a, 1, "A", prefix="Newcomer")
    sync_now(a)
    rows_read.clear()
    assert sync_now(b).received["athletes"] == 1
    assert sum(rows_read) < MANY // 2, rows_read

    rows_read.clear()  # asked for: every key again, and still nothing to fetch
    assert sync_now(b, full=True).line() == "sent nothing; received nothing; 0 waiting"
    assert sum(rows_read) > 2 * MANY


def read_rows(url: str, login: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM ns_private.audit WHERE login = %s AND action = 'read'",
            (login,),
        ).fetchone()
    assert found is not None
    return int(found[0])


def test_a_team_granted_later_is_pulled_and_a_no_op_sync_is_not_audited(
    clinic_server: PgServer, tmp_path: Path
) -> None:
    admin = tmp_path / "admin"
    ok(station(admin, "server", "init", clinic_server.url))
    ok(station(admin, "server", "user", "add", clinic_server.url, "nurse_marks",
               "--role", "clinician", "--team", "A"))  # fmt: skip
    hq, nurse = tmp_path / "hq", tmp_path / "nurse"
    join(hq, clinic_server.url)
    add_athletes(hq, 3, "B", prefix="Team B")  # older rows: ids below the nurse's marks
    add_athletes(hq, 2, "A", prefix="Team A")
    sync_now(hq)
    nurse_url = clinic_server.url.replace("postgres:@", "nurse_marks@")
    join(nurse, nurse_url)
    assert sync_now(nurse).received["athletes"] == 2

    before = read_rows(clinic_server.url, "nurse_marks")
    assert sync_now(nurse).line() == "sent nothing; received nothing; 0 waiting"
    assert read_rows(clinic_server.url, "nurse_marks") == before  # nothing read, nothing audited

    with psycopg.connect(clinic_server.url, autocommit=True) as conn:
        conn.execute("INSERT INTO ns_private.grants (login, team) VALUES ('nurse_marks', 'B')")
    report = sync_now(nurse)  # a routine sync: no --full
    assert report.received["athletes"] == 3
    # The names read are in the audit table (not only in the server's log).
    assert read_rows(clinic_server.url, "nurse_marks") > before
    with Store.open(nurse) as store:
        names = sorted(a.name for a in store.athletes.find())
    assert names == [*(f"Team A {i}" for i in range(2)), *(f"Team B {i}" for i in range(3))]
