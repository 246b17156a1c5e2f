"""Athletes merged field by field between two databases (two stations' SQLite files
here, in process): the later change of a field wins, a tie to the millisecond goes the
same way whichever side sends, and only the fields the sender's entries changed move."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from station import paths
from station.store.store import Store
from station.store.sync.changes import merge_athletes
from station.store.sync.db import LocalDb

INSTANT = "2026-12-04T12:00:00.000Z"


def two_copies(tmp_path: Path) -> tuple[Path, Path, str]:
    """Stations a and b holding the same athlete (the same uuid)."""
    a, b = tmp_path / "a", tmp_path / "b"
    with Store.open(a) as store:
        store.athletes.add(name="Tie Case", team="A", sport="rugby")
    b.mkdir()
    shutil.copy(paths.database_path(a), paths.database_path(b))
    with closing(sqlite3.connect(paths.database_path(a))) as conn:
        uuid = conn.execute("SELECT uuid FROM athletes").fetchone()[0]
    return a, b, uuid


def edit(home: Path, monkeypatch: pytest.MonkeyPatch, at: str, **changes: str) -> str:
    """Edit the athlete at instant ``at``; returns the new audit entry's key."""
    monkeypatch.setattr("station.store.sql.athletes.now_utc", lambda: at)
    with Store.open(home) as store:
        store.athletes.update(1, **changes)
    with closing(sqlite3.connect(paths.database_path(home))) as conn:
        return conn.execute("SELECT uuid FROM audit_log ORDER BY id DESC").fetchone()[0]


def merge(src: Path, dst: Path, uuid: str, entries: list[str]) -> int:
    with (
        closing(sqlite3.connect(paths.database_path(src))) as s,
        closing(sqlite3.connect(paths.database_path(dst))) as d,
        d,
    ):
        return merge_athletes(LocalDb(s), LocalDb(d), [uuid], entries)


def row(home: Path, uuid: str) -> tuple[str, str, str]:
    with closing(sqlite3.connect(paths.database_path(home))) as conn:
        return conn.execute(
            "SELECT sport, notes, updated_at FROM athletes WHERE uuid = ?", (uuid,)
        ).fetchone()


def test_a_tie_goes_the_same_way_whichever_side_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, uuid = two_copies(tmp_path)
    from_a = edit(a, monkeypatch, INSTANT, sport="hockey")
    from_b = edit(b, monkeypatch, INSTANT, sport="tennis")
    first = merge(a, b, uuid, [from_a])  # a's change reaches b
    second = merge(b, a, uuid, [from_b])  # b's reaches a
    assert row(a, uuid)[0] == row(b, uuid)[0] in ("hockey", "tennis")
    assert first + second == 1  # exactly one side gave way


def test_only_the_fields_an_entry_changed_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, uuid = two_copies(tmp_path)
    note = edit(a, monkeypatch, "2026-12-04T12:00:00.000Z", notes="left hamstring")
    sport = edit(b, monkeypatch, "2026-12-04T12:00:05.000Z", sport="hockey")
    assert merge(a, b, uuid, [note]) == 1  # the earlier edit still gives its field
    assert merge(b, a, uuid, [sport]) == 1
    assert row(a, uuid) == row(b, uuid) == ("hockey", "left hamstring", "2026-12-04T12:00:05.000Z")
    later = edit(a, monkeypatch, "2026-12-04T12:00:09.000Z", sport="rugby")
    stale = edit(b, monkeypatch, "2026-12-04T12:00:07.000Z", sport="cricket")  # older
    assert merge(b, a, uuid, [stale]) == 0  # a's later change of the sport stays
    assert merge(a, b, uuid, [later]) == 1
    assert row(a, uuid)[:2] == row(b, uuid)[:2] == ("rugby", "left hamstring")
