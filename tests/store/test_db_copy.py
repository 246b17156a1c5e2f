"""``db copy`` (issue 13 §2): a whole store copied with its ids, recordings byte-equal,
verified by counts and checksums; a copy stopped anywhere (an error after N batches,
kill -9 of the command) resumes to the same result; a target holding another store
and bad locations are refused with one line.

Every target comes from the ``copy_target_url`` fixture, so a PostgreSQL
parametrisation adds the server backend to every test here."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import pytest

from station import paths
from station.store import Store
from station.store.copying import (
    CopyError,
    Dumpable,
    TableCheck,
    copy_store,
    open_location,
    rows_left_out,
    sqlite_location,
    verify,
)
from station.store.models import AthleteChanges, AthleteWrite
from station.store.sql.dump import NOT_COPIED, TABLES
from station.store.validate import search_key
from tests.store import synth
from tests.store.test_cli import assert_one_line_error, run

REPO = Path(__file__).resolve().parents[2]
_schemas = itertools.count(1)

# The source is an SQLite data folder (but in the PostgreSQL -> SQLite tests); the
# target's engine is copy_target_url's.
pytestmark = pytest.mark.sqlite_only("the source is an SQLite data folder")


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store with something in every table (see :func:`_fill`)."""
    folder = tmp_path_factory.mktemp("copy-source")
    with Store.open(folder, actor="tester") as store:
        _fill(store, tmp_path_factory.mktemp("copy-files"))
    return folder


def _fill(store: Store, work: Path) -> None:
    """Something in every table, through the store's public API: athletes (one
    erased), body mass, injuries, certificates, a verification, tests with
    recordings, analysis runs (a rep exclusion adds one sharing its curves),
    reps, a void, the audit log."""
    cert = synth.certificate()
    ada = store.athletes.add(
        "Åda Lövelace", external_id="S01", body_mass_kg=62.5, lever_arm_m=0.42, team="U19"
    )
    bo = store.athletes.add("Bo Berg", team="U19", notes="left knee", body_mass_kg=80)
    gone = store.athletes.add("Erased Person", external_id="GONE-1")
    store.athletes.add_body_mass(ada.id, 63.0, "2024-03-01")
    store.athletes.add_injury(bo.id, "left", "2024-02-01", "strain", region="biceps femoris")
    certificate = store.certificates.add(cert)
    store.certificates.add_verification({"ok": True}, certificate_id=certificate.id, passed=True)
    tests = []
    for i, (who, left) in enumerate(((ada, 300.0), (ada, 310.0), (bo, 280.0), (gone, 200.0))):
        capture = synth.write_capture(work / f"c{i}.bin", left, 250.0, seed=i + 1)
        tests.append(store.new_tests.import_file(who.id, capture, certificate=cert, notes=f"n{i}"))
    store.runs.exclude_rep(tests[1].id, 1, "hips flexed early", by="Kim")
    store.tests.void(tests[2].id, "double start")
    store.erasure.erase(gone.id, "asked for it")


@pytest.fixture(params=["sqlite", "postgres"])
def copy_target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store to copy into, by URL (one parameter a backend)."""
    if request.param == "postgres":
        yield request.getfixturevalue("pg_url")
    else:
        yield f"sqlite:///{tmp_path / 'target'}"


@pytest.fixture
def source(source_dir: Path) -> Iterator[Dumpable]:
    opened = open_location(str(source_dir), create=False)
    yield opened
    opened.close()


def _opened(url: str) -> Any:
    return open_location(url, create=True)


def _same_records(source: Any, target: Any) -> None:
    """Everything a user reads is the same through the backend API."""
    assert source.pseudonym_secret() == target.pseudonym_secret()
    everyone = dict(include_archived=True)
    assert source.list_athletes(**everyone) == target.list_athletes(**everyone)
    for athlete in source.list_athletes(**everyone):
        assert source.body_mass_history(athlete.id) == target.body_mass_history(athlete.id)
        assert source.injuries(athlete.id) == target.injuries(athlete.id)
        assert source.list_tests(athlete.id, include_voided=True) == target.list_tests(
            athlete.id, include_voided=True
        )
    assert source.list_certificates() == target.list_certificates()
    assert source.verifications() == target.verifications()
    assert source.audit_log() == target.audit_log()
    assert source.test_ids() == target.test_ids() and len(source.test_ids()) == 3
    for test_id in range(1, 5):
        assert source.get_test(test_id) == target.get_test(test_id)
        assert source.reps(test_id) == target.reps(test_id)
        assert source.results(test_id) == target.results(test_id)
        for run_ in source.results(test_id):
            mine, theirs = source.curves(run_.id), target.curves(run_.id)
            assert (mine is None) == (theirs is None)
            assert list(mine or {}) == list(theirs or {})  # in the order they were stored
            for name, values in (mine or {}).items():
                assert values.dtype == theirs[name].dtype
                np.testing.assert_array_equal(values, theirs[name])
    for test_id in source.test_ids():
        data, kind, sha = source.recording(test_id)
        assert target.recording(test_id) == (data, kind, sha)  # byte-equal, hash checked


def _all_same(checks: list[TableCheck]) -> dict[str, tuple[int, str]]:
    assert all(check.ok for check in checks), [c for c in checks if not c.ok]
    assert {c.table for c in checks} == {t.name for t in TABLES} | {"meta"}
    return {c.table: (c.target_rows, c.target_sha256) for c in checks}


def test_a_round_trip_keeps_every_record_and_recording(
    source: Any, copy_target_url: str, tmp_path: Path
) -> None:
    target = _opened(copy_target_url)
    try:
        lines: list[str] = []
        checks = copy_store(source, target, progress=lines.append)
        counted = _all_same(checks)
        assert counted["recordings"][0] == 4 and counted["curves"][0] > 0
        assert counted["results"][0] == 5 and counted["audit_log"][0] > 10
        verifying = lines.index("verifying: counts and checksums of every table")
        assert any(line.startswith("recordings: 4/4 rows") for line in lines[:verifying])
        assert any(line.startswith("verified recordings: 4 rows in") for line in lines[verifying:])
        _same_records(source, target)
        # ... and back: the copy of the copy has the source's checksums.
        back = _opened(f"sqlite:///{tmp_path / 'back'}")
        try:
            assert _all_same(copy_store(target, back)) == counted
            _same_records(source, back)
        finally:
            back.close()
        # New records continue after the copied ids.
        athlete = target.insert_athlete(
            AthleteWrite(None, AthleteChanges(name="New One"), search_key("New One")), "t"
        )
        assert athlete == max(a.id for a in source.list_athletes(include_archived=True)) + 1
    finally:
        target.close()


def test_a_store_on_postgresql_copies_to_sqlite_and_to_another_server(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clinic leaving its server: a store made through the public API on
    PostgreSQL, copied by the command to an SQLite folder, the same records
    and recordings there; that copy copied to SQLite again, and the server's
    store to another server, the same checksums."""
    with Store.open(tmp_path / "station", database=pg_url, actor="tester") as store:
        _fill(store, tmp_path)
    code, out, err = run(capsys, "db", "copy", pg_url, str(tmp_path / "moved"), "--quiet")
    assert code == 0 and err == "", err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert rows["recordings"] == ["4", "4", "same"] and rows["results"][0] == "5"
    assert all(cells[0] == cells[1] and cells[2] == "same" for cells in rows.values())
    server = open_location(pg_url, create=False)
    moved = open_location(str(tmp_path / "moved"), create=False)
    again = open_location(f"sqlite:///{tmp_path / 'again.sqlite3'}", create=True)
    other_server = open_location(_another_schema(pg_url), create=True)
    try:
        _same_records(server, moved)
        assert server.schema_version == moved.schema_version
        counted = _all_same(verify(server, moved))
        assert _all_same(copy_store(moved, again)) == counted
        _same_records(server, again)
        # ... and from one server to another (a clinic changing servers).
        assert all(other_server.dump_count(t.name) == 0 for t in TABLES)
        assert _all_same(copy_store(server, other_server, batch_rows=2)) == counted
        _same_records(server, other_server)
    finally:
        other_server.close()
        again.close()
        moved.close()
        server.close()
    conn = sqlite3.connect(paths.database_path(tmp_path / "moved"))
    try:  # SQLite keeps its text meta as text, the secret as bytes, as it made them
        kinds = dict(conn.execute("SELECT key, typeof(value) FROM meta").fetchall())
    finally:
        conn.close()
    assert kinds == {"created_at": "text", "pseudonym_secret": "blob"}


def _another_schema(url: str) -> str:
    """``url`` (a schema of the session's server) with a new, empty schema instead."""
    import psycopg

    name = f"copy_{next(_schemas)}_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={name}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_an_empty_server_database_is_no_source(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "db", "copy", pg_url, str(tmp_path / "t"), "--quiet")
    assert_one_line_error(code, err, "no Nordic Station database at postgresql://")
    assert out == "" and not (tmp_path / "t").exists()
    import psycopg

    with psycopg.connect(pg_url) as conn:  # still empty: nothing was created
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
    assert tables == (0,)


class Stop(Exception):
    pass


def _stop_after(batches: int) -> Callable[[str, int], None]:
    seen = [0]

    def after_batch(table: str, rows: int) -> None:
        seen[0] += 1
        if seen[0] >= batches:
            raise Stop

    return after_batch


@pytest.mark.parametrize("share", [0.0, 0.2, 0.45, 0.7, 0.99])
def test_a_copy_stopped_after_some_batches_resumes_without_duplicates(
    source: Any, copy_target_url: str, tmp_path: Path, share: float
) -> None:
    reference = _opened(f"sqlite:///{tmp_path / 'reference'}")
    tables: list[str] = []
    try:
        expected = _all_same(
            copy_store(source, reference, batch_rows=2, after_batch=lambda t, n: tables.append(t))
        )
    finally:
        reference.close()
    batches = 1 + int(share * (len(tables) - 1))  # stop after this many, of len(tables)
    target = _opened(copy_target_url)
    try:
        with pytest.raises(Stop):
            copy_store(source, target, batch_rows=2, after_batch=_stop_after(batches))
        partial = sum(target.dump_count(t.name) for t in TABLES)
        assert 0 < partial < sum(n for n, _ in expected.values())
    finally:
        target.close()
    target = _opened(copy_target_url)  # reopened, as a new run of the command would
    try:
        assert _all_same(copy_store(source, target, batch_rows=3)) == expected
        _same_records(source, target)
    finally:
        target.close()


def test_a_copy_changed_underneath_is_reported_table_by_table(
    source_dir: Path, copy_target_url: str, tmp_path: Path
) -> None:
    changed = tmp_path / "changing"
    _copy_folder(source_dir, changed)
    with Store.open(changed, actor="tester") as store:

        def edit_after_first_batch(table: str, rows: int) -> None:
            if table == "tests":  # the athletes are copied already: change one now
                store.athletes.update(1, team="Seniors")

        target = _opened(copy_target_url)
        try:
            with pytest.raises(CopyError, match="athletes") as caught:
                copy_store(store.backend, target, after_batch=edit_after_first_batch)  # type: ignore[arg-type]
        finally:
            target.close()
    bad = {c.table for c in caught.value.checks if not c.ok}
    assert "athletes" in bad and "tests" not in bad


def _copy_folder(source_dir: Path, folder: Path) -> None:
    """A private copy of the source store (through SQLite's backup, WAL included)."""
    folder.mkdir()
    src = sqlite3.connect(paths.database_path(source_dir))
    dst = sqlite3.connect(paths.database_path(folder))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def test_a_target_holding_another_store_is_refused_untouched(
    source: Any, copy_target_url: str, capsys: pytest.CaptureFixture[str], source_dir: Path
) -> None:
    target = _opened(copy_target_url)
    try:
        target.insert_athlete(
            AthleteWrite(None, AthleteChanges(name="Someone Else"), search_key("Someone Else")), "t"
        )
        before = [(t.name, target.dump_count(t.name)) for t in TABLES]
        secret = target.pseudonym_secret()
        with pytest.raises(CopyError, match="another store"):
            copy_store(source, target)
        assert [(t.name, target.dump_count(t.name)) for t in TABLES] == before
        assert target.pseudonym_secret() == secret
    finally:
        target.close()
    code, _, err = run(capsys, "db", "copy", str(source_dir), copy_target_url, "--quiet")
    assert_one_line_error(code, err, "already holds another store")


def test_the_command_copies_prints_counts_and_reruns_harmlessly(
    source_dir: Path, copy_target_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "db", "copy", str(source_dir), copy_target_url)
    assert code == 0, err
    assert "rows/s" in err and "verifying" in err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert set(rows) == {t.name for t in TABLES} | {"meta"}
    assert all(cells[0] == cells[1] and cells[2] == "same" for cells in rows.values())
    assert rows["recordings"][0] == "4"
    again = run(capsys, "db", "copy", str(source_dir), copy_target_url, "--quiet")
    assert again[0] == 0 and again[1] == out and again[2] == ""


class _OtherVersion:
    """A store that says it has another schema version (everything else delegated)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    schema_version = 999

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_stores_of_different_schema_versions_are_refused(source: Any, copy_target_url: str) -> None:
    target = _opened(copy_target_url)
    try:
        with pytest.raises(CopyError, match="schema 999"):
            copy_store(_OtherVersion(source), target)
        assert all(target.dump_count(t.name) == 0 for t in TABLES)
    finally:
        target.close()


def _damage_recording_1(url: str) -> None:
    """Change the bytes of recording 1, same size, around the store (on purpose)."""
    database = sqlite_location(url)
    if database is None:
        import psycopg

        with psycopg.connect(url) as server:
            server.execute("ALTER TABLE recordings DISABLE TRIGGER recordings_no_update")
            changed = server.execute(
                "UPDATE recordings SET data = set_byte(data, 0, 255 - get_byte(data, 0)) "
                "WHERE id = 1"
            )
            assert changed.rowcount == 1
        return
    conn = sqlite3.connect(database)
    try:
        conn.execute("DROP TRIGGER recordings_no_update")
        conn.execute("UPDATE recordings SET data = CAST(upper(data) AS BLOB) WHERE id = 1")
        conn.commit()
    finally:
        conn.close()


class _ExtraColumn:
    """A store whose athletes have a column no target has (everything else delegated)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def dump_columns(self, table: str) -> list[str]:
        extra = ["shoe_size"] if table == "athletes" else []
        return [*self._store.dump_columns(table), *extra]


def test_a_source_column_the_target_lacks_is_refused_before_writing(
    source: Any, copy_target_url: str
) -> None:
    target = _opened(copy_target_url)
    try:
        secret = target.pseudonym_secret()
        with pytest.raises(CopyError, match="athletes of the target has no column shoe_size"):
            copy_store(_ExtraColumn(source), target)
        assert all(target.dump_count(t.name) == 0 for t in TABLES)
        assert target.pseudonym_secret() == secret
    finally:
        target.close()


def test_a_recording_that_no_longer_matches_its_hash_fails_the_check(
    source: Any, copy_target_url: str
) -> None:
    target = _opened(copy_target_url)
    try:
        copy_store(source, target)
    finally:
        target.close()
    _damage_recording_1(copy_target_url)
    target = _opened(copy_target_url)
    try:
        checks = {c.table: c for c in verify(source, target)}
    finally:
        target.close()
    assert checks["recordings"].bad_recordings == 1 and not checks["recordings"].ok
    assert all(c.ok for name, c in checks.items() if name != "recordings")


def _bad_locations(source_dir: Path, tmp_path: Path) -> list[tuple[list[str], str]]:
    alien = tmp_path / "alien"
    alien.mkdir()
    paths.database_path(alien).write_bytes(b"not a database at all, just text")
    database = paths.database_path(source_dir)
    return [
        ([str(tmp_path / "missing"), str(tmp_path / "t1")], "no Nordic Station database"),
        ([f"sqlite:///{tmp_path / 'none.sqlite3'}", str(tmp_path / "t4")], "no Nordic Station"),
        ([str(source_dir), "mysql://db/x"], "unknown kind of database mysql://"),
        ([str(source_dir), "sqlite://"], "names no file"),
        ([str(source_dir), f"sqlite:///{source_dir}"], "is a folder, not a database file"),
        ([str(database), str(tmp_path / "t5")], "is a file, not a folder"),
        ([str(source_dir), str(source_dir)], "the same store"),
        ([str(source_dir), f"sqlite:///{database}"], "the same store"),
        ([f"sqlite:///{database}", f" {source_dir}/ "], "the same store"),
        ([str(alien), str(tmp_path / "t2")], "not a Nordic Station database"),
        ([str(source_dir), str(tmp_path / "t3"), "--batch-rows", "0"], "--batch-rows"),
    ]


def test_bad_locations_exit_2_with_one_line(
    source_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, text in _bad_locations(source_dir, tmp_path):
        code, out, err = run(capsys, "db", "copy", *argv, "--quiet")
        assert_one_line_error(code, err, text)
        assert out == ""
    assert not (tmp_path / "missing").exists()  # a missing source is not created
    assert not (tmp_path / "none.sqlite3").exists()
    assert not any((tmp_path / name).exists() for name in ("t1", "t2", "t3", "t4", "t5"))


def test_every_table_is_copied_or_named_as_left_out(source_dir: Path) -> None:
    conn = sqlite3.connect(paths.database_path(source_dir))
    try:
        names = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        conn.close()
    assert names == {t.name for t in TABLES} | set(NOT_COPIED) | {"meta"}


def test_tests_in_progress_are_counted_as_left_out(store: Store, athlete: Any) -> None:
    assert rows_left_out(store.backend) == {}  # type: ignore[arg-type]
    store.backend.insert_pending(
        athlete.id, "x.nsrec", "nordic_eccentric", None, None, None, "", None, None, "t"
    )
    assert rows_left_out(store.backend) == {"pending_tests": 1}  # type: ignore[arg-type]


# -- kill -9 of the command -------------------------------------------------------------


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Thousands of small rows: copied one a transaction, that takes seconds."""
    folder = tmp_path_factory.mktemp("copy-big")
    with Store.open(folder, actor="tester") as store:
        names = [f"Athlete {i}" for i in range(1, 3001)]
        store.backend.bulk_load(
            [{"id": i, "name": n, "name_key": search_key(n)} for i, n in enumerate(names, 1)],
            [],
            "tester",
        )
    return folder


def _committed(url: str, table: str) -> int:
    """Rows of ``table`` committed in the store at ``url`` so far, read while the
    copy writes (SQLite's WAL and a server's MVCC: a reader never blocks it)."""
    database = sqlite_location(url)
    if database is None:  # a server
        import psycopg

        try:
            with psycopg.connect(url) as server:
                row = server.execute(f"SELECT count(*) FROM {table}").fetchone()
        except psycopg.Error:
            return 0
        return int(row[0]) if row else 0
    try:
        conn = sqlite3.connect(database.absolute().as_uri() + "?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return 0
    try:
        counted = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(counted[0]) if counted else 0
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the copy never reached the point to kill it at"
        time.sleep(0.01)


@pytest.mark.parametrize("table, rows", [("athletes", 50), ("audit_log", 200)])
def test_kill_9_of_the_command_mid_copy_then_resume(
    big_source: Path,
    copy_target_url: str,
    capsys: pytest.CaptureFixture[str],
    table: str,
    rows: int,
) -> None:
    target = copy_target_url
    command = [sys.executable, "-m", "station.cli", "db", "copy"]
    argv = [*command, str(big_source), target, "--batch-rows", "1", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(argv, cwd=REPO, env=env, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _committed(target, table) >= rows, process)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert rows <= _committed(target, table) < 3000  # really stopped mid-way
    code, out, err = run(capsys, "db", "copy", str(big_source), target, "--quiet")
    assert code == 0, err
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert lines["athletes"] == ["3,000", "3,000", "same"]
    assert lines["audit_log"] == ["3,000", "3,000", "same"]
    assert all(cells[2] == "same" for cells in lines.values())
