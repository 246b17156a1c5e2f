"""Migrations, imports, exports, voids and erasures are logged, never with an
athlete's name, date of birth or notes (GUIDE: logging)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from station import paths
from station.store import open_store
from station.store.export import export_summary, export_test
from station.store.export_all import export_all
from tests.store.test_database import _make_v1_database

PRIVATE = ["Old Timer", "OLD-7", "1990-05-01", "kept since v1", "Hermione Secretname",
           "1987-06-05", "her private note", "baseline"]  # fmt: skip


@pytest.mark.sqlite_only("logs an upgrade from an SQLite file of schema 1")
def test_store_actions_are_logged_without_personal_data(
    home: Path, capture_bytes: bytes, cert_file: Path, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    home.mkdir(parents=True)
    _make_v1_database(paths.database_path(home), capture_bytes)
    caplog.set_level(logging.INFO, logger="station")
    with open_store(actor="tester") as store:
        athlete = store.add_athlete("Hermione Secretname", date_of_birth="1987-06-05",
                                    notes="her private note", body_mass_kg=60)  # fmt: skip
        capture = tmp_path / "hermione.bin"
        capture.write_bytes(capture_bytes)
        test = store.import_test(athlete.id, capture, certificate=cert_file, notes="baseline")
        store.void_test(test.id, "double start")
        export_summary(store, tmp_path / "hermione-summary.csv", include_voided=True)
        export_test(store, test.id, tmp_path / "t")
        export_all(store, athlete.id, tmp_path / "all")
        store.erase_athlete(athlete.id, "request")
    text = "\n".join(record.getMessage() for record in caplog.records)
    for expected in (
        "upgrading the database from schema 1",
        "importing a binary capture for athlete",
        f"test {test.id} voided",
        "summary export: 1 test(s)",
        f"test {test.id} exported",
        f"everything about athlete {athlete.id} exported",
        f"athlete {athlete.id} erased",
    ):
        assert expected in text, text
    for value in PRIVATE + ["hermione"]:
        assert value.lower() not in text.lower(), value
