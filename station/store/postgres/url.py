"""A server's address as messages name it (hiding a password is
:func:`station.store.database_choice.masked`'s job)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def server_of(url: str) -> str:
    """The host (and port) of ``url`` for messages; a socket folder when given as ``host=``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        host = (parse_qs(parts.query).get("host") or ["localhost"])[0]
    return f"{host}:{parts.port}" if parts.port else host
