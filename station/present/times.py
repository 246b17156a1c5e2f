"""Times as the clinic reads them: stored in UTC, shown in the local time zone.

The store keeps every instant in UTC ("2026-06-15T09:00:00.000Z"); screens and
reports show them in the station's local zone with the zone's abbreviation, so
"11:00 CEST" is never mistaken for the UTC figure.  The zone is the system's
unless ``NORDIC_STATION_TZ`` names one (an IANA name, e.g. Europe/Oslo).
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from station.present.history_data import parse_instant

TZ_ENV = "NORDIC_STATION_TZ"


def local_zone() -> dt.tzinfo | None:
    """The zone to show times in (None: the system's local zone)."""
    name = os.environ.get(TZ_ENV, "").strip()
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return None


def local(instant: str | dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    """A stored instant (or an aware datetime) in the local zone."""
    value = parse_instant(instant) if isinstance(instant, str) else instant
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone or local_zone())


def when_text(instant: str | dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """ "2026-06-15 11:00 CEST": date, time and the zone's name."""
    value = local(instant, zone)
    return f"{value:%Y-%m-%d %H:%M} {value.tzname() or ''}".rstrip()


def day_text(instant: str | dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """ "2026-06-15": the local date."""
    return f"{local(instant, zone):%Y-%m-%d}"


def time_text(instant: str | dt.datetime, zone: dt.tzinfo | None = None) -> str:
    """ "2026-06-15 11:00" (for tables whose header names the zone)."""
    return f"{local(instant, zone):%Y-%m-%d %H:%M}"


def zone_name(zone: dt.tzinfo | None = None) -> str:
    """The local zone's abbreviation now, e.g. "CEST"."""
    return dt.datetime.now(dt.UTC).astimezone(zone or local_zone()).tzname() or "local time"
