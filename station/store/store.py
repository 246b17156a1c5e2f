"""The store as the app and the CLI use it.

:class:`Store` checks every value a person typed, runs the analysis on a
capture's bytes, keeps the files of tests in progress, and hands finished
records to a backend (:class:`~station.store.sqlite.SqliteStore`) that holds
all the SQL.  Rules it keeps:

- nothing half-written: every change is one backend transaction, and every
  value is checked before the transaction starts;
- nothing lost: a committed test's raw bytes are in the database before its
  in-progress file is removed; a crashed test is found on the next start and
  can be recovered; a discarded partial recording is moved aside, not deleted;
  a recompute or an exclusion adds an analysis run, it never replaces one;
- every change to an athlete, a test or a rep is in the audit log, with who.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import socket
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from calibration.certificate import Certificate, load_certificate, parse_certificate
from firmware_bridge.capture import Capture, CaptureError, load_capture, load_capture_bytes
from firmware_bridge.errors import InputError
from station import paths
from station.analysis import AnalysisSettings
from station.store import processing, validate
from station.store.backend import Backend
from station.store.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from station.store.locks import FileLock, is_locked
from station.store.models import (
    Athlete,
    AuditEntry,
    BodyMass,
    CertificateRecord,
    Curves,
    Injury,
    NewTest,
    OrphanFile,
    PendingTest,
    Recomputation,
    Rep,
    Result,
    TestRecord,
    TestSummary,
    Verification,
)
from station.store.sqlite import AuditRecord, SqliteStore, canonical_json

RECORDING_SUFFIX = ".nsrec"
LOCK_SUFFIX = ".lock"


def default_actor() -> str:
    """Who is making changes when nobody says: the logged-in user."""
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):
        return "unknown"


def open_store(
    data_dir: str | os.PathLike[str] | None = None, *, actor: str | None = None
) -> Store:
    """Open (creating if needed) the store in the data folder (see station.paths)."""
    return Store.open(data_dir, actor=actor)


class Store:
    """Athletes, tests, reps, certificates and the audit trail of one data folder."""

    def __init__(self, folder: Path, backend: Backend, actor: str | None = None) -> None:
        self.folder = folder
        self.backend = backend
        self.actor = actor or default_actor()
        self._locks: dict[int, FileLock] = {}

    @classmethod
    def open(
        cls, data_dir: str | os.PathLike[str] | None = None, *, actor: str | None = None
    ) -> Store:
        folder = paths.ensure_data_dir(data_dir)
        backend = SqliteStore(paths.database_path(folder), paths.backups_dir(folder))
        return cls(folder, backend, actor)

    def close(self) -> None:
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _who(self, by: str | None) -> str:
        return validate.text_field(by, "who") or self.actor

    @property
    def path(self) -> Path:
        return self.backend.path

    # -- athletes -------------------------------------------------------------------
    def add_athlete(
        self,
        name: str,
        *,
        external_id: str | None = None,
        date_of_birth: date | str | None = None,
        sex: str | None = None,
        sport: str | None = None,
        team: str | None = None,
        dominant_leg: str | None = None,
        lever_arm_m: float | None = None,
        body_mass_kg: float | None = None,
        notes: str | None = None,
        by: str | None = None,
    ) -> Athlete:
        """Register an athlete; every value is checked before anything is written."""
        values = validate.athlete_changes(
            {
                "name": name,
                "external_id": external_id,
                "date_of_birth": date_of_birth,
                "sex": sex,
                "sport": sport,
                "team": team,
                "dominant_leg": dominant_leg,
                "lever_arm_m": lever_arm_m,
                "notes": notes,
            }
        )
        mass = None
        if body_mass_kg is not None:
            mass = BodyMass(date.today(), validate.body_mass_kg(body_mass_kg))
        if values["external_id"] is not None:
            self._check_external_id(values["external_id"], None)
        athlete_id = self.backend.insert_athlete(
            values, validate.search_key(values["name"]), mass, self._who(by)
        )
        return self.get_athlete(athlete_id)

    def _check_external_id(self, external_id: str, athlete_id: int | None) -> None:
        for other in self.backend.athletes_by_external_id(external_id):
            if other.id != athlete_id:
                raise DuplicateError(
                    f"external id {external_id!r} is already used by athlete {other.id} "
                    f"({other.name}): use another one"
                )

    def get_athlete(self, athlete_id: int) -> Athlete:
        athlete = self.backend.get_athlete(int(athlete_id))
        if athlete is None:
            raise NotFoundError(f"no athlete {athlete_id}: see 'nordic-station athlete list'")
        return athlete

    def resolve_athlete(self, ref: Athlete | int | str) -> Athlete:
        """An athlete by id or external id (as typed on the command line)."""
        if isinstance(ref, Athlete):
            return self.get_athlete(ref.id)
        if isinstance(ref, int):
            return self.get_athlete(ref)
        text = str(ref).strip()
        if not text:
            raise ValidationError("no athlete given: pass an athlete id or external id")
        by_id = self.backend.get_athlete(int(text)) if text.isdigit() and len(text) < 19 else None
        by_external = self.backend.athletes_by_external_id(text)
        if by_id is not None and by_external and by_external[0].id != by_id.id:
            raise ValidationError(
                f"{text!r} is athlete {by_id.id}'s id and athlete {by_external[0].id}'s external "
                f"id: use the id of the one you mean"
            )
        if by_id is not None:
            return by_id
        if by_external:
            return by_external[0]
        raise NotFoundError(
            f"no athlete with id or external id {text!r}: see 'nordic-station athlete list'"
        )

    def list_athletes(
        self,
        search: str | None = None,
        *,
        team: str | None = None,
        include_archived: bool = False,
        archived_only: bool = False,
        limit: int | None = None,
    ) -> list[Athlete]:
        """Athletes sorted by name; ``search`` ignores case and accents (name or external id)."""
        key = validate.search_key(search) if search else None
        return self.backend.list_athletes(key or None, team, include_archived, archived_only, limit)

    def update_athlete(
        self, athlete: Athlete | int | str, *, by: str | None = None, **changes: Any
    ) -> Athlete:
        """Change athlete fields; ``body_mass_kg`` adds a dated entry to the history."""
        current = self.resolve_athlete(athlete)
        mass = None
        if "body_mass_kg" in changes:
            kg = changes.pop("body_mass_kg")
            if kg is not None:
                mass = BodyMass(date.today(), validate.body_mass_kg(kg))
        if "name" in changes and changes["name"] is None:
            del changes["name"]
        values = validate.athlete_changes(changes)
        if values.get("external_id") is not None:
            self._check_external_id(values["external_id"], current.id)
        name_key = validate.search_key(values["name"]) if "name" in values else None
        if not values and mass is None:
            raise ValidationError("nothing to change: give at least one field")
        self.backend.update_athlete(current.id, values, name_key, self._who(by), body_mass=mass)
        return self.get_athlete(current.id)

    def archive_athlete(
        self, athlete: Athlete | int | str, archived: bool = True, *, by: str | None = None
    ) -> Athlete:
        """Hide an athlete from lists; archived athletes keep all their tests."""
        current = self.resolve_athlete(athlete)
        self.backend.update_athlete(
            current.id,
            {"archived": int(archived)},
            None,
            self._who(by),
            action="archive" if archived else "unarchive",
        )
        return self.get_athlete(current.id)

    def add_body_mass(
        self,
        athlete: Athlete | int | str,
        kg: float,
        on: date | str | None = None,
        *,
        by: str | None = None,
    ) -> list[BodyMass]:
        current = self.resolve_athlete(athlete)
        day = validate.past_date(on, "weighing date") if on is not None else date.today()
        entry = BodyMass(day, validate.body_mass_kg(kg))
        self.backend.update_athlete(current.id, {}, None, self._who(by), body_mass=entry)
        return self.backend.body_mass_history(current.id)

    def body_mass_history(self, athlete: Athlete | int | str) -> list[BodyMass]:
        return self.backend.body_mass_history(self.resolve_athlete(athlete).id)

    def body_mass_on(self, athlete_id: int, day: date) -> float | None:
        """Body mass for a test on ``day``: the latest weighing on or before it, else the first."""
        history = self.backend.body_mass_history(athlete_id)
        before = [entry for entry in history if entry.measured_on <= day]
        if before:
            return before[-1].kg
        return history[0].kg if history else None

    def add_injury(
        self,
        athlete: Athlete | int | str,
        side: str,
        on: date | str | None = None,
        note: str | None = None,
        *,
        by: str | None = None,
    ) -> list[Injury]:
        current = self.resolve_athlete(athlete)
        day = validate.past_date(on, "injury date") if on is not None else None
        self.backend.add_injury(
            current.id, validate.injury_side(side), day, validate.notes(note), self._who(by)
        )
        return self.backend.injuries(current.id)

    def injuries(self, athlete: Athlete | int | str) -> list[Injury]:
        return self.backend.injuries(self.resolve_athlete(athlete).id)

    # -- certificates ---------------------------------------------------------------
    def add_certificate(
        self,
        certificate: Certificate | Mapping[str, Any] | str | os.PathLike[str],
        *,
        by: str | None = None,
    ) -> CertificateRecord:
        """Keep a certificate whole (a file path, a parsed one or its JSON object)."""
        cert = _as_certificate(certificate)
        record = self.backend.get_certificate(
            self.backend.add_certificate(cert.to_dict(), self._who(by))
        )
        assert record is not None
        return record

    def get_certificate(self, certificate_id: int) -> CertificateRecord:
        record = self.backend.get_certificate(int(certificate_id))
        if record is None:
            raise NotFoundError(f"no calibration certificate {certificate_id}")
        return record

    def list_certificates(self, device_serial: str | None = None) -> list[CertificateRecord]:
        return self.backend.list_certificates(device_serial)

    def add_verification(
        self,
        data: Mapping[str, Any],
        *,
        certificate_id: int | None = None,
        device_serial: str | None = None,
        passed: bool | None = None,
        operator: str | None = None,
        performed_at: str | datetime | None = None,
        by: str | None = None,
    ) -> Verification:
        """Keep a one-mass verification (calibration.md) beside its certificate."""
        when = (
            validate.parse_instant(performed_at, "verification time")
            if performed_at
            else validate.now_utc()
        )
        verification_id = self.backend.add_verification(
            certificate_id,
            validate.text_field(device_serial, "device serial"),
            when,
            validate.text_field(operator, "operator"),
            passed,
            dict(data),
            self._who(by),
        )
        return next(
            v for v in self.backend.verifications(certificate_id) if v.id == verification_id
        )

    def verifications(self, certificate_id: int | None = None) -> list[Verification]:
        return self.backend.verifications(certificate_id)

    # -- tests: import ----------------------------------------------------------------
    def import_test(
        self,
        athlete: Athlete | int | str,
        path: str | os.PathLike[str],
        *,
        certificate: Certificate | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        rate_hz: float | None = None,
        operator: str | None = None,
        notes: str | None = None,
        recorded_at: str | datetime | None = None,
        protocol: str | None = None,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> TestRecord:
        """Store a capture made elsewhere (recording, raw binary or text) as a new test."""
        who = self._who(by)
        subject = self.resolve_athlete(athlete)
        operator = validate.text_field(operator, "operator")
        notes_text = validate.notes(notes)
        protocol = validate.protocol(protocol)
        rate = None if rate_hz is None else validate.sample_rate_hz(rate_hz)
        when = (
            validate.parse_instant(recorded_at, "recorded at") if recorded_at is not None else None
        )
        cert = None if certificate is None else _as_certificate(certificate)
        blob, capture = _read_stable(Path(path), rate)
        chosen = processing.certificate_for(capture, cert, str(path))
        if when is None:
            when = _started(capture) or processing.file_time(path)
        analysed = self._analyse(subject.id, capture, chosen, when, settings)
        earlier = self.backend.tests_with_recording(hashlib.sha256(blob).hexdigest())
        if earlier:
            analysed.warnings.insert(
                0,
                f"the same capture was imported before as test "
                f"{', '.join(str(t) for t in earlier)}: stored once, kept as a new test",
            )
        new = NewTest(
            athlete_id=subject.id,
            recorded_at=when,
            protocol=protocol,
            recording=blob,
            recording_kind=capture.kind,
            source=f"import:{Path(path).name}",
            result=processing.new_result(analysed.result, "import"),
            reps=processing.new_reps(analysed.metrics, {}),
            rig_serial=analysed.rig_serial,
            operator=operator,
            notes=notes_text,
            sample_rate_hz=analysed.sample_rate_hz,
            duration_s=analysed.duration_s,
            body_mass_kg=analysed.result.body_mass_kg,
            lever_arm_m=analysed.result.lever_arm_m,
            certificate=chosen.to_dict(),
            warnings=analysed.warnings,
        )
        return self.get_test(self.backend.save_test(new, who))

    def _analyse(
        self,
        athlete_id: int,
        capture: Capture,
        certificate: Certificate,
        when: str,
        settings: AnalysisSettings | Mapping[str, Any] | None,
    ) -> processing.Analysed:
        athlete = self.get_athlete(athlete_id)
        day = date.fromisoformat(when[:10])
        analysed = processing.run_analysis(
            capture,
            certificate,
            settings=settings,
            body_mass_kg=self.body_mass_on(athlete_id, day),
            lever_arm_m=athlete.lever_arm_m,
        )
        for warning in processing.certificate_warnings(certificate, analysed.rig_serial, day):
            if warning not in analysed.warnings:
                analysed.warnings.append(warning)
        return analysed

    # -- tests: live recording and crash recovery -----------------------------------
    @property
    def in_progress(self) -> Path:
        return paths.in_progress_dir(self.folder)

    def begin_test(
        self,
        athlete: Athlete | int | str,
        *,
        certificate: Certificate | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        rig_serial: str | None = None,
        operator: str | None = None,
        notes: str | None = None,
        protocol: str | None = None,
        rate_hz: float | None = None,
        by: str | None = None,
    ) -> PendingTest:
        """Start a test: returns where to record (``PendingTest.path``, not yet created).

        Record into that path with ``firmware_bridge.recording.RecordingWriter``,
        then call :meth:`finish_test` (or :meth:`abort_test`).  If the station
        dies meanwhile, :meth:`pending_tests` finds the test on the next start.
        """
        who = self._who(by)
        subject = self.resolve_athlete(athlete)
        cert = None if certificate is None else _as_certificate(certificate)
        operator = validate.text_field(operator, "operator")
        notes_text = validate.notes(notes)
        protocol = validate.protocol(protocol)
        rig_serial = validate.text_field(rig_serial, "rig serial")
        rate = None if rate_hz is None else validate.sample_rate_hz(rate_hz)
        folder = self.in_progress
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        file_name = f"test-{uuid.uuid4().hex}{RECORDING_SUFFIX}"
        lock = FileLock(folder / (file_name + LOCK_SUFFIX))
        if not lock.acquire():  # a fresh random name: only a broken file system gets here
            raise StoreError(f"cannot lock {lock.path}: check the data folder")
        try:
            pending_id = self.backend.insert_pending(
                subject.id,
                file_name,
                protocol,
                rig_serial,
                None if cert is None else cert.to_dict(),
                operator,
                notes_text,
                socket.gethostname(),
                os.getpid(),
                who,
                rate,
            )
        except BaseException:
            lock.release(remove=True)
            raise
        self._locks[pending_id] = lock
        return self._pending_state(self.backend.get_pending(pending_id, folder))  # type: ignore[arg-type]

    def _pending_state(self, pending: PendingTest) -> PendingTest:
        lock_path = pending.path.with_name(pending.path.name + LOCK_SUFFIX)
        ours = pending.id in self._locks
        live = ours or is_locked(lock_path)
        try:
            size: int | None = pending.path.stat().st_size
        except FileNotFoundError:
            size = None
        return replace(pending, live=live, size=size)

    def pending_tests(self, *, include_live: bool = True) -> list[PendingTest]:
        """Tests begun and not finished; ``live`` False means left by a crash."""
        out = [self._pending_state(p) for p in self.backend.list_pending(self.in_progress)]
        return out if include_live else [p for p in out if not p.live]

    def get_pending(self, pending_id: int) -> PendingTest:
        pending = self.backend.get_pending(int(pending_id), self.in_progress)
        if pending is None:
            raise NotFoundError(
                f"no unfinished test {pending_id}: see 'nordic-station recover --list'"
            )
        return self._pending_state(pending)

    def finish_test(
        self,
        pending: PendingTest | int,
        *,
        notes: str | None = None,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> TestRecord:
        """Commit a recorded test (the recording must be closed); removes the in-progress file."""
        state = self.get_pending(pending.id if isinstance(pending, PendingTest) else pending)
        if state.id not in self._locks and state.live:
            raise StoreError(f"test {state.id} is being recorded by another process")
        extra = validate.notes(notes) if notes is not None else None
        return self._commit_pending(state, recovered=False, notes=extra, settings=settings, by=by)

    def recover_test(
        self,
        pending_id: int,
        *,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        by: str | None = None,
    ) -> TestRecord:
        """Import what a crashed test recorded, flagged as recovered."""
        state = self.get_pending(pending_id)
        if state.live:
            raise StoreError(
                f"test {state.id} is still being recorded (process {state.pid} on {state.host}): "
                "finish it there"
            )
        return self._commit_pending(state, recovered=True, notes=None, settings=settings, by=by)

    def _commit_pending(
        self,
        state: PendingTest,
        *,
        recovered: bool,
        notes: str | None,
        settings: AnalysisSettings | Mapping[str, Any] | None,
        by: str | None,
    ) -> TestRecord:
        who = self._who(by)
        if state.size is None or state.size == 0:
            raise StoreError(
                f"test {state.id} recorded nothing ({state.path.name} is "
                f"{'missing' if state.size is None else 'empty'}): discard it with "
                f"'nordic-station recover --discard {state.id}'"
            )
        try:
            blob, capture = _read_stable(state.path, state.rate_hz)
        except CaptureError as exc:
            if not recovered:  # a live test: most likely the recording is still open
                raise StoreError(
                    f"test {state.id}: {exc} (close the recording before finishing the test)"
                ) from None
            raise StoreError(
                f"test {state.id}: {exc}; discard it with 'nordic-station recover --discard "
                f"{state.id}'"
            ) from None
        stored_cert = (
            None
            if state.certificate_id is None
            else self.get_certificate(state.certificate_id).data
        )
        chosen = processing.certificate_for(capture, stored_cert, f"test {state.id}")
        when = _started(capture) or state.started_at
        analysed = self._analyse(state.athlete_id, capture, chosen, when, settings)
        warnings = list(analysed.warnings)
        if recovered:
            warnings.insert(
                0,
                "recovered after the station stopped during the test: the recording may end early",
            )
        text = state.notes if notes is None else "\n".join(t for t in (state.notes, notes) if t)
        new = NewTest(
            athlete_id=state.athlete_id,
            recorded_at=when,
            protocol=state.protocol,
            recording=blob,
            recording_kind=capture.kind,
            source="recovered" if recovered else "live",
            recovered=recovered,
            result=processing.new_result(analysed.result, "recovered" if recovered else "live"),
            reps=processing.new_reps(analysed.metrics, {}),
            rig_serial=analysed.rig_serial or state.rig_serial,
            operator=state.operator,
            notes=text,
            sample_rate_hz=analysed.sample_rate_hz,
            duration_s=analysed.duration_s,
            body_mass_kg=analysed.result.body_mass_kg,
            lever_arm_m=analysed.result.lever_arm_m,
            certificate=chosen.to_dict(),
            pending_id=state.id,
            warnings=warnings,
        )
        test_id = self.backend.save_test(new, who)
        # Committed: the bytes are in the database, so the in-progress file can go.
        state.path.unlink(missing_ok=True)
        self._drop_lock(state)
        return self.get_test(test_id)

    def _drop_lock(self, state: PendingTest) -> None:
        lock = self._locks.pop(state.id, None)
        lock_path = state.path.with_name(state.path.name + LOCK_SUFFIX)
        if lock is not None:
            lock.release(remove=True)
        else:
            probe = FileLock(lock_path)
            if probe.acquire():
                probe.release(remove=True)

    def abort_test(self, pending: PendingTest | int, *, by: str | None = None) -> Path | None:
        """Cancel a test in progress: its partial recording is moved to discarded/."""
        state = self.get_pending(pending.id if isinstance(pending, PendingTest) else pending)
        if state.id not in self._locks and state.live:
            raise StoreError(f"test {state.id} is being recorded by another process")
        return self._discard(state, "abort", by)

    def discard_pending(self, pending_id: int, *, by: str | None = None) -> Path | None:
        """Give up an unfinished test; its partial recording is moved aside, not deleted."""
        state = self.get_pending(pending_id)
        if state.live:
            raise StoreError(
                f"test {state.id} is still being recorded (process {state.pid} on {state.host})"
            )
        return self._discard(state, "discard", by)

    def _discard(self, state: PendingTest, action: str, by: str | None) -> Path | None:
        moved: Path | None = None
        if state.path.exists():
            target_dir = paths.discarded_dir(self.folder)
            target_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            moved = target_dir / state.path.name
            os.replace(state.path, moved)
        self.backend.delete_pending(
            state.id,
            self._who(by),
            action,
            {
                "athlete_id": state.athlete_id,
                "started_at": state.started_at,
                "size": state.size,
                "moved_to": None if moved is None else str(moved),
            },
        )
        self._drop_lock(state)
        return moved

    def orphan_files(self) -> list[OrphanFile]:
        """Recordings in in-progress/ that no unfinished test claims.

        One whose bytes are already stored is what a crash between commit and
        clean-up leaves; any other is kept for the user to import by hand.
        """
        folder = self.in_progress
        if not folder.is_dir():
            return []
        claimed = {p.path.name for p in self.backend.list_pending(folder)}
        out = []
        for path in sorted(folder.iterdir()):
            if path.name.endswith(LOCK_SUFFIX) or path.name in claimed or not path.is_file():
                continue
            data = path.read_bytes()
            committed = bool(data) and self.backend.recording_exists(
                hashlib.sha256(data).hexdigest()
            )
            out.append(OrphanFile(path, len(data), committed))
        return out

    def clean_in_progress(self) -> list[Path]:
        """Remove in-progress files whose bytes are safely stored, and stale locks."""
        removed = []
        for orphan in self.orphan_files():
            if orphan.committed:
                orphan.path.unlink(missing_ok=True)
                removed.append(orphan.path)
        folder = self.in_progress
        if folder.is_dir():
            claimed = {p.path.name + LOCK_SUFFIX for p in self.backend.list_pending(folder)}
            for path in folder.glob("*" + LOCK_SUFFIX):
                if path.name not in claimed and not is_locked(path):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed

    # -- tests: reading ---------------------------------------------------------------
    def get_test(self, test_id: int) -> TestRecord:
        test = self.backend.get_test(_test_number(test_id))
        if test is None:
            raise NotFoundError(f"no test {test_id}: see 'nordic-station test list ATHLETE'")
        return test

    def list_tests(
        self, athlete: Athlete | int | str, limit: int | None = None
    ) -> list[TestSummary]:
        return self.backend.list_tests(self.resolve_athlete(athlete).id, limit)

    def reps(self, test_id: int) -> list[Rep]:
        return self.backend.reps(self.get_test(test_id).id)

    def results(self, test_id: int) -> list[Result]:
        """Every analysis run of the test, oldest first (one is current)."""
        return self.backend.results(self.get_test(test_id).id)

    def curves(
        self, test_id: int, result_id: int | None = None, *, raw: bool = True
    ) -> Curves | None:
        """The curves of the current run (or of ``result_id``).

        ``raw`` adds the unfiltered forces, rebuilt from the raw recording (a
        decode of the kept bytes: leave it off when only the filtered forces
        are plotted).
        """
        test = self.get_test(test_id)
        if result_id is None:
            run = test.result
        else:
            run = self.backend.get_result(int(result_id))
            if run is None or run.test_id != test.id:
                raise NotFoundError(f"test {test.id} has no analysis run {result_id}")
        if run is None:
            return None
        stored = self.backend.curves(run.id)
        if stored is None or not raw or "sample" not in stored:
            return stored
        owner = (
            run
            if run.curves_result_id in (None, run.id)
            else self.backend.get_result(run.curves_result_id)
        )
        return processing.with_raw_forces(
            stored, self._stored_capture(test), (owner or run).metrics
        )

    def _stored_capture(self, test: TestRecord) -> Capture:
        blob = self.backend.recording(test.id)[0]
        try:
            return load_capture_bytes(blob, f"test-{test.id}", test.sample_rate_hz)
        except CaptureError as exc:
            raise StoreError(f"test {test.id}: its recording cannot be decoded: {exc}") from None

    def recording(self, test_id: int) -> bytes:
        """The raw recording exactly as captured (checked against its hash)."""
        return self.backend.recording(self.get_test(test_id).id)[0]

    def certificate_of(self, test: TestRecord) -> Certificate | None:
        if test.certificate_id is None:
            return None
        return parse_certificate(
            self.get_certificate(test.certificate_id).data, f"certificate {test.certificate_id}"
        )

    def update_test(
        self,
        test_id: int,
        *,
        by: str | None = None,
        notes: str | None = None,
        operator: str | None = None,
        recorded_at: str | datetime | None = None,
        athlete: Athlete | int | str | None = None,
    ) -> TestRecord:
        """Correct a test's description (who, when, notes, whose); audited."""
        test = self.get_test(test_id)
        changes: dict[str, Any] = {}
        if notes is not None:
            changes["notes"] = validate.notes(notes)
        if operator is not None:
            changes["operator"] = validate.text_field(operator, "operator")
        if recorded_at is not None:
            changes["recorded_at"] = validate.parse_instant(recorded_at, "recorded at")
        if athlete is not None:
            changes["athlete_id"] = self.resolve_athlete(athlete).id
        if not changes:
            raise ValidationError("nothing to change: give at least one field")
        self.backend.update_test(test.id, changes, self._who(by))
        return self.get_test(test.id)

    def audit_log(
        self, entity: str | None = None, entity_id: int | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        return self.backend.audit_log(entity, entity_id, limit)

    # -- reps and recomputing -----------------------------------------------------------
    def exclude_rep(self, test_id: int, rep: int, reason: str, *, by: str | None = None) -> Result:
        """Leave a rep out of the summaries (a poor attempt); who and why are kept."""
        reason_text = validate.text_field(reason, "reason", required=True, limit=500)
        who = self._who(by)
        return self._set_exclusion(test_id, rep, (reason_text, who), who)  # type: ignore[arg-type]

    def include_rep(self, test_id: int, rep: int, *, by: str | None = None) -> Result:
        """Undo an exclusion."""
        who = self._who(by)
        return self._set_exclusion(test_id, rep, None, who)

    def _set_exclusion(
        self, test_id: int, number: int, exclusion: tuple[str, str] | None, who: str
    ) -> Result:
        test = self.get_test(test_id)
        if test.result is None:
            raise StoreError(
                f"test {test.id} has no analysis: run 'nordic-station recompute {test.id}'"
            )
        reps = self.backend.reps(test.id)
        number = _rep_number(number)
        target = next((r for r in reps if r.number == number), None)
        if target is None:
            known = ", ".join(str(r.number) for r in reps) or "none"
            raise NotFoundError(f"test {test.id} has no rep {number} (reps: {known})")
        if exclusion is not None and target.excluded:
            raise StoreError(
                f"rep {number} of test {test.id} is already excluded ({target.exclusion_reason!r}, "
                f"by {target.excluded_by}); include it first to change the reason"
            )
        if exclusion is None and not target.excluded:
            raise StoreError(f"rep {number} of test {test.id} is not excluded")
        at = validate.now_utc()
        marked = [
            replace(
                r,
                excluded=exclusion is not None,
                exclusion_reason=exclusion[0] if exclusion else None,
                excluded_by=who if exclusion else None,
                excluded_at=at if exclusion else None,
            )
            if r.number == number
            else r
            for r in reps
        ]
        current = test.result
        analysed, carried, unmatched = self._reanalyse(test, marked, current.settings)
        new = processing.new_result(analysed.result, "exclusion", with_curves=False)
        same_rules = (
            new.analysis_version == current.analysis_version and new.settings == current.settings
        )
        same_reps = [(r.number, r.start_s, r.end_s) for r in reps] == [
            (r.number, r.start_s, r.end_s) for r in processing.new_reps(new.metrics, {})
        ]
        if same_rules and same_reps and current.curves_result_id is not None:
            new.curves_result_id = current.curves_result_id
        else:
            new = processing.new_result(analysed.result, "exclusion")
        before = {"rep": number, "excluded": target.excluded, "reason": target.exclusion_reason}
        after = {
            "rep": number,
            "excluded": exclusion is not None,
            "reason": exclusion[0] if exclusion else None,
        }
        audit = [AuditRecord("rep", test.id, "exclude" if exclusion else "include", before, after)]
        audit += [
            AuditRecord(
                "rep",
                test.id,
                "exclusion_unmatched",
                {"rep": r.number, "reason": r.exclusion_reason},
                None,
            )
            for r in unmatched
        ]
        result_id = self.backend.add_result(
            test.id, new, processing.new_reps(new.metrics, carried), current.id, who, audit
        )
        result = self.backend.get_result(result_id)
        assert result is not None
        return result

    def _reanalyse(
        self,
        test: TestRecord,
        reps: list[Rep],
        settings: AnalysisSettings | Mapping[str, Any] | None,
    ) -> tuple[processing.Analysed, dict[int, processing.Exclusion], list[Rep]]:
        """Analyse a stored test again from its raw bytes, carrying exclusions over."""
        capture = self._stored_capture(test)
        certificate = self.certificate_of(test)
        if certificate is None:
            certificate = processing.certificate_for(capture, None, f"test {test.id}")
        analysed = processing.run_analysis(
            capture,
            certificate,
            settings=settings,
            body_mass_kg=test.body_mass_kg,
            lever_arm_m=test.lever_arm_m,
        )
        carried, unmatched = processing.carry_exclusions(reps, analysed.metrics.get("reps") or [])
        if carried:
            analysed.result = analysed.result.with_exclusions(
                {n: e.reason for n, e in carried.items()}
            )
        return analysed, carried, unmatched

    def recompute(
        self,
        test_id: int,
        *,
        settings: AnalysisSettings | Mapping[str, Any] | None = None,
        keep_settings: bool = False,
        dry_run: bool = False,
        by: str | None = None,
    ) -> Recomputation:
        """Analyse a stored test again with this version's analysis; keep old and new.

        Settings: ``settings`` if given, else the test's own with
        ``keep_settings``, else today's defaults.  A new run is stored (and made
        current) only when something differs; the old run stays in the history.
        """
        who = self._who(by)
        test = self.get_test(test_id)
        old = test.result
        if settings is None and keep_settings and old is not None:
            settings = old.settings
        reps = self.backend.reps(test.id)
        analysed, carried, unmatched = self._reanalyse(test, reps, settings)
        new = processing.new_result(analysed.result, "recompute")
        notes = [
            f"exclusion of rep {r.number} ({r.exclusion_reason!r}) matches no rep of the new "
            f"analysis"
            for r in unmatched
        ]
        changed = (
            old is None
            or old.analysis_version != new.analysis_version
            or canonical_json(old.metrics) != canonical_json(new.metrics)
        )
        if dry_run or not changed:
            return Recomputation(
                test.id, old, new.metrics, new.analysis_version, changed, False, None, tuple(notes)
            )
        audit = [
            AuditRecord(
                "rep",
                test.id,
                "exclusion_unmatched",
                {"rep": r.number, "reason": r.exclusion_reason},
                None,
            )
            for r in unmatched
        ]
        result_id = self.backend.add_result(
            test.id,
            new,
            processing.new_reps(new.metrics, carried),
            None if old is None else old.id,
            who,
            audit,
        )
        return Recomputation(
            test.id,
            old,
            new.metrics,
            new.analysis_version,
            True,
            True,
            self.backend.get_result(result_id),
            tuple(notes),
        )

    def test_ids(self) -> list[int]:
        """Every test's id, oldest first (for ``recompute --all``)."""
        return self.backend.test_ids()

    # -- export support -----------------------------------------------------------------
    def summary_rows(
        self,
        *,
        athlete: Athlete | int | str | None = None,
        team: str | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Rows for the summary export; ``since``/``until`` are local dates, both inclusive."""
        athlete_id = None if athlete is None else self.resolve_athlete(athlete).id
        first = None if since is None else _day(since, "--since")
        last = None if until is None else _day(until, "--until")
        if first is not None and last is not None and first > last:
            raise ValidationError(f"--since {first} is after --until {last}: swap them")
        start = None if first is None else validate.parse_instant(first.isoformat())
        end = (
            None if last is None else validate.parse_instant((last + timedelta(days=1)).isoformat())
        )
        return self.backend.summary_rows(athlete_id, validate.text_field(team, "team"), start, end)

    def pseudonym(self, athlete_id: int) -> str:
        """A stable pseudonymous id: HMAC of the athlete id with this database's secret.

        The same athlete gets the same pseudonym in every export from this
        database, and nobody without the database can map it back.
        """
        secret = self._secret()
        mac = hmac.new(secret, f"athlete:{int(athlete_id)}".encode(), hashlib.sha256).hexdigest()
        return "P-" + mac[:12]

    def _secret(self) -> bytes:
        if not hasattr(self, "_secret_cache"):
            self._secret_cache = self.backend.pseudonym_secret()
        return self._secret_cache


def _as_certificate(value: Certificate | Mapping[str, Any] | str | os.PathLike[str]) -> Certificate:
    if isinstance(value, Certificate):
        return value
    if isinstance(value, Mapping):
        return parse_certificate(dict(value))
    return load_certificate(value)


def _started(capture: Capture) -> str | None:
    started = (capture.header or {}).get("started_utc")
    if not started:
        return None
    try:
        return validate.parse_instant(str(started))
    except InputError:
        return None


def _read_stable(path: Path, rate_hz: float | None) -> tuple[bytes, Capture]:
    """Read a capture's bytes and decode it, refusing a file that changed meanwhile."""
    try:
        before = path.stat()
    except FileNotFoundError:
        raise CaptureError(f"{path}: no such file") from None
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    capture = load_capture(path, rate_hz)
    try:
        blob = path.read_bytes()
        after = path.stat()
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        blob
    ) != after.st_size:
        raise CaptureError(
            f"{path} changed while it was being imported: try again once it is complete"
        )
    return blob, capture


def _test_number(value: int | str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"{value!r} is not a test id (a whole number)") from None
    if number < 1:
        raise ValidationError(f"{value!r} is not a test id (a whole number from 1)")
    return number


def _rep_number(value: int | str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"{value!r} is not a rep number") from None
    if number < 1:
        raise ValidationError(f"rep numbers start at 1, not {number}")
    return number


def _day(value: str | date, option: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None


__all__ = ["ConflictError", "Store", "default_actor", "open_store"]
