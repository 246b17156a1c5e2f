"""Checks on values before they reach the database.

Every check raises :class:`ValidationError` with a message that names the field,
the value and what would be accepted, so the CLI can print it as is.  The same
limits are repeated as CHECK constraints in the schema: these give the clear
message, the constraints guard against any other writer.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any

from station.store.errors import ValidationError
from station.store.models import INJURY_SIDES, LEGS, PROTOCOLS, SEXES

MIN_BODY_MASS_KG = 10.0
MAX_BODY_MASS_KG = 400.0
MIN_LEVER_ARM_M = 0.1
MAX_LEVER_ARM_M = 1.0
MAX_TEXT = 200
MAX_NOTES = 20_000
EARLIEST_BIRTH = date(1900, 1, 1)
CLOCK_SLACK = timedelta(minutes=5)  # a rig's or another PC's clock a little ahead

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What a command line hands over for bytes that are not UTF-8 (surrogateescape).
_NOT_UTF8 = re.compile(r"[\ud800-\udfff]")
# Letters NFKD does not split into a base letter and a mark.
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "ı": "i"}
)
_SEX_ALIASES = {"f": "female", "m": "male", "x": "other", "woman": "female", "man": "male"}


def now_utc() -> str:
    """The current instant as stored: ISO 8601, UTC, milliseconds, ``Z``."""
    return format_instant(datetime.now(UTC))


def format_instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive = local time of this machine
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_instant(value: str | datetime, what: str = "time") -> str:
    """A date or date-time from the user (local time unless it names a zone) as stored."""
    if isinstance(value, datetime):
        return format_instant(value)
    text = str(value).strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{what} {value!r} is not a date or time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    return format_instant(moment)


def test_time(value: str | datetime, born: date | None, what: str = "test date") -> str:
    """When a test was done, as typed: not in the future, not before the athlete's birth."""
    instant = parse_instant(value, what)
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    now = datetime.now(UTC)
    earliest = datetime.combine(born or EARLIEST_BIRTH, datetime.min.time()).astimezone(UTC)
    if moment > now + CLOCK_SLACK:
        raise ValidationError(
            f"{what} {value} is in the future: give a time from "
            f"{earliest.date().isoformat()} to now"
        )
    if moment < earliest:
        since = "the athlete's birth" if born else "1900"
        raise ValidationError(
            f"{what} {value} is before {since} ({earliest.date().isoformat()}): give a time "
            "from then to now"
        )
    return instant


def search_key(text: str) -> str:
    """Case- and accent-insensitive form of a name: 'Øyvind Åsen' -> 'oyvind asen'."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def text_field(
    value: Any, what: str, *, required: bool = False, limit: int = MAX_TEXT
) -> str | None:
    """Trimmed single-line text; empty means "not given" unless ``required``."""
    if value is None:
        if required:
            raise ValidationError(f"{what} is required")
        return None
    raw = str(value).replace("\r\n", "\n")
    if _NOT_UTF8.search(raw):
        raise ValidationError(not_utf8(what))
    text = " ".join(raw.split()) if limit <= MAX_TEXT else raw.strip()
    if _CONTROL.search(text):
        raise ValidationError(f"{what} contains control characters: remove them")
    if text and not visible(text):
        raise ValidationError(
            f"{what} holds only invisible characters: type it with letters, digits or punctuation"
        )
    if not text:
        if required:
            raise ValidationError(f"{what} must not be empty")
        return None
    if len(text) > limit:
        raise ValidationError(f"{what} is longer than {limit} characters")
    return text


def has_surrogates(text: str) -> bool:
    return _NOT_UTF8.search(text) is not None


def not_utf8(what: str) -> str:
    return (
        f"{what} holds bytes that are not UTF-8 text: retype it (is the terminal set to "
        "UTF-8, e.g. LANG=C.UTF-8?)"
    )


def visible(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces and format characters
    (zero-width spaces, direction marks, soft hyphens...)."""
    return any(
        not c.isspace() and unicodedata.category(c) not in ("Cf", "Cc", "Zs", "Mn", "Me")
        for c in text
    )


def name(value: Any) -> str:
    result = text_field(value, "name", required=True)
    assert result is not None
    if not any(unicodedata.category(c)[0] in "LN" for c in result):
        raise ValidationError(f"name {result!r} has no letters: give the athlete's name")
    return result


def notes(value: Any) -> str:
    return text_field(value, "notes", limit=MAX_NOTES) or ""


def number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise ValidationError(f"{what} must be a number, not {value!r}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(result):
        raise ValidationError(f"{what} must be a finite number, not {value!r}")
    return result


def body_mass_kg(value: Any) -> float:
    kg = number(value, "body mass")
    if not MIN_BODY_MASS_KG <= kg <= MAX_BODY_MASS_KG:
        raise ValidationError(
            f"body mass {value} kg is impossible: give the mass in kg, from "
            f"{MIN_BODY_MASS_KG:g} to at most {MAX_BODY_MASS_KG:g}"
        )
    return kg


def lever_arm_m(value: Any) -> float:
    metres = number(value, "lever arm")
    if not MIN_LEVER_ARM_M <= metres <= MAX_LEVER_ARM_M:
        raise ValidationError(
            f"lever arm {value} m is impossible: give the knee-to-hook distance in metres, "
            f"from {MIN_LEVER_ARM_M:g} to at most {MAX_LEVER_ARM_M:g} (e.g. 0.42)"
        )
    return metres


def a_date(value: Any, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"{what} {value!r} is not a date: use YYYY-MM-DD") from None


def past_date(value: Any, what: str, today: date | None = None) -> date:
    """A date that cannot lie in the future (a birth, an injury, a weighing)."""
    result = a_date(value, what)
    today = today or date.today()
    if result > today:
        raise ValidationError(f"{what} {result.isoformat()} is in the future")
    if result < EARLIEST_BIRTH:
        raise ValidationError(f"{what} {result.isoformat()} is before 1900: check the year")
    return result


def date_of_birth(value: Any) -> date | None:
    if value is None or str(value).strip() == "":
        return None
    return past_date(value, "date of birth")


def choice(
    value: Any, what: str, allowed: tuple[str, ...], aliases: dict[str, str] | None = None
) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    text = (aliases or {}).get(text, text)
    if text not in allowed:
        raise ValidationError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
    return text


def sex(value: Any) -> str | None:
    return choice(value, "sex", SEXES, _SEX_ALIASES)


def dominant_leg(value: Any) -> str | None:
    return choice(value, "dominant leg", LEGS, {"l": "left", "r": "right"})


def injury_side(value: Any) -> str:
    result = choice(value, "side", INJURY_SIDES, {"l": "left", "r": "right"})
    if result is None:
        raise ValidationError(f"side is required: one of {', '.join(INJURY_SIDES)}")
    return result


def protocol(value: Any) -> str:
    result = choice(value or PROTOCOLS[0], "protocol", PROTOCOLS)
    assert result is not None
    return result


def sample_rate_hz(value: Any) -> float:
    rate = number(value, "sample rate")
    if not 0 < rate <= 100_000:
        raise ValidationError(f"sample rate {value} Hz is impossible: give it in Hz (e.g. 80)")
    return rate


ATHLETE_FIELDS = {
    "name": name,
    "external_id": lambda v: text_field(v, "external id", limit=100),
    "date_of_birth": date_of_birth,
    "sex": sex,
    "sport": lambda v: text_field(v, "sport"),
    "team": lambda v: text_field(v, "team"),
    "dominant_leg": dominant_leg,
    "lever_arm_m": lambda v: None if v is None or v == "" else lever_arm_m(v),
    "notes": notes,
}


def athlete_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate a set of athlete fields; unknown field names are refused by name."""
    unknown = sorted(set(changes) - set(ATHLETE_FIELDS))
    if unknown:
        raise ValidationError(
            f"unknown athlete field(s): {', '.join(unknown)} "
            f"(known: {', '.join(ATHLETE_FIELDS)}; body mass has its own history)"
        )
    return {key: ATHLETE_FIELDS[key](value) for key, value in changes.items()}
