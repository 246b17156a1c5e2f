"""Athletes, their dated body masses and their injuries (SQLite).

Column names of an update are interpolated into SQL, so only those in
:data:`ATHLETE_COLUMNS` get through; every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from station.store.models import Athlete, AthleteChanges, AthleteWrite, BodyMass, Injury
from station.store.sql.audit import AuditRecord, write_audit
from station.store.sql.base import DbConnection, Transactions, new_id
from station.store.sql.rows import Shape, iso, new_uuid, only, select, to_date
from station.store.validate import now_utc

# The fields a person edits, in the order of :class:`Athlete`.
EDITABLE = (
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
)
ATHLETE_COLUMNS = frozenset(EDITABLE)

ATHLETE = Shape(
    Athlete,
    "athletes a",
    [
        *((name, f"a.{name}") for name in ("id", *EDITABLE, "created_at", "updated_at")),
        (
            "body_mass_kg",
            "(SELECT kg FROM body_mass b WHERE b.athlete_id = a.id "
            " ORDER BY b.measured_on DESC, b.id DESC LIMIT 1)",
        ),
        ("erased_at", "a.erased_at"),
        ("uuid", "a.uuid"),
    ],
    {"date_of_birth": to_date, "archived": bool},
)
INJURY = Shape(
    Injury,
    "injuries",
    ["id", "side", "occurred_on", "note", "region", "grade", "return_to_play", "uuid"],
    {"occurred_on": to_date, "return_to_play": to_date},
)
BODY_MASS = Shape(BodyMass, "body_mass", ["measured_on", "kg"], {"measured_on": date.fromisoformat})


def _athlete_columns(values: AthleteChanges) -> dict[str, Any]:
    """The columns of the fields given, as stored (ISO dates, 0/1 flags)."""
    out = values.given()
    if out.get("date_of_birth") is not None:
        out["date_of_birth"] = out["date_of_birth"].isoformat()
    if "archived" in out:
        out["archived"] = int(out["archived"])
    return out


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Athletes(Transactions):
    def insert_athlete(self, write: AthleteWrite, actor: str) -> int:
        """A new athlete (and its first body mass) in one transaction; returns its id."""
        only(write.values.given(), ATHLETE_COLUMNS, "athlete")
        at = now_utc()
        with self._write() as conn:
            return self._insert(
                conn, write.values, write.name_key or "", write.body_mass, actor, at
            )

    def import_athletes(self, rows: Sequence[AthleteWrite], actor: str) -> list[int]:
        """Add and change many athletes in ONE transaction (all or nothing), each
        audited as a single add or edit would be; returns the ids, in order."""
        for row in rows:
            if row.values:
                only(row.values.given(), ATHLETE_COLUMNS, "athlete")
        at = now_utc()
        ids: list[int] = []
        with self._write() as conn:
            for row in rows:
                if row.athlete_id is None:
                    ids.append(
                        self._insert(conn, row.values, row.name_key or "", row.body_mass, actor, at)
                    )
                else:
                    self._update(
                        conn, row.athlete_id, row.values, row.name_key, actor, "update",
                        row.body_mass, at,
                    )  # fmt: skip
                    ids.append(row.athlete_id)
        return ids

    def _insert(
        self,
        conn: DbConnection,
        values: AthleteChanges,
        name_key: str,
        body_mass: BodyMass | None,
        actor: str,
        at: str,
    ) -> int:
        columns = _athlete_columns(values)
        columns.update(name_key=name_key, created_at=at, updated_at=at, uuid=new_uuid())
        names = list(columns)
        cursor = conn.execute(
            f"INSERT INTO athletes ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
            "RETURNING id",
            [columns[name] for name in names],
        )
        athlete_id = new_id(cursor)
        after = {k: v for k, v in columns.items() if k not in ("name_key", "uuid")}
        if body_mass is not None:
            self._insert_body_mass(conn, athlete_id, body_mass, actor, at)
            after["body_mass"] = body_mass.to_dict()
        write_audit(conn, actor, at, AuditRecord("athlete", athlete_id, "create", None, after))
        return athlete_id

    def get_athlete(self, athlete_id: int) -> Athlete | None:
        row = self._one(ATHLETE.sql + "WHERE a.id = ?", (athlete_id,))
        return None if row is None else ATHLETE.make(row)

    def athletes_by_external_id(self, external_id: str) -> list[Athlete]:
        return ATHLETE.many(self._all(ATHLETE.sql + "WHERE a.external_id = ?", (external_id,)))

    def list_athletes(
        self,
        search_key: str | None = None,
        team: str | None = None,
        include_archived: bool = False,
        archived_only: bool = False,
        limit: int | None = None,
    ) -> list[Athlete]:
        """Athletes by name; ``search_key`` (already folded) matches name or external id."""
        pattern = f"%{_escape_like(search_key)}%" if search_key else None
        if archived_only:
            archived: tuple[str, tuple[()]] | None = ("a.archived = 1", ())
        else:
            archived = None if include_archived else ("a.archived = 0", ())
        sql, params = select(
            ATHLETE.sql,
            [
                None
                if pattern is None
                else (
                    "(a.name_key LIKE ? ESCAPE '\\' OR lower(a.external_id) LIKE ? ESCAPE '\\')",
                    (pattern, pattern),
                ),
                None if team is None else ("lower(a.team) = lower(?)", (team,)),
                archived,
            ],
            "a.name_key, a.id",
            limit,
        )
        return ATHLETE.many(self._all(sql, params))

    def update_athlete(
        self,
        athlete_id: int,
        changes: AthleteChanges,
        name_key: str | None,
        actor: str,
        action: str = "update",
        body_mass: BodyMass | None = None,
    ) -> bool:
        """Apply validated changes (and a new body mass) at once; False when nothing changed."""
        if changes:
            only(changes.given(), ATHLETE_COLUMNS, "athlete")
        at = now_utc()
        with self._write() as conn:
            return self._update(conn, athlete_id, changes, name_key, actor, action, body_mass, at)

    def _update(
        self,
        conn: DbConnection,
        athlete_id: int,
        changes: AthleteChanges,
        name_key: str | None,
        actor: str,
        action: str,
        body_mass: BodyMass | None,
        at: str,
    ) -> bool:
        columns = _athlete_columns(changes)
        self._require(conn, "athletes", athlete_id, "athlete")
        if body_mass is not None:
            self._insert_body_mass(conn, athlete_id, body_mass, actor, at)
            self._touch(conn, athlete_id, at)
            write_audit(
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
        write_audit(
            conn,
            actor,
            at,
            AuditRecord("athlete", athlete_id, action, {k: before[k] for k in changed}, changed),
        )
        return True

    @staticmethod
    def _touch(conn: DbConnection, athlete_id: int, at: str) -> None:
        conn.execute("UPDATE athletes SET updated_at = ? WHERE id = ?", (at, athlete_id))

    @staticmethod
    def _insert_body_mass(
        conn: DbConnection, athlete_id: int, entry: BodyMass, actor: str, at: str
    ) -> None:
        conn.execute(
            "INSERT INTO body_mass (athlete_id, measured_on, kg, recorded_at, recorded_by, uuid) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (athlete_id, entry.measured_on.isoformat(), entry.kg, at, actor, new_uuid()),
        )

    def body_mass_history(self, athlete_id: int) -> list[BodyMass]:
        return BODY_MASS.many(
            self._all(
                BODY_MASS.sql + "WHERE athlete_id = ? ORDER BY measured_on, id", (athlete_id,)
            )
        )

    def add_injury(
        self,
        athlete_id: int,
        side: str,
        occurred_on: date | None,
        note: str,
        actor: str,
        region: str = "",
        grade: str | None = None,
        return_to_play: date | None = None,
    ) -> int:
        at = now_utc()
        day = iso(occurred_on)
        back = iso(return_to_play)
        with self._write() as conn:
            self._require(conn, "athletes", athlete_id, "athlete")
            cursor = conn.execute(
                "INSERT INTO injuries (athlete_id, side, occurred_on, note, recorded_at, "
                "recorded_by, region, grade, return_to_play, uuid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (athlete_id, side, day, note, at, actor, region, grade, back, new_uuid()),
            )
            injury_id = new_id(cursor)
            self._touch(conn, athlete_id, at)
            after = {
                "injury_id": injury_id,
                "side": side,
                "occurred_on": day,
                "note": note,
                "region": region,
                "grade": grade,
                "return_to_play": back,
            }
            write_audit(conn, actor, at, AuditRecord("athlete", athlete_id, "injury", None, after))
        return injury_id

    def injuries(self, athlete_id: int) -> list[Injury]:
        return INJURY.many(
            self._all(
                INJURY.sql + "WHERE athlete_id = ? ORDER BY occurred_on NULLS FIRST, id",
                (athlete_id,),
            )
        )
