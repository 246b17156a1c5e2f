"""Athletes as people type them: checked, resolved by id or external id, audited.

Part of :class:`~station.store.Store`; the SQL is in :mod:`station.store.sqlite.athletes`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from station.store import injury_records, validate
from station.store.errors import ConflictError, DuplicateError, NotFoundError, ValidationError
from station.store.models import Athlete, AthleteChanges, AthleteWrite, BodyMass, Injury
from station.store.parts import StoreParts

ID_PREFIX = "#"  # "#12": the athlete whose id is 12
EXTERNAL_PREFIX = "ext:"  # "ext:12": the athlete whose external id is "12"


class Athletes(StoreParts):
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
            AthleteWrite(
                None, AthleteChanges.of(values), validate.search_key(values["name"]), mass
            ),
            self._who(by),
        )
        return self.get_athlete(athlete_id)

    def _check_external_id(self, external_id: str, athlete_id: int | None) -> None:
        if external_id.startswith(ID_PREFIX) or external_id.lower().startswith(EXTERNAL_PREFIX):
            raise ValidationError(
                f"external id {external_id!r} cannot start with {ID_PREFIX!r} or "
                f"{EXTERNAL_PREFIX!r} (they pick an athlete by id or by external id)"
            )
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
        """An athlete by id or external id (as typed on the command line).

        ``#12`` is always the id 12 and ``ext:12`` always the external id "12";
        a bare ``12`` is whichever exists, and refused (saying how to pick) when
        it is one athlete's id and another's external id.
        """
        if isinstance(ref, Athlete):
            return self.get_athlete(ref.id)
        if isinstance(ref, int):
            return self.get_athlete(ref)
        text = str(ref).strip()
        if validate.has_surrogates(text):
            raise ValidationError(validate.not_utf8("the athlete"))
        if not text:
            raise ValidationError("no athlete given: pass an athlete id or external id")
        if text.startswith(ID_PREFIX):
            number = text[len(ID_PREFIX) :]
            if not (number.isascii() and number.isdigit() and len(number) < 19):
                raise ValidationError(f"{text!r} is not an athlete id: use #ID, e.g. #12")
            return self.get_athlete(int(number))
        if text.lower().startswith(EXTERNAL_PREFIX):
            external = text[len(EXTERNAL_PREFIX) :].strip()
            found = self.backend.athletes_by_external_id(external)
            if not found:
                raise NotFoundError(
                    f"no athlete with external id {external!r}: see 'nordic-station athlete list'"
                )
            return found[0]
        numeric = text.isascii() and text.isdigit() and len(text) < 19
        by_id = self.backend.get_athlete(int(text)) if numeric else None
        by_external = self.backend.athletes_by_external_id(text)
        if by_id is not None and by_external and by_external[0].id != by_id.id:
            raise ValidationError(
                f"{text!r} is athlete {by_id.id}'s id and athlete {by_external[0].id}'s external "
                f"id: write #{text} for the id or ext:{text} for the external id"
            )
        if by_id is not None:
            return by_id
        if by_external:
            return by_external[0]
        raise NotFoundError(
            f"no athlete with id or external id {text!r}: see 'nordic-station athlete list'"
        )

    def _changeable(self, ref: Athlete | int | str) -> Athlete:
        """An athlete whose data may still change (an erased one may not)."""
        current = self.resolve_athlete(ref)
        if current.erased_at is not None:
            raise ConflictError(
                f"athlete {current.id} was erased on {current.erased_at[:10]}: "
                "register them again if they come back"
            )
        return current

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
        if search and validate.has_surrogates(search):
            raise ValidationError(validate.not_utf8("the search"))
        key = validate.search_key(search) if search else None
        return self.backend.list_athletes(key or None, team, include_archived, archived_only, limit)

    def update_athlete(
        self, athlete: Athlete | int | str, *, by: str | None = None, **changes: Any
    ) -> Athlete:
        """Change athlete fields; ``body_mass_kg`` adds a dated entry to the history."""
        current = self._changeable(athlete)
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
        self.backend.update_athlete(
            current.id, AthleteChanges.of(values), name_key, self._who(by), body_mass=mass
        )
        return self.get_athlete(current.id)

    def archive_athlete(
        self, athlete: Athlete | int | str, archived: bool = True, *, by: str | None = None
    ) -> Athlete:
        """Hide an athlete from lists; archived athletes keep all their tests."""
        current = self.resolve_athlete(athlete)
        self.backend.update_athlete(
            current.id,
            AthleteChanges(archived=archived),
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
        current = self._changeable(athlete)
        day = validate.past_date(on, "weighing date") if on is not None else date.today()
        entry = BodyMass(day, validate.body_mass_kg(kg))
        self.backend.update_athlete(
            current.id, AthleteChanges(), None, self._who(by), body_mass=entry
        )
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
        region: str | None = None,
        grade: str | None = None,
        return_to_play: date | str | None = None,
    ) -> list[Injury]:
        """Record an injury (structured: see :mod:`station.store.injury_records`)."""
        current = self._changeable(athlete)
        day = validate.past_date(on, "injury date") if on is not None else None
        self.backend.add_injury(
            current.id,
            validate.injury_side(side),
            day,
            validate.notes(note),
            self._who(by),
            injury_records.region(region),
            injury_records.grade(grade),
            injury_records.return_to_play(return_to_play, day),
        )
        return self.backend.injuries(current.id)

    def injuries(self, athlete: Athlete | int | str) -> list[Injury]:
        return self.backend.injuries(self.resolve_athlete(athlete).id)
