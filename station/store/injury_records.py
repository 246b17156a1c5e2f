"""Injuries as structured records: side, date, muscle or region, grade, return to play.

A note that mentions an injury is not an injury record: the history plot and the
reports place injuries by their date and say which muscle, how bad and when the
athlete returned.  The regions offered are the hamstring muscles; the grade is
free but short (the British Athletics Muscle Injury Classification writes "2b",
older scales "1"-"3").  Values are checked here, once, for every caller.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from station.store import validate
from station.store.errors import ValidationError

REGIONS = (
    "biceps femoris (long head)",
    "biceps femoris (short head)",
    "semitendinosus",
    "semimembranosus",
    "hamstring (unspecified)",
    "other",
)
MAX_GRADE = 10
MAX_REGION = 60


def region(value: Any) -> str:
    """A muscle or region ("" when not known)."""
    text = validate.text_field(value, "injury region") or ""
    if len(text) > MAX_REGION:
        raise ValidationError(f"injury region is longer than {MAX_REGION} characters")
    return text


def grade(value: Any) -> str | None:
    """A grade such as "1", "2b" or "3c" (None when not known)."""
    text = validate.text_field(value, "injury grade")
    if text and len(text) > MAX_GRADE:
        raise ValidationError(
            f"injury grade {text!r} is too long: write it as on the scan report, e.g. 2b"
        )
    return text or None


def return_to_play(value: Any, occurred_on: date | None) -> date | None:
    """The day the athlete returned to full play: not in the future, not before the injury."""
    if value is None or str(value).strip() == "":
        return None
    day = validate.past_date(value, "return to play")
    if occurred_on is not None and day < occurred_on:
        raise ValidationError(
            f"return to play {day.isoformat()} is before the injury "
            f"({occurred_on.isoformat()}): check the dates"
        )
    return day
