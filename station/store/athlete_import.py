"""Many athletes from one CSV file: a plan (what would be added, changed or
refused, line by line), then the import in ONE transaction.

Every cell is untrusted: the file is read through
:func:`firmware_bridge.files.read_regular` with a size limit, bytes that are
not UTF-8 and cells a spreadsheet would run as a formula are refused by line
and column, and every value goes through the same checks (:mod:`.validate`)
as ``athlete add``.  Rows are matched to stored athletes by external id only;
an empty cell leaves a stored value as it is.  Part of :class:`~station.store.Store`.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from firmware_bridge.files import read_regular
from station.store import validate
from station.store.csv_cells import looks_like_formula
from station.store.errors import StoreError, ValidationError
from station.store.models import Athlete, AthleteChanges, AthleteWrite, BodyMass
from station.store.parts import StoreParts

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 16 << 20  # ~200,000 athletes: far more than any club or study
MAX_CELL = validate.MAX_TEXT  # no imported field may be longer (notes are not imported)

# Header (lower case, without spaces, "_", "-", "(" or ")") -> athlete field.
COLUMNS = {
    "name": "name",
    "externalid": "external_id",
    "dateofbirth": "date_of_birth",
    "sex": "sex",
    "sport": "sport",
    "team": "team",
    "dominantleg": "dominant_leg",
    "bodymass": "body_mass_kg",
    "bodymasskg": "body_mass_kg",
}
HEADINGS = {
    "name": "name",
    "external_id": "external id",
    "date_of_birth": "date of birth",
    "sex": "sex",
    "sport": "sport",
    "team": "team",
    "dominant_leg": "dominant leg",
    "body_mass_kg": "body mass",
}
PRIVATE = ("name", "date_of_birth")  # shown changed, never with their values
_HEADER_NOISE = re.compile(r"[\s_\-()]+")
_DECIMAL_COMMA = re.compile(r"\d+,\d+")


@dataclass(frozen=True)
class ImportLine:
    """What happens to one row: ``add``, ``change``, ``same`` (nothing to do),
    ``empty`` (a blank row) or ``refused`` (``detail`` says why)."""

    line: int
    action: str
    detail: str
    athlete_id: int | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.action}: {self.detail}"


@dataclass
class AthleteImport:
    """The plan for a file: one :class:`ImportLine` per row, and the writes."""

    source: str
    lines: list[ImportLine] = field(default_factory=list)
    writes: list[AthleteWrite] = field(default_factory=list)
    applied: bool = False

    def count(self, action: str) -> int:
        return sum(1 for line in self.lines if line.action == action)

    @property
    def refused(self) -> list[ImportLine]:
        return [line for line in self.lines if line.action == "refused"]


class _Refused(Exception):
    pass


def _heading(text: str) -> str:
    return _HEADER_NOISE.sub("", text.casefold())


def _decode(raw: bytes, source: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError(
            f"{source} is UTF-16 text: save it as 'CSV UTF-8' (comma delimited) and import again"
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise ValidationError(
            f"{source} line {line} holds a NUL byte: it is not a CSV text file "
            "(save it as 'CSV UTF-8')"
        )
    return raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")


def _delimiter(text: str) -> str:
    """Comma, or the semicolon or tab a spreadsheet in another locale writes."""
    head = text.split("\n", 1)[0]
    counts = {d: head.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(cells: list[str], source: str) -> list[str]:
    fields: list[str] = []
    for cell in cells:
        if validate.has_surrogates(cell):
            raise ValidationError(
                f"{source} line 1: the header is not UTF-8 text: save the file as 'CSV UTF-8'"
            )
        key = COLUMNS.get(_heading(cell))
        if key is None:
            shown = cell.strip()[:40]
            raise ValidationError(
                f"{source} line 1: unknown column {shown!r}: the columns are "
                f"{', '.join(dict.fromkeys(HEADINGS.values()))} (any case, spaces optional)"
            )
        if key in fields:
            raise ValidationError(f"{source} line 1: column {HEADINGS[key]!r} appears twice")
        fields.append(key)
    if "name" not in fields:
        raise ValidationError(f"{source} line 1: no 'name' column: the first row must be a header")
    return fields


def _cell(value: str, key: str) -> str | None:
    """One typed cell, checked for what no field may hold; None when empty."""
    text = value.strip()
    what = HEADINGS[key]
    if len(text) > MAX_CELL:
        raise _Refused(f"{what} holds {len(text)} characters (at most {MAX_CELL})")
    if validate.has_surrogates(text):
        raise _Refused(f"{what} is not UTF-8 text: save the file as 'CSV UTF-8'")
    if looks_like_formula(text):
        raise _Refused(
            f"{what} {text[:40]!r} looks like a spreadsheet formula: remove the leading "
            f"{text.lstrip()[:1]!r} (formulas are never imported)"
        )
    return text or None


class AthleteImporting(StoreParts):
    if TYPE_CHECKING:  # from :class:`~station.store.athletes.Athletes`, beside it in Store

        def _changeable(self, ref: Athlete | int | str) -> Athlete: ...
        def _check_external_id(self, external_id: str, athlete_id: int | None) -> None: ...

    def plan_athlete_import(self, path: str | os.PathLike[str]) -> AthleteImport:
        """Read and check a CSV of athletes; nothing is written (see :meth:`apply_athlete_import`).

        A file that cannot be read as CSV raises :class:`ValidationError`; a bad
        row is "refused" in the plan with its line number and the reason.
        """
        source = os.fspath(path)
        text = _decode(read_regular(path, MAX_IMPORT_BYTES, ValidationError), source)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        plan = AthleteImport(source)
        seen: dict[str, int] = {}
        try:
            fields = _header(next(reader, []), source)
            first = reader.line_num + 1
            for cells in reader:
                plan.lines.append(self._plan_row(first, cells, fields, seen, plan))
                first = reader.line_num + 1
        except csv.Error as exc:
            raise ValidationError(
                f"{source} line {reader.line_num}: not readable as CSV ({exc}): "
                "check the quotes on that line"
            ) from None
        log.info(
            "athlete import planned: %d to add, %d to change, %d refused",
            plan.count("add"),
            plan.count("change"),
            plan.count("refused"),
        )
        return plan

    def apply_athlete_import(self, plan: AthleteImport, *, by: str | None = None) -> list[int]:
        """Write a plan in one transaction; refused unless every row was accepted."""
        if plan.refused:
            raise ValidationError(
                f"{len(plan.refused)} row(s) of {plan.source} refused: nothing imported; "
                "fix or remove them and run the import again"
            )
        ids = self.backend.import_athletes(plan.writes, self._who(by))
        plan.applied = True
        log.info("athlete import applied: %d athlete(s) written", len(ids))
        return ids

    def _plan_row(
        self,
        line: int,
        cells: list[str],
        fields: list[str],
        seen: dict[str, int],
        plan: AthleteImport,
    ) -> ImportLine:
        if not any(cell.strip() for cell in cells):
            return ImportLine(line, "empty", "blank row, skipped")
        if len(cells) != len(fields):
            return ImportLine(
                line,
                "refused",
                f"{len(cells)} cells but the header has {len(fields)}: check for a stray "
                "delimiter or a missing quote",
            )
        try:
            typed = {key: _cell(value, key) for key, value in zip(fields, cells, strict=True)}
            external = validate.text_field(typed.get("external_id"), "external id", limit=100)
            if external is not None:
                if external in seen:
                    raise _Refused(f"external id {external!r} is also on line {seen[external]}")
                seen[external] = line
            mass = typed.pop("body_mass_kg", None)
            kg = None if mass is None else validate.body_mass_kg(_number(mass))
            found = self.backend.athletes_by_external_id(external) if external else []
            if found:
                outcome, write = self._change(line, self._changeable(found[0]), typed, kg)
            else:
                outcome, write = self._add(line, typed, kg, external)
        except (_Refused, StoreError) as exc:
            return ImportLine(line, "refused", str(exc))
        if write is not None:
            plan.writes.append(write)
        return outcome

    def _add(
        self, line: int, typed: dict[str, str | None], kg: float | None, external: str | None
    ) -> tuple[ImportLine, AthleteWrite]:
        if typed.get("name") is None:
            raise _Refused("name is empty: a new athlete needs a name")
        values = validate.athlete_changes(typed)
        if external is not None:
            self._check_external_id(external, None)
        mass = None if kg is None else BodyMass(date.today(), kg)
        write = AthleteWrite(
            None, AthleteChanges.of(values), validate.search_key(values["name"]), mass
        )
        which = (
            f"external id {external!r}"
            if external
            else "no external id: importing this file again would add them again"
        )
        return ImportLine(line, "add", f"{values['name']!r} ({which})"), write

    def _change(
        self, line: int, current: Athlete, typed: dict[str, str | None], kg: float | None
    ) -> tuple[ImportLine, AthleteWrite | None]:
        given = {key: value for key, value in typed.items() if value is not None}
        values = validate.athlete_changes(given)
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        mass = None
        if kg is not None and current.body_mass_kg != kg:
            mass = BodyMass(date.today(), kg)
        who = f"athlete {current.id} (external id {current.external_id!r})"
        if not changed and mass is None:
            return ImportLine(line, "same", f"{who}: nothing to change", current.id), None
        parts = [
            f"{HEADINGS[k]} changed"
            if k in PRIVATE
            else f"{HEADINGS[k]} {_shown(getattr(current, k))} -> {_shown(v)}"
            for k, v in changed.items()
        ]
        if mass is not None:
            parts.append(f"body mass {_shown(current.body_mass_kg)} -> {kg:g} kg")
        name_key = validate.search_key(changed["name"]) if "name" in changed else None
        write = AthleteWrite(current.id, AthleteChanges.of(changed), name_key, mass)
        return ImportLine(line, "change", f"{who}: {', '.join(parts)}", current.id), write


def _number(text: str) -> Any:
    """A number as typed, also with a decimal comma (62,5) as semicolon CSVs write it."""
    return text.replace(",", ".") if _DECIMAL_COMMA.fullmatch(text) else text


def _shown(value: Any) -> str:
    return "(empty)" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
