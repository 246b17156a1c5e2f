"""Everything held about one athlete, for them (the right of access and portability).

``athlete.json`` holds the athlete, their body-mass history, injuries, every
test (also voided ones) with every analysis run, rep and exclusion, the
certificates those tests used and every audit entry about them;
``summary.csv`` (+ sidecar) has one row per test; ``tests/`` has each test's
curves (CSV + JSON) and ``recordings/`` each raw recording as captured.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import station
from firmware_bridge.errors import StorageError, storage_error
from station.store.errors import NotFoundError, RecordingAbsentError, StoreError
from station.store.export import export_summary, export_test
from station.store.export_files import write_atomic
from station.store.models import Athlete
from station.store.store import Store
from station.store.validate import now_utc

log = logging.getLogger(__name__)

ACCESS_FORMAT = "nordic-station.athlete-export/1"
SUFFIXES = {"recording": ".nsrec", "binary": ".bin", "text": ".txt"}


@dataclass(frozen=True)
class AccessReport:
    folder: Path
    files: tuple[Path, ...]
    tests: int


def _empty_folder(folder: Path, force: bool) -> Path:
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder} exists and is not a folder: give a new folder")
    if folder.exists() and any(folder.iterdir()) and not force:
        raise StoreError(f"folder {folder} is not empty: give a new folder or pass --force")
    if not folder.parent.is_dir():
        raise StoreError(f"folder {folder.parent} does not exist: create it first")
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def export_all(
    store: Store, athlete: Any, out_dir: str | os.PathLike[str], *, force: bool = False
) -> AccessReport:
    """Write everything the station holds about ``athlete`` into ``out_dir``."""
    person = store.athletes.resolve(athlete)
    theirs = {t.id for t in store.tests.of_athlete(person, include_voided=True)}
    waiting = [t for t in store.tests.absent_recordings() if t in theirs]
    if waiting:  # said before a file is written: an export leaves nothing out
        raise RecordingAbsentError(waiting[0])
    folder = _empty_folder(Path(out_dir), force)
    try:
        return _export_all(store, person, folder, force)
    except OSError as exc:
        error = exc if isinstance(exc, StorageError) else storage_error(exc, f"files in {folder}")
        if not isinstance(error, StorageError):
            raise
        raise type(error)(
            f"{error}; the export in {folder} is incomplete: delete it and try again "
            "(nothing in the database changed)"
        ) from None


def _export_all(store: Store, person: Athlete, folder: Path, force: bool) -> AccessReport:
    tests = store.tests.of_athlete(person.id, include_voided=True)
    records: list[dict[str, Any]] = []
    audit = list(store.audit_log("athlete", person.id))
    certificates: dict[int, Any] = {}
    files: list[Path] = []
    (folder / "tests").mkdir(mode=0o700, exist_ok=True)
    (folder / "recordings").mkdir(mode=0o700, exist_ok=True)
    for summary in sorted(tests, key=lambda t: t.id):
        test = store.tests.get(summary.id)
        record = test.to_dict()
        record["runs"] = [run.to_dict() for run in store.tests.results(test.id)]
        record["reps"] = [rep.to_dict() for rep in store.tests.reps(test.id)]
        records.append(record)
        audit += store.test_audit_log(test.id)
        if test.certificate_id is not None:
            certificates[test.certificate_id] = store.certificates.get(test.certificate_id)
        if test.result is not None:
            try:
                files += export_test(store, test.id, folder / "tests", force=force).files
            except RecordingAbsentError:
                raise
            except StoreError as exc:  # no stored curves: the JSON above still has it all
                log.info("test %d: no curves exported (%s)", test.id, exc)
        try:
            raw = store.tests.recording(test.id)
        except RecordingAbsentError:  # on the clinic's server: an export leaves nothing out
            raise
        except NotFoundError:  # erased with the athlete's data
            continue
        suffix = SUFFIXES.get(test.recording_kind or "", ".bin")
        raw_path = folder / "recordings" / f"test-{test.id}{suffix}"
        raw_path.write_bytes(raw)
        files.append(raw_path)
    data = {
        "format": ACCESS_FORMAT,
        "exported_at": now_utc(),
        "station_version": station.__version__,
        "athlete": person.to_dict(),
        "body_mass_history": [m.to_dict() for m in store.athletes.body_mass_history(person.id)],
        "injuries": [i.to_dict() for i in store.athletes.injuries(person.id)],
        "tests": records,
        "certificates": [c.to_dict() for c in certificates.values() if c is not None],
        "audit": [entry.to_dict() for entry in sorted(audit, key=lambda e: e.id)],
    }
    main = folder / "athlete.json"
    write_atomic(
        main,
        lambda h: h.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"),
    )
    summary_files = export_summary(
        store, folder / "summary.csv", athlete=person.id, include_voided=True, force=force
    ).files
    log.info("everything about athlete %d exported: %d test(s)", person.id, len(records))
    return AccessReport(folder, (main, *summary_files, *files), len(records))
