"""Server addresses as the station shows them: never with a password."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit, urlunsplit


def masked(url: str) -> str:
    """``url`` with its password (in the address or as ``password=``) replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = "&".join(
        f"{key}=***" if key.lower() == "password" else f"{key}={value}"
        for key, values in parse_qs(parts.query, keep_blank_values=True).items()
        for value in values
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def server_of(url: str) -> str:
    """The host (and port) of ``url`` for messages; a socket folder when given as ``host=``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        host = (parse_qs(parts.query).get("host") or ["localhost"])[0]
    return f"{host}:{parts.port}" if parts.port else host
