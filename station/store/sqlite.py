"""The SQLite backend: every SQL statement the station runs outside migrations.

One file, WAL journal (readers never block the writer; a crash leaves the last
committed transaction intact), ``synchronous=FULL`` (a commit is on disk before
it returns), foreign keys on, every statement parameterised.  Each public
method is one transaction, so a failure leaves nothing half-written.  The file
is checked before anything is written to it: a file of another program, a
damaged file or one from a newer version is refused and left untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from station.store import codec, schema
from station.store.errors import (
    ConflictError,
    DatabaseFileError,
    DuplicateError,
    NotFoundError,
    StoreError,
)
from station.store.models import (
    Athlete,
    AuditEntry,
    BodyMass,
    CertificateRecord,
    Curves,
    Injury,
    NewRep,
    NewResult,
    NewTest,
    PendingTest,
    Rep,
    Result,
    TestRecord,
    TestSummary,
    Verification,
)
from station.store.validate import now_utc

SQLITE_HEADER = b"SQLite format 3\x00"
MIN_SQLITE = (3, 35, 0)  # ALTER TABLE DROP COLUMN, used by migration 2
BUSY_TIMEOUT_MS = 10_000
# Checkpoints (copying the write-ahead log into the database file) run on a
# background thread once the log passes this size, so a commit only pays for
# its own fsync: a 10-minute 1 kHz test writes ~15 MB, and folding that in on
# the committing thread would double the time a save takes.
CHECKPOINT_AFTER_BYTES = 4 << 20


@dataclass(frozen=True)
class AuditRecord:
    """An audit entry to write in the same transaction as the change it describes."""

    entity: str
    entity_id: int
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Prepared:
    result: NewResult
    settings: str
    metrics: str
    summary: str
    excluded: str
    curves: list[codec.Encoded] | None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_meanwhile(data: bytes) -> Callable[[], str]:
    """Hash a big recording on another core while the curves are encoded
    (hashlib releases the GIL); returns a function that waits for the digest."""
    if len(data) < 1 << 20:
        digest_hex = sha256(data)
        return lambda: digest_hex
    box: list[str] = []
    worker = threading.Thread(target=lambda: box.append(sha256(data)), daemon=True)
    worker.start()

    def result() -> str:
        worker.join()
        return box[0]

    return result


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


DIGEST_STREAM_KEYS = ("dropped_samples", "frames_corrupt", "saturated_samples")


def digest(metrics: dict[str, Any]) -> dict[str, Any]:
    """The small part of an analysis result that lists and exports read
    (parsing 40,000 whole results for a summary export would be slow)."""
    stream = metrics.get("stream") or {}
    return {
        "summary": metrics.get("summary") or {},
        "flags": list(metrics.get("flags") or []),
        "stream": {key: stream[key] for key in DIGEST_STREAM_KEYS if key in stream},
    }


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


ATHLETE_COLUMNS = frozenset(
    {
        "name",
        "external_id",
        "date_of_birth",
        "sex",
        "sport",
        "team",
        "dominant_leg",
        "lever_arm_m",
        "notes",
        "archived",
    }
)
TEST_COLUMNS = frozenset(
    {"athlete_id", "recorded_at", "operator", "notes", "body_mass_kg", "lever_arm_m", "rig_serial"}
)


def _only(changes: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    """Column names are interpolated into SQL, so only known ones get through."""
    unknown = set(changes) - allowed
    if unknown or not changes:
        raise StoreError(
            f"cannot change {what} field(s): {', '.join(sorted(unknown)) or 'none given'}"
        )


def _create_owner_only(path: Path) -> None:
    """Create an empty file readable by its owner only; never truncates an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


class _Checkpointer:
    """Checkpoints the WAL from its own thread and connection when it has grown.

    A checkpoint is crash-safe at any point (SQLite's design), so a process
    that exits mid-way loses nothing; the next open finishes the job.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wal = path.with_name(path.name + "-wal")
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        try:
            size = self.wal.stat().st_size
        except OSError:
            return
        if size < CHECKPOINT_AFTER_BYTES:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="store-checkpoint", daemon=True)
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        conn = sqlite3.connect(
            self.path.absolute().as_uri() + "?mode=rw", uri=True, isolation_level=None
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                with contextlib.suppress(sqlite3.Error):  # retried after the next commit
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()


class SqliteStore:
    """Persistence for athletes, tests, analysis runs, certificates and the audit log.

    Thread-safe: one connection guarded by a lock, so the app may call it from
    its acquisition worker and its GUI thread.  Validation of user input and
    the analysis itself happen in :class:`station.store.Store`; this class
    trusts its arguments but the schema's CHECK constraints and triggers still
    guard the data.
    """

    def __init__(self, path: str | os.PathLike[str], backups: str | os.PathLike[str] | None = None):
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise DatabaseFileError(
                f"SQLite {sqlite3.sqlite_version} is too old: Nordic Station needs 3.35 or newer"
            )
        self.path = Path(path)
        self.backups = Path(backups) if backups else self.path.parent / "backups"
        self._lock = threading.RLock()
        self._conn = self._connect()
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None
        try:
            self._prepare()
        except BaseException:
            self._conn.close()
            raise

    # -- opening --------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        path = self.path
        if path.exists():
            if not path.is_file():
                raise DatabaseFileError(f"{path} is not a file: pass another --data-dir")
            with open(path, "rb") as handle:
                head = handle.read(len(SQLITE_HEADER))
            if head and head != SQLITE_HEADER[: len(head)]:
                raise DatabaseFileError(
                    f"{path} is not a Nordic Station database (not an SQLite file); "
                    "it was left untouched: move it away or pass another --data-dir"
                )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # FileExistsError: another process created it first, so open theirs.
            with contextlib.suppress(FileExistsError):
                _create_owner_only(path)
        uri = path.absolute().as_uri() + "?mode=rw"
        try:
            conn = sqlite3.connect(
                uri,
                uri=True,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        except sqlite3.Error as exc:
            raise DatabaseFileError(f"cannot open database {path}: {exc}") from None
        return conn

    def _prepare(self) -> None:
        conn = self._conn
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
        except sqlite3.DatabaseError as exc:
            raise DatabaseFileError(
                f"{self.path} is not a usable database ({exc}); it was left untouched: "
                "restore it from a backup or pass another --data-dir"
            ) from None
        fresh = app_id == 0 and version == 0 and not tables
        if not fresh and app_id != schema.APPLICATION_ID:
            shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
            raise DatabaseFileError(
                f"{self.path} is an SQLite database of another program (tables: "
                f"{shown or 'none'}); "
                "it was left untouched: pass another --data-dir"
            )
        if version > schema.CURRENT_VERSION:
            raise DatabaseFileError(
                f"{self.path} was written by a newer Nordic Station (schema {version}, this "
                f"version knows up to {schema.CURRENT_VERSION}): install the newer version"
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise DatabaseFileError(
                f"cannot use write-ahead logging on {self.path} (got {mode!r}): "
                "keep the data folder on a local disk"
            )
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # see CHECKPOINT_AFTER_BYTES
        if version < schema.CURRENT_VERSION:
            self._migrate()
        self._checkpointer = _Checkpointer(self.path)
        # OSError: a file we may use but do not own; its mode is its owner's choice.
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)

    def _migrate(self) -> None:
        conn = self._conn
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version < schema.CURRENT_VERSION:
                    if version > 0:
                        self.backup_path = self._backup(version)
                    schema.apply(conn, version)
                    problems = conn.execute("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise DatabaseFileError(
                            f"upgrading {self.path} from schema {version} would break "
                            f"{len(problems)} references; nothing was changed"
                        )
                    self.migrated_from = version if version > 0 else None
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _backup(self, version: int) -> Path:
        """Copy the database before upgrading it (kept in backups/, owner-only).

        Called while this connection holds the write lock, so the copy is read
        through a second connection: in WAL mode a reader sees the last
        committed state, i.e. the database exactly as the old version left it.
        """
        self.backups.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = now_utc().replace(":", "").replace("-", "").replace(".", "")
        target = self.backups / f"{self.path.stem}-schema{version}-{stamp}.sqlite3"
        _create_owner_only(target)
        source = sqlite3.connect(self.path.absolute().as_uri() + "?mode=ro", uri=True)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        return target

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            self._checkpointer.stop()
            with contextlib.suppress(sqlite3.Error):  # the next open checkpoints instead
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._conn.close()
            self._conn = None  # type: ignore[assignment]

    def checkpoint(self) -> None:
        """Fold the whole write-ahead log into the database file now (waits for it)."""
        with self._lock, self._errors():
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def integrity_check(self) -> list[str]:
        """SQLite's full check of the file; an empty list means no problem found."""
        with self._lock, self._errors():
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
            keys = self._conn.execute("PRAGMA foreign_key_check").fetchall()
        problems = [row[0] for row in rows if row[0] != "ok"]
        problems += [f"broken reference: {row}" for row in keys]
        return problems

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._conn.execute("PRAGMA user_version").fetchone()[0]

    # -- transactions ---------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            text = str(exc)
            if "athletes.external_id" in text:
                raise DuplicateError(
                    "that external id is already used by another athlete"
                ) from None
            raise StoreError(f"refused by the database: {text}") from None
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    "the database is busy (another Nordic Station is writing): try again"
                ) from None
            raise
        except sqlite3.DatabaseError as exc:
            if type(exc) is sqlite3.DatabaseError:
                raise DatabaseFileError(
                    f"database {self.path} is damaged ({exc}): restore it from a backup"
                ) from None
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        self._checkpointer.poke()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for reads made of several statements."""
        with self._lock, self._errors():
            conn = self._conn
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    @staticmethod
    def _audit(conn: sqlite3.Connection, actor: str, at: str, record: AuditRecord) -> None:
        conn.execute(
            "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                at,
                actor,
                record.entity,
                record.entity_id,
                record.action,
                _json(record.before),
                _json(record.after),
            ),
        )

    # -- meta -----------------------------------------------------------------------
    def pseudonym_secret(self) -> bytes:
        with self._lock, self._errors():
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'pseudonym_secret'"
            ).fetchone()
        if row is None:
            raise DatabaseFileError(
                f"{self.path} has no pseudonym secret: restore it from a backup"
            )
        return bytes(row[0])

    # -- athletes -------------------------------------------------------------------
    _ATHLETE = (
        "SELECT a.id, a.name, a.external_id, a.date_of_birth, a.sex, a.sport, a.team, "
        "a.dominant_leg, a.lever_arm_m, a.notes, a.archived, a.created_at, a.updated_at, "
        "(SELECT kg FROM body_mass b WHERE b.athlete_id = a.id "
        " ORDER BY b.measured_on DESC, b.id DESC LIMIT 1) "
        "FROM athletes a "
    )

    @staticmethod
    def _athlete(row: Sequence[Any]) -> Athlete:
        return Athlete(
            id=row[0],
            name=row[1],
            external_id=row[2],
            date_of_birth=_date(row[3]),
            sex=row[4],
            sport=row[5],
            team=row[6],
            dominant_leg=row[7],
            lever_arm_m=row[8],
            notes=row[9],
            archived=bool(row[10]),
            created_at=row[11],
            updated_at=row[12],
            body_mass_kg=row[13],
        )

    @staticmethod
    def _athlete_columns(values: dict[str, Any]) -> dict[str, Any]:
        out = dict(values)
        if "date_of_birth" in out and out["date_of_birth"] is not None:
            out["date_of_birth"] = out["date_of_birth"].isoformat()
        return out

    def insert_athlete(
        self,
        values: dict[str, Any],
        name_key: str,
        body_mass: BodyMass | None,
        actor: str,
    ) -> int:
        """A new athlete (and its first body mass) in one transaction; returns its id."""
        _only(values, ATHLETE_COLUMNS, "athlete")
        at = now_utc()
        columns = self._athlete_columns(values)
        columns.update(name_key=name_key, created_at=at, updated_at=at)
        names = list(columns)
        with self._write() as conn:
            cursor = conn.execute(
                f"INSERT INTO athletes ({', '.join(names)}) "
                f"VALUES ({', '.join('?' for _ in names)})",
                [columns[name] for name in names],
            )
            athlete_id = int(cursor.lastrowid)
            after = {k: v for k, v in columns.items() if k not in ("name_key",)}
            if body_mass is not None:
                self._insert_body_mass(conn, athlete_id, body_mass, actor, at)
                after["body_mass"] = body_mass.to_dict()
            self._audit(conn, actor, at, AuditRecord("athlete", athlete_id, "create", None, after))
        return athlete_id

    def get_athlete(self, athlete_id: int) -> Athlete | None:
        with self._lock, self._errors():
            row = self._conn.execute(self._ATHLETE + "WHERE a.id = ?", (athlete_id,)).fetchone()
        return None if row is None else self._athlete(row)

    def athletes_by_external_id(self, external_id: str) -> list[Athlete]:
        with self._lock, self._errors():
            rows = self._conn.execute(
                self._ATHLETE + "WHERE a.external_id = ?", (external_id,)
            ).fetchall()
        return [self._athlete(row) for row in rows]

    def list_athletes(
        self,
        search_key: str | None = None,
        team: str | None = None,
        include_archived: bool = False,
        archived_only: bool = False,
        limit: int | None = None,
    ) -> list[Athlete]:
        """Athletes by name; ``search_key`` (already folded) matches name or external id."""
        where: list[str] = []
        params: list[Any] = []
        if search_key:
            pattern = (
                "%" + search_key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            where.append(
                "(a.name_key LIKE ? ESCAPE '\\' OR lower(a.external_id) LIKE ? ESCAPE '\\')"
            )
            params += [pattern, pattern]
        if team is not None:
            where.append("a.team = ? COLLATE NOCASE")
            params.append(team)
        if archived_only:
            where.append("a.archived = 1")
        elif not include_archived:
            where.append("a.archived = 0")
        sql = self._ATHLETE + ("WHERE " + " AND ".join(where) + " " if where else "")
        sql += "ORDER BY a.name_key, a.id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock, self._errors():
            rows = self._conn.execute(sql, params).fetchall()
        return [self._athlete(row) for row in rows]

    def update_athlete(
        self,
        athlete_id: int,
        changes: dict[str, Any],
        name_key: str | None,
        actor: str,
        action: str = "update",
        body_mass: BodyMass | None = None,
    ) -> bool:
        """Apply validated changes (and a new body mass) at once; False when nothing changed."""
        if changes:
            _only(changes, ATHLETE_COLUMNS, "athlete")
        at = now_utc()
        columns = self._athlete_columns(changes)
        with self._write() as conn:
            self._require(conn, "athletes", athlete_id, "athlete")
            if body_mass is not None:
                self._insert_body_mass(conn, athlete_id, body_mass, actor, at)
                conn.execute("UPDATE athletes SET updated_at = ? WHERE id = ?", (at, athlete_id))
                self._audit(
                    conn,
                    actor,
                    at,
                    AuditRecord("athlete", athlete_id, "body_mass", None, body_mass.to_dict()),
                )
            if not columns:
                return body_mass is not None
            before_row = conn.execute(
                f"SELECT {', '.join(columns)} FROM athletes WHERE id = ?",
                (athlete_id,),
            ).fetchone()
            before = dict(zip(columns, before_row, strict=True))
            changed = {k: v for k, v in columns.items() if before[k] != v}
            if not changed:
                return body_mass is not None
            sets = dict(changed)
            if name_key is not None and "name" in changed:
                sets["name_key"] = name_key
            sets["updated_at"] = at
            conn.execute(
                f"UPDATE athletes SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                [*sets.values(), athlete_id],
            )
            self._audit(
                conn,
                actor,
                at,
                AuditRecord(
                    "athlete",
                    athlete_id,
                    action,
                    {k: before[k] for k in changed},
                    changed,
                ),
            )
        return True

    @staticmethod
    def _insert_body_mass(
        conn: sqlite3.Connection, athlete_id: int, entry: BodyMass, actor: str, at: str
    ) -> None:
        conn.execute(
            "INSERT INTO body_mass (athlete_id, measured_on, kg, recorded_at, recorded_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (athlete_id, entry.measured_on.isoformat(), entry.kg, at, actor),
        )

    def body_mass_history(self, athlete_id: int) -> list[BodyMass]:
        with self._lock, self._errors():
            rows = self._conn.execute(
                "SELECT measured_on, kg FROM body_mass WHERE athlete_id = ? "
                "ORDER BY measured_on, id",
                (athlete_id,),
            ).fetchall()
        return [BodyMass(date.fromisoformat(day), kg) for day, kg in rows]

    def add_injury(
        self, athlete_id: int, side: str, occurred_on: date | None, note: str, actor: str
    ) -> int:
        at = now_utc()
        with self._write() as conn:
            self._require(conn, "athletes", athlete_id, "athlete")
            cursor = conn.execute(
                "INSERT INTO injuries (athlete_id, side, occurred_on, note, recorded_at, "
                "recorded_by) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    athlete_id,
                    side,
                    occurred_on.isoformat() if occurred_on else None,
                    note,
                    at,
                    actor,
                ),
            )
            injury_id = int(cursor.lastrowid)
            conn.execute("UPDATE athletes SET updated_at = ? WHERE id = ?", (at, athlete_id))
            self._audit(
                conn,
                actor,
                at,
                AuditRecord(
                    "athlete",
                    athlete_id,
                    "injury",
                    None,
                    {
                        "injury_id": injury_id,
                        "side": side,
                        "occurred_on": occurred_on.isoformat() if occurred_on else None,
                        "note": note,
                    },
                ),
            )
        return injury_id

    def injuries(self, athlete_id: int) -> list[Injury]:
        with self._lock, self._errors():
            rows = self._conn.execute(
                "SELECT id, side, occurred_on, note FROM injuries WHERE athlete_id = ? "
                "ORDER BY occurred_on, id",
                (athlete_id,),
            ).fetchall()
        return [Injury(i, side, _date(day), note) for i, side, day, note in rows]

    @staticmethod
    def _require(conn: sqlite3.Connection, table: str, row_id: int, what: str) -> None:
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone() is None:
            raise NotFoundError(f"no {what} {row_id}")

    # -- certificates ---------------------------------------------------------------
    @staticmethod
    def _certificate_id(conn: sqlite3.Connection, data: dict[str, Any], actor: str, at: str) -> int:
        digest_hex = sha256(canonical_json(data).encode("utf-8"))
        row = conn.execute("SELECT id FROM certificates WHERE sha256 = ?", (digest_hex,)).fetchone()
        if row is not None:
            return int(row[0])
        cursor = conn.execute(
            "INSERT INTO certificates (sha256, device_serial, created, valid_until, data, "
            "imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                digest_hex,
                None if data.get("device_serial") is None else str(data.get("device_serial")),
                None if data.get("created") is None else str(data.get("created")),
                None if data.get("valid_until") is None else str(data.get("valid_until")),
                json.dumps(data, ensure_ascii=False),
                at,
            ),
        )
        certificate_id = int(cursor.lastrowid)
        SqliteStore._audit(
            conn,
            actor,
            at,
            AuditRecord(
                "certificate",
                certificate_id,
                "create",
                None,
                {"sha256": digest_hex, "device_serial": data.get("device_serial")},
            ),
        )
        return certificate_id

    def add_certificate(self, data: dict[str, Any], actor: str) -> int:
        """Store a certificate whole (the same certificate twice is stored once)."""
        with self._write() as conn:
            return self._certificate_id(conn, data, actor, now_utc())

    _CERTIFICATE = (
        "SELECT id, sha256, device_serial, created, valid_until, data, imported_at "
        "FROM certificates "
    )

    @staticmethod
    def _certificate(row: Sequence[Any]) -> CertificateRecord:
        return CertificateRecord(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6])

    def get_certificate(self, certificate_id: int) -> CertificateRecord | None:
        with self._lock, self._errors():
            row = self._conn.execute(
                self._CERTIFICATE + "WHERE id = ?", (certificate_id,)
            ).fetchone()
        return None if row is None else self._certificate(row)

    def list_certificates(self, device_serial: str | None = None) -> list[CertificateRecord]:
        sql = self._CERTIFICATE
        params: tuple[Any, ...] = ()
        if device_serial is not None:
            sql += "WHERE device_serial = ? "
            params = (device_serial,)
        with self._lock, self._errors():
            rows = self._conn.execute(sql + "ORDER BY imported_at, id", params).fetchall()
        return [self._certificate(row) for row in rows]

    def add_verification(
        self,
        certificate_id: int | None,
        device_serial: str | None,
        performed_at: str,
        operator: str | None,
        passed: bool | None,
        data: dict[str, Any],
        actor: str,
    ) -> int:
        at = now_utc()
        with self._write() as conn:
            if certificate_id is not None:
                self._require(conn, "certificates", certificate_id, "certificate")
            cursor = conn.execute(
                "INSERT INTO verifications (certificate_id, device_serial, performed_at, operator, "
                "passed, data) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    certificate_id,
                    device_serial,
                    performed_at,
                    operator,
                    None if passed is None else int(passed),
                    json.dumps(data, ensure_ascii=False),
                ),
            )
            verification_id = int(cursor.lastrowid)
            self._audit(
                conn,
                actor,
                at,
                AuditRecord(
                    "verification",
                    verification_id,
                    "create",
                    None,
                    {"certificate_id": certificate_id, "passed": passed, "data": data},
                ),
            )
        return verification_id

    def verifications(self, certificate_id: int | None = None) -> list[Verification]:
        sql = (
            "SELECT id, certificate_id, device_serial, performed_at, operator, passed, data "
            "FROM verifications "
        )
        params: tuple[Any, ...] = ()
        if certificate_id is not None:
            sql += "WHERE certificate_id = ? "
            params = (certificate_id,)
        with self._lock, self._errors():
            rows = self._conn.execute(sql + "ORDER BY performed_at, id", params).fetchall()
        return [
            Verification(
                r[0], r[1], r[2], r[3], r[4], None if r[5] is None else bool(r[5]), json.loads(r[6])
            )
            for r in rows
        ]

    # -- tests ----------------------------------------------------------------------
    def _recording_id(
        self, conn: sqlite3.Connection, data: bytes, kind: str | None, at: str, digest_hex: str
    ) -> int:
        """Content-addressed: the same bytes imported twice are stored once."""
        row = conn.execute("SELECT id FROM recordings WHERE sha256 = ?", (digest_hex,)).fetchone()
        if row is not None:
            return int(row[0])
        cursor = conn.execute(
            "INSERT INTO recordings (sha256, size, kind, stored_at, data) VALUES (?, ?, ?, ?, ?)",
            (digest_hex, len(data), kind, at, data),
        )
        return int(cursor.lastrowid)

    @staticmethod
    def _prepare_result(result: NewResult, rate_hz: float | None) -> _Prepared:
        """JSON and curve bytes, made before the write lock is taken (the lock is
        held only while bytes go to the database)."""
        curves = (
            None
            if result.curves is None
            else [codec.encode(name, values, rate_hz) for name, values in result.curves.items()]
        )
        return _Prepared(
            result,
            json.dumps(result.settings, ensure_ascii=False, default=str),
            json.dumps(result.metrics, ensure_ascii=False, default=str),
            json.dumps(digest(result.metrics), ensure_ascii=False, default=str),
            json.dumps(sorted(result.excluded)),
            curves,
        )

    @staticmethod
    def _insert_result(
        conn: sqlite3.Connection, test_id: int, prepared: _Prepared, actor: str, at: str
    ) -> int:
        result = prepared.result
        cursor = conn.execute(
            "INSERT INTO results (test_id, created_at, created_by, reason, analysis_version, "
            "settings, metrics, summary, excluded, curves_result_id, is_current) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (
                test_id,
                at,
                actor,
                result.reason,
                result.analysis_version,
                prepared.settings,
                prepared.metrics,
                prepared.summary,
                prepared.excluded,
                result.curves_result_id,
            ),
        )
        result_id = int(cursor.lastrowid)
        if prepared.curves is not None:
            conn.executemany(
                "INSERT INTO curves (result_id, name, codec, length, param, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(result_id, e.name, e.codec, e.length, e.param, e.data) for e in prepared.curves],
            )
        return result_id

    @staticmethod
    def _insert_reps(conn: sqlite3.Connection, test_id: int, reps: Sequence[NewRep]) -> None:
        conn.executemany(
            "INSERT INTO reps (test_id, number, start_s, end_s, left_peak_n, right_peak_n, "
            "imbalance_pct, excluded, exclusion_reason, excluded_by, excluded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    test_id,
                    rep.number,
                    rep.start_s,
                    rep.end_s,
                    rep.left_peak_n,
                    rep.right_peak_n,
                    rep.imbalance_pct,
                    int(rep.excluded),
                    rep.exclusion_reason,
                    rep.excluded_by,
                    rep.excluded_at,
                )
                for rep in reps
            ],
        )

    @staticmethod
    def _test_audit(test: NewTest, certificate_id: int | None, sha: str) -> dict[str, Any]:
        return {
            "athlete_id": test.athlete_id,
            "recorded_at": test.recorded_at,
            "protocol": test.protocol,
            "rig_serial": test.rig_serial,
            "certificate_id": certificate_id,
            "operator": test.operator,
            "notes": test.notes,
            "sample_rate_hz": test.sample_rate_hz,
            "duration_s": test.duration_s,
            "body_mass_kg": test.body_mass_kg,
            "lever_arm_m": test.lever_arm_m,
            "source": test.source,
            "recovered": test.recovered,
            "recording_sha256": sha,
            "recording_size": len(test.recording),
            "warnings": list(test.warnings),
            "analysis_version": test.result.analysis_version,
        }

    def save_test(self, test: NewTest, actor: str) -> int:
        """Commit a whole test (recording, metadata, analysis run, curves, reps) at once.

        With ``pending_id`` the in-progress entry is removed in the same
        transaction, so a test is either pending or committed, never both or neither.
        """
        at = now_utc()
        digest_of = _sha256_meanwhile(test.recording)
        prepared = self._prepare_result(test.result, test.sample_rate_hz)
        digest_hex = digest_of()
        with self._write() as conn:
            self._require(conn, "athletes", test.athlete_id, "athlete")
            if test.pending_id is not None:
                gone = conn.execute("DELETE FROM pending_tests WHERE id = ?", (test.pending_id,))
                if gone.rowcount != 1:
                    raise ConflictError(
                        f"test in progress {test.pending_id} was already saved or discarded"
                    )
            recording_id = self._recording_id(
                conn, test.recording, test.recording_kind, at, digest_hex
            )
            certificate_id = (
                None
                if test.certificate is None
                else self._certificate_id(conn, test.certificate, actor, at)
            )
            cursor = conn.execute(
                "INSERT INTO tests (athlete_id, recorded_at, protocol, rig_serial, certificate_id, "
                "operator, notes, sample_rate_hz, duration_s, body_mass_kg, lever_arm_m, "
                "recording_id, source, created_at, created_by, recovered, warnings) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    test.athlete_id,
                    test.recorded_at,
                    test.protocol,
                    test.rig_serial,
                    certificate_id,
                    test.operator,
                    test.notes,
                    test.sample_rate_hz,
                    test.duration_s,
                    test.body_mass_kg,
                    test.lever_arm_m,
                    recording_id,
                    test.source,
                    at,
                    actor,
                    int(test.recovered),
                    json.dumps(list(test.warnings), ensure_ascii=False),
                ),
            )
            test_id = int(cursor.lastrowid)
            self._insert_result(conn, test_id, prepared, actor, at)
            self._insert_reps(conn, test_id, test.reps)
            self._audit(
                conn,
                actor,
                at,
                AuditRecord(
                    "test",
                    test_id,
                    "recover" if test.recovered else "create",
                    None,
                    self._test_audit(test, certificate_id, digest_hex),
                ),
            )
        return test_id

    _TEST = (
        "SELECT t.id, t.athlete_id, t.recorded_at, t.protocol, t.rig_serial, t.certificate_id, "
        "t.operator, t.notes, t.sample_rate_hz, t.duration_s, t.body_mass_kg, t.lever_arm_m, "
        "t.source, t.recovered, r.sha256, r.size, r.kind, t.created_at, t.warnings "
        "FROM tests t JOIN recordings r ON r.id = t.recording_id "
    )
    _RESULT = (
        "SELECT id, test_id, created_at, created_by, reason, analysis_version, settings, metrics, "
        "excluded, is_current, coalesce(curves_result_id, "
        "  CASE WHEN EXISTS (SELECT 1 FROM curves c WHERE c.result_id = results.id) "
        "  THEN id END) "
        "FROM results "
    )

    @staticmethod
    def _result(row: Sequence[Any]) -> Result:
        return Result(
            id=row[0],
            test_id=row[1],
            created_at=row[2],
            created_by=row[3],
            reason=row[4],
            analysis_version=row[5],
            settings=json.loads(row[6]),
            metrics=json.loads(row[7]),
            excluded=tuple(json.loads(row[8])),
            is_current=bool(row[9]),
            curves_result_id=row[10],
        )

    def get_test(self, test_id: int) -> TestRecord | None:
        with self._read() as conn:
            row = conn.execute(self._TEST + "WHERE t.id = ?", (test_id,)).fetchone()
            if row is None:
                return None
            result = conn.execute(
                self._RESULT + "WHERE test_id = ? AND is_current = 1", (test_id,)
            ).fetchone()
        return TestRecord(
            *row[:13],
            recovered=bool(row[13]),
            recording_sha256=row[14],
            recording_size=row[15],
            recording_kind=row[16],
            created_at=row[17],
            warnings=tuple(json.loads(row[18] or "[]")),
            result=None if result is None else self._result(result),
        )

    def list_tests(self, athlete_id: int, limit: int | None = None) -> list[TestSummary]:
        """An athlete's tests, newest first, with each one's current summary."""
        sql = (
            "SELECT t.id, t.athlete_id, t.recorded_at, t.protocol, t.rig_serial, t.operator, "
            "t.recovered, t.sample_rate_hz, t.duration_s, r.analysis_version, r.summary, "
            "(SELECT count(*) FROM reps p WHERE p.test_id = t.id), "
            "(SELECT count(*) FROM reps p WHERE p.test_id = t.id AND p.excluded = 1) "
            "FROM tests t LEFT JOIN results r ON r.test_id = t.id AND r.is_current = 1 "
            "WHERE t.athlete_id = ? ORDER BY t.recorded_at DESC, t.id DESC"
        )
        params: list[Any] = [athlete_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock, self._errors():
            rows = self._conn.execute(sql, params).fetchall()
        return [
            TestSummary(
                id=r[0],
                athlete_id=r[1],
                recorded_at=r[2],
                protocol=r[3],
                rig_serial=r[4],
                operator=r[5],
                recovered=bool(r[6]),
                sample_rate_hz=r[7],
                duration_s=r[8],
                analysis_version=r[9],
                summary=(json.loads(r[10]) or {}).get("summary", {}) if r[10] else {},
                reps=r[11],
                excluded_reps=r[12],
            )
            for r in rows
        ]

    def test_ids(self) -> list[int]:
        with self._lock, self._errors():
            return [row[0] for row in self._conn.execute("SELECT id FROM tests ORDER BY id")]

    def update_test(self, test_id: int, changes: dict[str, Any], actor: str) -> bool:
        """Change a test's descriptive fields (notes, operator, athlete...), audited."""
        _only(changes, TEST_COLUMNS, "test")
        at = now_utc()
        with self._write() as conn:
            row = conn.execute(
                f"SELECT {', '.join(changes)} FROM tests WHERE id = ?",
                (test_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no test {test_id}")
            before = dict(zip(changes, row, strict=True))
            changed = {k: v for k, v in changes.items() if before[k] != v}
            if not changed:
                return False
            if "athlete_id" in changed:
                self._require(conn, "athletes", changed["athlete_id"], "athlete")
            conn.execute(
                f"UPDATE tests SET {', '.join(f'{k} = ?' for k in changed)} WHERE id = ?",
                [*changed.values(), test_id],
            )
            self._audit(
                conn,
                actor,
                at,
                AuditRecord("test", test_id, "update", {k: before[k] for k in changed}, changed),
            )
        return True

    def recording(self, test_id: int) -> tuple[bytes, str | None, str]:
        """The raw bytes of a test's recording, checked against their stored hash."""
        with self._lock, self._errors():
            row = self._conn.execute(
                "SELECT r.data, r.kind, r.sha256 FROM tests t JOIN recordings r ON r.id = "
                "t.recording_id "
                "WHERE t.id = ?",
                (test_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no test {test_id}")
        data = bytes(row[0])
        if sha256(data) != row[2]:
            raise DatabaseFileError(
                f"the raw recording of test {test_id} does not match its checksum: "
                "the database is damaged; restore it from a backup"
            )
        return data, row[1], row[2]

    def results(self, test_id: int) -> list[Result]:
        """Every analysis run of a test, oldest first."""
        with self._lock, self._errors():
            rows = self._conn.execute(
                self._RESULT + "WHERE test_id = ? ORDER BY id", (test_id,)
            ).fetchall()
        return [self._result(row) for row in rows]

    def get_result(self, result_id: int) -> Result | None:
        with self._lock, self._errors():
            row = self._conn.execute(self._RESULT + "WHERE id = ?", (result_id,)).fetchone()
        return None if row is None else self._result(row)

    def curves(self, result_id: int) -> Curves | None:
        """The curves of an analysis run (shared with the run it was derived from)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT coalesce(curves_result_id, id) FROM results WHERE id = ?", (result_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no analysis run {result_id}")
            rows = conn.execute(
                "SELECT name, codec, length, param, data FROM curves WHERE result_id = ? ORDER "
                "BY rowid",
                (row[0],),
            ).fetchall()
        if not rows:
            return None
        return {
            name: codec.decode(kind, n, param, bytes(data)) for name, kind, n, param, data in rows
        }

    def reps(self, test_id: int) -> list[Rep]:
        with self._lock, self._errors():
            rows = self._conn.execute(
                "SELECT number, start_s, end_s, left_peak_n, right_peak_n, imbalance_pct, "
                "excluded, "
                "exclusion_reason, excluded_by, excluded_at FROM reps WHERE test_id = ? ORDER BY "
                "number",
                (test_id,),
            ).fetchall()
        return [Rep(*r[:6], bool(r[6]), *r[7:]) for r in rows]

    def add_result(
        self,
        test_id: int,
        result: NewResult,
        reps: Sequence[NewRep],
        expected_current_id: int | None,
        actor: str,
        audit: Sequence[AuditRecord] = (),
    ) -> int:
        """Store a new analysis run as current, replacing the rep list, in one transaction.

        ``expected_current_id`` is the run the caller based its work on: if
        another process moved the current mark meanwhile, nothing is written.
        """
        at = now_utc()
        with self._lock, self._errors():
            row = self._conn.execute(
                "SELECT sample_rate_hz FROM tests WHERE id = ?", (test_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no test {test_id}")
        prepared = self._prepare_result(result, row[0])  # the rate never changes
        with self._write() as conn:
            current = conn.execute(
                "SELECT id FROM results WHERE test_id = ? AND is_current = 1", (test_id,)
            ).fetchone()
            if (current[0] if current else None) != expected_current_id:
                raise ConflictError(f"test {test_id} was changed meanwhile: run the command again")
            conn.execute(
                "UPDATE results SET is_current = 0 WHERE test_id = ? AND is_current = 1", (test_id,)
            )
            result_id = self._insert_result(conn, test_id, prepared, actor, at)
            conn.execute("DELETE FROM reps WHERE test_id = ?", (test_id,))
            self._insert_reps(conn, test_id, reps)
            for record in audit:
                self._audit(conn, actor, at, record)
            self._audit(
                conn,
                actor,
                at,
                AuditRecord(
                    "test",
                    test_id,
                    f"result:{result.reason}",
                    None if current is None else {"result_id": current[0]},
                    {"result_id": result_id, "analysis_version": result.analysis_version},
                ),
            )
        return result_id

    # -- tests in progress ----------------------------------------------------------
    def insert_pending(
        self,
        athlete_id: int,
        file_name: str,
        protocol: str,
        rig_serial: str | None,
        certificate: dict[str, Any] | None,
        operator: str | None,
        notes: str,
        host: str | None,
        pid: int | None,
        actor: str,
        rate_hz: float | None = None,
    ) -> int:
        at = now_utc()
        with self._write() as conn:
            self._require(conn, "athletes", athlete_id, "athlete")
            certificate_id = (
                None if certificate is None else self._certificate_id(conn, certificate, actor, at)
            )
            cursor = conn.execute(
                "INSERT INTO pending_tests (athlete_id, file_name, started_at, started_by, "
                "protocol, rig_serial, certificate_id, operator, notes, host, pid, rate_hz) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    athlete_id,
                    file_name,
                    at,
                    actor,
                    protocol,
                    rig_serial,
                    certificate_id,
                    operator,
                    notes,
                    host,
                    pid,
                    rate_hz,
                ),
            )
            return int(cursor.lastrowid)

    _PENDING = (
        "SELECT id, athlete_id, file_name, started_at, protocol, rig_serial, certificate_id, "
        "operator, notes, host, pid, rate_hz FROM pending_tests "
    )

    @staticmethod
    def _pending(row: Sequence[Any], folder: Path) -> PendingTest:
        return PendingTest(
            id=row[0],
            athlete_id=row[1],
            path=folder / row[2],
            started_at=row[3],
            protocol=row[4],
            rig_serial=row[5],
            certificate_id=row[6],
            operator=row[7],
            notes=row[8],
            host=row[9],
            pid=row[10],
            rate_hz=row[11],
        )

    def get_pending(self, pending_id: int, folder: Path) -> PendingTest | None:
        with self._lock, self._errors():
            row = self._conn.execute(self._PENDING + "WHERE id = ?", (pending_id,)).fetchone()
        return None if row is None else self._pending(row, folder)

    def list_pending(self, folder: Path) -> list[PendingTest]:
        with self._lock, self._errors():
            rows = self._conn.execute(self._PENDING + "ORDER BY id").fetchall()
        return [self._pending(row, folder) for row in rows]

    def delete_pending(
        self, pending_id: int, actor: str, action: str, detail: dict[str, Any]
    ) -> None:
        """Forget a test in progress (discarded or aborted), audited."""
        at = now_utc()
        with self._write() as conn:
            gone = conn.execute("DELETE FROM pending_tests WHERE id = ?", (pending_id,))
            if gone.rowcount != 1:
                raise NotFoundError(f"no test in progress {pending_id}")
            self._audit(conn, actor, at, AuditRecord("pending", pending_id, action, detail, None))

    def tests_with_recording(self, digest_hex: str) -> list[int]:
        """Tests whose raw recording has this SHA-256 (an import done twice)."""
        with self._lock, self._errors():
            rows = self._conn.execute(
                "SELECT t.id FROM tests t JOIN recordings r ON r.id = t.recording_id "
                "WHERE r.sha256 = ? ORDER BY t.id",
                (digest_hex,),
            ).fetchall()
        return [row[0] for row in rows]

    def recording_exists(self, digest_hex: str) -> bool:
        with self._lock, self._errors():
            row = self._conn.execute(
                "SELECT 1 FROM recordings WHERE sha256 = ?", (digest_hex,)
            ).fetchone()
        return row is not None

    # -- audit ----------------------------------------------------------------------
    def audit_log(
        self, entity: str | None = None, entity_id: int | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        where: list[str] = []
        params: list[Any] = []
        if entity is not None:
            where.append("entity = ?")
            params.append(entity)
        if entity_id is not None:
            where.append("entity_id = ?")
            params.append(entity_id)
        sql = "SELECT id, at, actor, entity, entity_id, action, before, after FROM audit_log "
        if where:
            sql += "WHERE " + " AND ".join(where) + " "
        sql += "ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock, self._errors():
            rows = self._conn.execute(sql, params).fetchall()
        return [AuditEntry(*r[:6], _loads(r[6]), _loads(r[7])) for r in rows]

    # -- export ---------------------------------------------------------------------
    SUMMARY_COLUMNS = (
        "test_id",
        "athlete_id",
        "name",
        "external_id",
        "date_of_birth",
        "sex",
        "sport",
        "team",
        "dominant_leg",
        "recorded_at",
        "protocol",
        "rig_serial",
        "certificate_id",
        "operator",
        "sample_rate_hz",
        "duration_s",
        "body_mass_kg",
        "lever_arm_m",
        "source",
        "recovered",
        "result_id",
        "analysis_version",
        "analyzed_at",
        "digest",
        "excluded",
    )

    def summary_rows(
        self,
        athlete_id: int | None = None,
        team: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """One row per test with its current result's digest, oldest first.

        ``since``/``until`` are stored instants (inclusive, exclusive).  Rows
        are read inside one snapshot, so an export is consistent even while
        the app keeps recording.
        """
        where: list[str] = []
        params: list[Any] = []
        if athlete_id is not None:
            where.append("t.athlete_id = ?")
            params.append(athlete_id)
        if team is not None:
            where.append("a.team = ? COLLATE NOCASE")
            params.append(team)
        if since is not None:
            where.append("t.recorded_at >= ?")
            params.append(since)
        if until is not None:
            where.append("t.recorded_at < ?")
            params.append(until)
        sql = (
            "SELECT t.id, t.athlete_id, a.name, a.external_id, a.date_of_birth, a.sex, a.sport, "
            "a.team, a.dominant_leg, t.recorded_at, t.protocol, t.rig_serial, t.certificate_id, "
            "t.operator, t.sample_rate_hz, t.duration_s, t.body_mass_kg, t.lever_arm_m, t.source, "
            "t.recovered, r.id, r.analysis_version, r.created_at, r.summary, r.excluded "
            "FROM tests t JOIN athletes a ON a.id = t.athlete_id "
            "LEFT JOIN results r ON r.test_id = t.id AND r.is_current = 1 "
        )
        if where:
            sql += "WHERE " + " AND ".join(where) + " "
        sql += "ORDER BY t.recorded_at, t.id"
        columns = self.SUMMARY_COLUMNS
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        for row in rows:
            item = dict(zip(columns, row, strict=True))
            item["digest"] = json.loads(item["digest"]) if item["digest"] else {}
            item["excluded"] = json.loads(item["excluded"]) if item["excluded"] else []
            item["recovered"] = bool(item["recovered"])
            yield item

    # -- bulk -----------------------------------------------------------------------
    def bulk_load(
        self, athletes: Sequence[dict[str, Any]], tests: Sequence[NewTest], actor: str
    ) -> None:
        """Load many athletes and tests in one transaction with executemany.

        For migrating from another system and for benchmarks: athletes carry
        their ``id``; tests carry analysis results but curves are not stored.
        Audit entries are written ("bulk" action) so nothing appears from nowhere.
        """
        at = now_utc()
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO athletes (id, name, name_key, external_id, date_of_birth, sex, sport, "
                "team, dominant_leg, lever_arm_m, notes, archived, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, ?, ?)",
                [
                    (
                        a["id"],
                        a["name"],
                        a["name_key"],
                        a.get("external_id"),
                        a.get("date_of_birth"),
                        a.get("sex"),
                        a.get("sport"),
                        a.get("team"),
                        a.get("dominant_leg"),
                        a.get("lever_arm_m"),
                        at,
                        at,
                    )
                    for a in athletes
                ],
            )
            conn.executemany(
                "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after) "
                "VALUES (?, ?, 'athlete', ?, 'bulk', NULL, NULL)",
                [(at, actor, a["id"]) for a in athletes],
            )
            recording_ids: dict[str, int] = {}
            certificate_ids: dict[str, int] = {}
            test_rows = []
            for test in tests:
                sha = sha256(test.recording)
                if sha not in recording_ids:
                    recording_ids[sha] = self._recording_id(
                        conn, test.recording, test.recording_kind, at, sha
                    )
                certificate_id = None
                if test.certificate is not None:
                    key = canonical_json(test.certificate)
                    if key not in certificate_ids:
                        certificate_ids[key] = self._certificate_id(
                            conn, test.certificate, actor, at
                        )
                    certificate_id = certificate_ids[key]
                test_rows.append((test, recording_ids[sha], certificate_id))
            first = (conn.execute("SELECT coalesce(max(id), 0) FROM tests").fetchone()[0]) + 1
            ids = range(first, first + len(test_rows))
            conn.executemany(
                "INSERT INTO tests (id, athlete_id, recorded_at, protocol, rig_serial, "
                "certificate_id, "
                "operator, notes, sample_rate_hz, duration_s, body_mass_kg, lever_arm_m, "
                "recording_id, "
                "source, created_at, created_by, recovered, warnings) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        test_id,
                        t.athlete_id,
                        t.recorded_at,
                        t.protocol,
                        t.rig_serial,
                        cert,
                        t.operator,
                        t.notes,
                        t.sample_rate_hz,
                        t.duration_s,
                        t.body_mass_kg,
                        t.lever_arm_m,
                        rec,
                        t.source,
                        at,
                        actor,
                        int(t.recovered),
                        json.dumps(list(t.warnings)),
                    )
                    for test_id, (t, rec, cert) in zip(ids, test_rows, strict=True)
                ],
            )
            conn.executemany(
                "INSERT INTO results (test_id, created_at, created_by, reason, analysis_version, "
                "settings, metrics, summary, excluded, is_current) VALUES (?, ?, ?, ?, ?, ?, ?, "
                "?, ?, 1)",
                [
                    (
                        test_id,
                        at,
                        actor,
                        t.result.reason,
                        t.result.analysis_version,
                        json.dumps(t.result.settings, default=str),
                        json.dumps(t.result.metrics, default=str),
                        json.dumps(digest(t.result.metrics), default=str),
                        json.dumps(sorted(t.result.excluded)),
                    )
                    for test_id, (t, _, _) in zip(ids, test_rows, strict=True)
                ],
            )
            conn.executemany(
                "INSERT INTO reps (test_id, number, start_s, end_s, left_peak_n, right_peak_n, "
                "imbalance_pct, excluded, exclusion_reason, excluded_by, excluded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        test_id,
                        r.number,
                        r.start_s,
                        r.end_s,
                        r.left_peak_n,
                        r.right_peak_n,
                        r.imbalance_pct,
                        int(r.excluded),
                        r.exclusion_reason,
                        r.excluded_by,
                        r.excluded_at,
                    )
                    for test_id, (t, _, _) in zip(ids, test_rows, strict=True)
                    for r in t.reps
                ],
            )
            conn.executemany(
                "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after) "
                "VALUES (?, ?, 'test', ?, 'bulk', NULL, NULL)",
                [(at, actor, test_id) for test_id in ids],
            )
