"""The server store under real processes: a writer killed with SIGKILL in the middle
of a transaction leaves nothing of it, and two writers saving at once lose nothing."""

from __future__ import annotations

import hashlib
import signal
import time
from pathlib import Path

import psycopg
import pytest

from station.store import Store, open_store
from tests.store import synth
from tests.store.conftest import RawSql
from tests.store.test_recovery import _Child

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]

SAVER = """
import sys
from station.store import open_store

store = open_store(actor=sys.argv[4])
print("OPEN", flush=True)
for i in range(int(sys.argv[3])):
    test = store.import_test(
        int(sys.argv[1]), sys.argv[2], certificate=sys.argv[5], notes=f"{sys.argv[4]} {i}"
    )
    print("COMMITTED", test.id, test.recording_sha256, flush=True)
store.close()
print("DONE", flush=True)
"""

# Holds a writer inside its transaction, after its recording and test rows and
# before its analysis run: a kill lands between two statements of one save.
STALL = """CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$"""


def _counts(raw: RawSql) -> dict[str, int]:
    tables = ("tests", "recordings", "results", "reps", "curves", "audit_log", "certificates")
    return {t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def _wait_until(condition, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.02)  # polling the condition, not waiting for time to pass


def _stalled_in_trigger(raw: RawSql) -> bool:
    row = raw.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
        "AND query LIKE 'INSERT INTO results%' AND pid != pg_backend_pid()"
    ).fetchone()
    return bool(row[0])


def _writers(raw: RawSql) -> int:
    """Server sessions other than ours still inside a transaction."""
    row = raw.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND xact_start IS NOT NULL AND pid != pg_backend_pid() AND backend_type = 'client backend'"
    ).fetchone()
    return int(row[0])


def test_a_writer_killed_mid_transaction_leaves_nothing_of_it(
    store: Store, athlete, raw_sql: RawSql, tmp_path: Path, cert_file: Path
) -> None:
    capture = synth.write_capture(tmp_path / "big.bin", seconds=30.0, rate_hz=1000.0)
    kept = store.import_test(
        athlete.id, synth.write_capture(tmp_path / "kept.bin", seed=3), certificate=cert_file
    )
    before = _counts(raw_sql)
    raw_sql.execute(STALL)
    raw_sql.execute(
        "CREATE TRIGGER stall BEFORE INSERT ON results FOR EACH ROW EXECUTE FUNCTION stall()"
    )
    child = _Child(SAVER, str(athlete.id), str(capture), "1", "killed", str(cert_file))
    try:
        child.line("OPEN")
        _wait_until(lambda: _stalled_in_trigger(raw_sql), "the writer reached its analysis run")
        # Mid-transaction: its recording and test rows are written, not committed.
    finally:
        child.kill_9()
    assert child.process.returncode == -signal.SIGKILL
    # The server notices the dead client and rolls its transaction back by itself.
    _wait_until(lambda: _writers(raw_sql) == 0, "the dead writer's transaction ended")
    raw_sql.execute("DROP TRIGGER stall ON results")
    assert _counts(raw_sql) == before  # no half test: no recording, no test, no audit
    assert store.backend.integrity_check() == []
    assert [t.id for t in store.list_tests(athlete.id)] == [kept.id]
    # The write lock went with it: the next save goes through, whole.
    again = store.import_test(athlete.id, capture, certificate=cert_file)
    assert store.recording(again.id) == capture.read_bytes()
    assert store.get_test(again.id).result is not None


def test_two_writers_saving_at_once_lose_nothing(
    store: Store, athlete, raw_sql: RawSql, tmp_path: Path, cert_file: Path
) -> None:
    count = 6
    files = {
        who: synth.write_capture(tmp_path / f"{who}.bin", seed=seed, rate_hz=1000.0)
        for who, seed in (("first", 21), ("second", 22))
    }
    children = {
        who: _Child(SAVER, str(athlete.id), str(path), str(count), who, str(cert_file))
        for who, path in files.items()
    }
    committed: dict[str, list[int]] = {who: [] for who in children}
    try:
        for child in children.values():
            child.line("OPEN")
        # Interleaved: read one commit from each in turn, so both are saving at once.
        for _ in range(count):
            for who, child in children.items():
                _, test_id, sha = child.line("COMMITTED")
                assert sha == hashlib.sha256(files[who].read_bytes()).hexdigest()
                committed[who].append(int(test_id))
        for child in children.values():
            child.line("DONE")
            assert child.process.wait(timeout=60) == 0
    finally:
        for child in children.values():
            if child.process.poll() is None:
                child.kill_9()
    tests = store.list_tests(athlete.id)
    assert len(tests) == 2 * count
    assert {t.id for t in tests} == {i for ids in committed.values() for i in ids}
    for who, ids in committed.items():
        for test_id in ids:
            test = store.get_test(test_id)
            assert test.notes.startswith(who) and test.result is not None
            assert store.recording(test_id) == files[who].read_bytes()
    # Content-addressed: each writer's bytes are stored once, whoever saved first.
    assert raw_sql.execute("SELECT count(*) FROM recordings").fetchone()[0] == 2
    assert store.backend.integrity_check() == []
    with open_store() as reopened:
        assert len(reopened.audit_log("test")) == 2 * count


def test_a_dead_server_is_a_clear_error_naming_it(
    store: Store, athlete, pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's server is kept up; a closed port stands for a stopped one."""
    monkeypatch.setenv("PGPASSWORD", "s3cret-pw")
    url = "postgresql://nobody:hunter2@127.0.0.1:1/nordic"
    monkeypatch.setenv("NORDIC_STATION_DATABASE", url)
    from station.store.postgres import ServerUnreachableError

    with pytest.raises(ServerUnreachableError) as caught:
        open_store()
    message = str(caught.value)
    assert message.startswith("cannot reach the database server at 127.0.0.1:1: ")
    assert "hunter2" not in message and "s3cret" not in message
    assert "--database" in caught.value.hint
    assert isinstance(caught.value, OSError)
    # The store already open keeps working on its own server.
    assert store.get_athlete(athlete.id) == athlete
    with psycopg.connect(pg_server) as admin:
        assert admin.execute("SELECT 1").fetchone() == (1,)
