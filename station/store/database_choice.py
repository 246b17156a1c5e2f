"""Which database a store opens, as the user typed it: a folder, an SQLite file or a server.

``--database LOCATION`` (any command), ``NORDIC_STATION_DATABASE`` and the
app's Settings give one of:

- a folder: the embedded SQLite store in it (``nordic-station.sqlite3``), as
  the data folder holds by default;
- ``sqlite:///PATH``: that SQLite file (``PATH`` as written after the three
  slashes: ``sqlite:////srv/ns.sqlite3`` is absolute, ``sqlite:///ns.sqlite3``
  relative to the working folder);
- ``postgresql://USER@HOST:PORT/DB`` (or ``postgres://``): a PostgreSQL server.

Passwords follow libpq (``PGPASSWORD``, ``~/.pgpass``, or in the URL); the
station never shows, logs or saves one: :func:`masked` is what messages and
logs show, :func:`without_password` what preferences keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from station.store.errors import StoreError

POSTGRES_SCHEMES = ("postgresql", "postgres")
SQLITE_PREFIX = "sqlite:///"
MASK = "***"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_USERINFO_PASSWORD = re.compile(r"(://[^/@:]*:)[^@/]*@")
_QUERY_PASSWORD = re.compile(r"((?:^|[?&])password=)[^&#]*", re.IGNORECASE)
EXAMPLES = "a folder, sqlite:///FILE or postgresql://USER@HOST:PORT/DB"


class LocationError(StoreError):
    """A database location that cannot be used (unknown kind, a file for a folder...)."""


@dataclass(frozen=True)
class Location:
    """A parsed location: ``kind`` is "folder", "sqlite" or "postgresql"."""

    kind: str
    text: str
    path: Path | None = None  # the folder or file of an embedded store

    @property
    def shown(self) -> str:
        """The location as messages and logs may show it (no password)."""
        return masked(self.text)


def parse(text: str) -> Location:
    """Check a location's form (nothing is opened or created here)."""
    value = text.strip()
    if not value:
        raise LocationError(f"the database location is empty: give {EXAMPLES}")
    match = _SCHEME.match(value)
    if match is None:
        folder = Path(value).expanduser()
        if folder.exists() and not folder.is_dir():
            raise LocationError(
                f"database folder {folder} is a file, not a folder: give a folder, or "
                f"{SQLITE_PREFIX}{folder} for an SQLite database file"
            )
        return Location("folder", value, folder)
    scheme = match.group(1).lower()
    if scheme in POSTGRES_SCHEMES:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            raise LocationError(
                f"{masked(value)} is not a PostgreSQL URL: write postgresql://USER@HOST:PORT/DB"
            ) from None
        return Location("postgresql", value)
    if scheme == "sqlite":
        if not value.startswith(SQLITE_PREFIX) or not value[len(SQLITE_PREFIX) :]:
            raise LocationError(
                f"{value!r} names no file: write {SQLITE_PREFIX}PATH "
                f"(e.g. {SQLITE_PREFIX}station.sqlite3, or sqlite:////srv/station.sqlite3)"
            )
        file = Path(value[len(SQLITE_PREFIX) :]).expanduser()
        if file.is_dir():
            raise LocationError(
                f"{file} is a folder, not a database file: give the folder itself "
                f"(without {SQLITE_PREFIX}) or a file inside it"
            )
        return Location("sqlite", value, file)
    raise LocationError(
        f"unknown kind of database {scheme}:// in {masked(value)!r}: give {EXAMPLES}"
    )


def is_server(location: str | None) -> bool:
    """Whether ``location`` names a database server (not a folder or file here)."""
    return bool(location) and parse(str(location)).kind == "postgresql"


def masked(text: str) -> str:
    """``text`` with any password replaced by ``***`` (in the user part or ``?password=``)."""
    out = _USERINFO_PASSWORD.sub(lambda m: m.group(1) + MASK + "@", text)
    return _QUERY_PASSWORD.sub(lambda m: m.group(1) + MASK, out)


def without_password(text: str) -> str:
    """A location with any password left out: what the station may save."""
    value = text.strip()
    match = _SCHEME.match(value)
    if match is None or match.group(1).lower() not in POSTGRES_SCHEMES:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return masked(value)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = user.split(":", 1)[0] + "@" + host
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"],
        safe="/",  # host=/run/postgresql stays readable
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(message: str, location: str) -> str:
    """``message`` without the password written in ``location`` (as typed or decoded)."""
    password = password_of(location)
    if not password:
        return message
    for secret in {password, unquote(password)}:
        message = message.replace(secret, MASK)
    return message


def password_of(text: str) -> str | None:
    """The password written in a location, if any (to scrub it from messages)."""
    match = _SCHEME.match(text.strip())
    if match is None or match.group(1).lower() not in POSTGRES_SCHEMES:
        return None
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return None
    if parts.password:
        return parts.password
    for key, value in parse_qsl(parts.query):
        if key == "password" and value:
            return value
    return None
