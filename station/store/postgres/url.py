"""Server addresses as the station shows them: never with a password."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from station.store.database_choice import masked

__all__ = ["masked", "server_of"]


def server_of(url: str) -> str:
    """The host (and port) of ``url`` for messages; a socket folder when given as ``host=``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        host = (parse_qs(parts.query).get("host") or ["localhost"])[0]
    return f"{host}:{parts.port}" if parts.port else host
