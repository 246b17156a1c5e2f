"""Raw recordings a joined station pulled without their bytes (schema 9, ``absent``):
results, lists and summaries work without them; every path that needs the bytes says
where they are with one clear error; the one change the schema allows a recording is
filling them in with bytes of its own SHA-256; an erasure still erases them; a v8
SQLite file upgrades; ``db copy`` refuses a source holding them."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from pathlib import Path

import numpy as np
import pytest

from station import paths
from station.store import RecordingAbsentError, Store, open_store, schema
from station.store.copying import CopyError, copy_store, open_location
from station.store.errors import DatabaseFileError, NotFoundError
from station.store.export import export_summary
from station.store.export_all import export_all
from station.store.sql.recorded_tests import ERASED_PREFIX, fill_recording
from tests.store import synth
from tests.store.conftest import RawSql
from tests.store.test_cli import assert_one_line_error, run


def make_absent(store: Store, test_id: int) -> bytes:
    """Turn a stored test's recording into one pulled without its bytes (as a joined
    station's pull stores it); returns the bytes it had."""
    data = store.tests.recording(test_id)
    backend = store.backend
    with backend._write() as conn, backend.dialect.guards_down(conn):
        conn.execute(
            "UPDATE recordings SET data = ?, size = 0, absent = 1 "
            "WHERE id = (SELECT recording_id FROM tests WHERE id = ?)",
            (b"", test_id),
        )
    return data


@pytest.fixture
def two_tests(store: Store, athlete, tmp_path: Path) -> tuple[int, int]:
    cert = synth.certificate()
    ids = []
    for i, left in enumerate((300.0, 320.0)):
        capture = synth.write_capture(tmp_path / f"c{i}.bin", left, 250.0, seed=40 + i)
        ids.append(store.new_tests.import_file(athlete.id, capture, certificate=cert).id)
    return ids[0], ids[1]


def test_results_lists_and_summaries_work_without_the_bytes(
    store: Store, athlete, two_tests: tuple[int, int], tmp_path: Path
) -> None:
    absent, kept = two_tests
    before = store.tests.get(absent)
    filtered = store.tests.curves(absent, raw=False) or {}
    make_absent(store, absent)
    test = store.tests.get(absent)
    assert test.recording_absent and not store.tests.get(kept).recording_absent
    assert test.result == before.result and test.recording_sha256 == before.recording_sha256
    assert [t.id for t in store.tests.of_athlete(athlete.id)] == [kept, absent]
    assert store.tests.latest()[athlete.id].id == kept
    curves = store.tests.curves(absent, raw=False) or {}
    assert "left_n" in curves and list(curves) == list(filtered)
    for name, values in filtered.items():
        np.testing.assert_array_equal(curves[name], values)
    report = export_summary(store, tmp_path / "summary.csv")
    assert report.rows == 2  # both tests, from their results alone
    assert store.tests.absent_recordings() == [absent]
    assert store.tests.ids() == [kept]  # what recompute --all can analyse here
    # Bytes only their checksum stands for are not "safely stored" (crash recovery's test).
    assert not store.backend.recording_exists(before.recording_sha256)
    assert store.backend.recording_exists(store.tests.get(kept).recording_sha256)
    assert store.backend.integrity_check() == []  # waiting is not damaged


def test_every_path_that_needs_the_bytes_says_where_they_are(
    store: Store, athlete, two_tests: tuple[int, int], tmp_path: Path
) -> None:
    absent, _ = two_tests
    make_absent(store, absent)
    needs_bytes = [
        lambda: store.tests.recording(absent),
        lambda: store.tests.curves(absent),  # the raw forces are rebuilt from the bytes
        lambda: store.runs.recompute(absent),
        lambda: store.runs.exclude_rep(absent, 1, "slipped"),
        lambda: export_all(store, athlete.id, tmp_path / "everything"),
    ]
    for call in needs_bytes:  # (each refused before anything is written)
        with pytest.raises(RecordingAbsentError) as caught:
            call()
        assert isinstance(caught.value, NotFoundError)
        assert str(caught.value) == (
            f"the raw recording of test {absent} is on the clinic server, not on this station yet"
        )
        assert caught.value.cli_hint == (
            "run 'nordic-station sync --recordings' while the server is reachable"
        )
    assert len(store.tests.results(absent)) == 1  # nothing was added meanwhile
    assert not (tmp_path / "everything").exists()


def test_recompute_all_skips_them_and_says_how_many(
    store: Store, two_tests: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    absent, kept = two_tests
    make_absent(store, absent)
    state = store.runs.recompute_all(workers=1)
    assert state.absent == 1 and state.failed == [] and state.done == state.total
    assert store.runs.recompute_targets() == ([], 1)
    code, out, err = run(capsys, "recompute", "--all", "--jobs", "1")
    assert code == 0, err
    assert "1 skipped: their raw recording is on the clinic server" in out
    assert "'nordic-station sync --recordings'" in out
    code, out, err = run(capsys, "test", "show", str(absent))
    assert code == 0 and f"test {absent}" in out.lower()
    assert "raw recording: on the clinic server" in out
    code, out, err = run(capsys, "export", "test", str(absent), "--out", str(store.folder / "x"))
    assert_one_line_error(code, err, "is on the clinic server")
    assert "sync --recordings" in err and kept


def test_the_bytes_fill_in_only_with_their_own_checksum(
    store: Store, raw_sql: RawSql, two_tests: tuple[int, int]
) -> None:
    absent, _ = two_tests
    data = make_absent(store, absent)
    sha = store.tests.get(absent).recording_sha256
    recording_id = raw_sql.execute(
        "SELECT recording_id FROM tests WHERE id = ?", (absent,)
    ).fetchone()[0]
    wrong = data[:-1] + bytes([data[-1] ^ 1])
    with (
        store.backend._write() as conn,
        pytest.raises(DatabaseFileError, match="do not match its checksum"),
    ):
        fill_recording(conn, recording_id, sha, wrong)
    assert store.tests.get(absent).recording_absent
    # Any other change stays refused by the schema itself, whoever writes.
    for sql, params in (
        ("UPDATE recordings SET sha256 = ?, data = ?, size = ?, absent = 0 WHERE id = ?",
         (hashlib.sha256(b"other").hexdigest(), b"other", 5, recording_id)),
        ("UPDATE recordings SET absent = 0 WHERE id = ?", (recording_id,)),
        ("UPDATE recordings SET kind = 'x', data = ?, size = ?, absent = 0 WHERE id = ?",
         (data, len(data), recording_id)),
        ("UPDATE recordings SET data = ?, size = ?, absent = 1 WHERE id <> ?",
         (b"", 0, recording_id)),
    ):  # fmt: skip
        with pytest.raises(Exception, match="never modified|CHECK|check constraint"):
            raw_sql.execute(sql, params)
    with store.backend._write() as conn:
        assert fill_recording(conn, recording_id, sha, data)
    assert not store.tests.get(absent).recording_absent
    assert store.tests.recording(absent) == data
    with store.backend._write() as conn:  # filled once: nothing left to fill
        assert not fill_recording(conn, recording_id, sha, data)
    with pytest.raises(Exception, match="never modified"):
        raw_sql.execute("UPDATE recordings SET data = ?, size = 0 WHERE id = ?", (b"", 1))


@pytest.mark.postgres_only
def test_the_server_checks_the_checksum_of_bytes_filled_in(
    store: Store, raw_sql: RawSql, two_tests: tuple[int, int]
) -> None:
    absent, _ = two_tests
    data = make_absent(store, absent)
    wrong = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(Exception, match="never modified"):
        raw_sql.execute(
            "UPDATE recordings SET data = ?, size = ?, absent = 0 "
            "WHERE id = (SELECT recording_id FROM tests WHERE id = ?)",
            (wrong, len(wrong), absent),
        )
    assert store.tests.get(absent).recording_absent


def test_importing_the_same_bytes_again_fills_them_in(
    store: Store, athlete, tmp_path: Path
) -> None:
    capture = synth.write_capture(tmp_path / "same.bin", 300.0, 250.0, seed=77)
    first = store.new_tests.import_file(athlete.id, capture, certificate=synth.certificate())
    data = make_absent(store, first.id)
    store.new_tests.import_file(athlete.id, capture, certificate=synth.certificate())
    assert store.tests.recording(first.id) == data
    assert store.tests.absent_recordings() == []


def test_an_erasure_erases_an_absent_recording_for_good(
    store: Store, athlete, two_tests: tuple[int, int], raw_sql: RawSql
) -> None:
    absent, kept = two_tests
    make_absent(store, absent)
    store.erasure.erase(athlete.id, "asked for it")
    rows = raw_sql.execute(
        "SELECT sha256, size, length(data), absent FROM recordings ORDER BY id"
    ).fetchall()
    assert [tuple(r)[1:] for r in rows] == [(0, 0, 0), (0, 0, 0)]
    assert all(str(r[0]).startswith(ERASED_PREFIX) for r in rows)
    assert store.tests.absent_recordings() == []  # nothing to fetch: erased, not waiting
    with pytest.raises(NotFoundError, match="was erased") as caught:
        store.tests.recording(absent)
    assert not isinstance(caught.value, RecordingAbsentError) and kept


@pytest.mark.sqlite_only("db copy's source here is an SQLite data folder")
def test_db_copy_refuses_a_source_holding_absent_recordings(
    store: Store, two_tests: tuple[int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    absent, _ = two_tests
    make_absent(store, absent)
    source = open_location(str(store.folder), create=False)
    target = open_location(f"sqlite:///{tmp_path / 'target'}", create=True)
    try:
        with pytest.raises(CopyError, match="1 raw recording.*sync --recordings"):
            copy_store(source, target)
        assert target.list_athletes(include_archived=True) == []  # nothing written
    finally:
        source.close()
        target.close()
    code, _, err = run(capsys, "db", "copy", str(store.folder), str(tmp_path / "t2"), "--quiet")
    assert_one_line_error(code, err, "pulled without their bytes")


@pytest.mark.sqlite_only("upgrades an SQLite file of schema 8 (the server's baseline)")
def test_a_version_8_file_upgrades_and_keeps_its_recordings(
    home: Path, capture_bytes: bytes
) -> None:
    home.mkdir(parents=True)
    db = paths.database_path(home)
    conn = sqlite3.connect(db)
    with conn:
        for migration in schema.MIGRATIONS[:8]:
            for step in migration.steps:
                step(conn) if callable(step) else conn.execute(step)
        conn.execute("PRAGMA user_version = 8")
        sha = hashlib.sha256(capture_bytes).hexdigest()
        conn.execute(
            "INSERT INTO recordings (sha256, size, kind, stored_at, data) VALUES (?, ?, ?, ?, ?)",
            (sha, len(capture_bytes), "binary", "2024-01-01T00:00:00.000Z", capture_bytes),
        )
    conn.close()
    with open_store() as store:
        assert store.backend.migrated_from == 8
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT absent, length(data) FROM recordings").fetchall() == [
            (0, len(capture_bytes))
        ]
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(recordings)")}
        assert "recordings_absent" in indexes
        with pytest.raises(sqlite3.IntegrityError, match="never modified"):
            conn.execute("UPDATE recordings SET data = x'00', size = 1")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            conn.execute(
                "INSERT INTO recordings (sha256, size, kind, stored_at, data, absent) "
                "VALUES (?, 1, 'binary', 'x', x'00', 1)",
                (str(uuid.uuid4()),),
            )
    finally:
        conn.close()


@pytest.mark.sqlite_only("the sync's options, refused before any server is asked")
def test_sync_options_that_mean_nothing_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sync", "--test", "3")
    assert_one_line_error(code, err, "add --recordings")
    code, _, err = run(capsys, "sync", "--recordings", "--push-only")
    assert_one_line_error(code, err, "--push-only fetches nothing")
    code, _, err = run(capsys, "sync", "--recordings")
    assert_one_line_error(code, err, "not joined to a server")
