"""Erasure on a server: the rows lose the athlete's content, the history's guards
are lowered for that one transaction only, and the audit keeps only that it happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.store import NotFoundError, Store
from tests.store.conftest import RawSql

pytestmark = pytest.mark.postgres_only


def test_an_erasure_on_the_server_leaves_no_content_and_the_guards_up(
    store: Store, capture_file: Path, cert_file: Path, raw_sql: RawSql
) -> None:
    athlete = store.add_athlete("Quentin Private", external_id="QP-1", notes="knee op 2019")
    test = store.import_test(athlete.id, capture_file, certificate=cert_file, notes="sore")
    other = store.add_athlete("Kept Person")
    store.erase_athlete(athlete.id, "request 9", by="dpo")

    names = raw_sql.execute("SELECT name, external_id, notes FROM athletes ORDER BY id").fetchall()
    assert names == [("erased athlete", None, ""), ("Kept Person", None, "")]
    data = raw_sql.execute("SELECT size, length(data), sha256 FROM recordings").fetchall()
    assert data == [(0, 0, "erased-1")]
    dump = " ".join(
        str(row) for row in raw_sql.execute("SELECT before, after FROM audit_log").fetchall()
    )
    assert "Quentin" not in dump and "knee op" not in dump and "sore" not in dump
    with pytest.raises(NotFoundError, match="erased"):
        store.recording(test.id)
    # The guards are back for everyone (the erasure's setting was its transaction's).
    with pytest.raises(raw_sql.integrity_errors, match="append-only"):
        raw_sql.execute("UPDATE audit_log SET actor = 'x'")
    with pytest.raises(raw_sql.integrity_errors, match="never modified"):
        raw_sql.execute("UPDATE recordings SET kind = 'x'")
    entry = store.audit_log("athlete", athlete.id)[-1]
    assert (entry.action, entry.actor, entry.after["reason"]) == ("erase", "dpo", "request 9")
    assert store.get_athlete(other.id).name == "Kept Person"
    assert store.backend.integrity_check() == []
