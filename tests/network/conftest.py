"""The session's PostgreSQL 16 (pgserver, tests/conftest.py) for the server's role
tests, and ``psql`` as each person.

pgserver's cluster trusts every local connection and listens on no TCP port;
:func:`role_server` rewrites its ``pg_hba.conf`` so that only ``postgres`` (the
administrator's URL, which the store's tests use) is trusted and every other
login must give its SCRAM password over the socket, then reloads the
configuration.  Roles belong to the whole cluster, so each test module uses its
own login names."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pgserver
import psycopg
import pytest

PSQL = Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql"


@dataclass(frozen=True)
class Server:
    url: str
    socket_dir: str

    def url_of(self, database: str) -> str:
        return self.url.replace("/postgres?", f"/{database}?")

    def psql(
        self, database: str, user: str, password: str, query: str
    ) -> subprocess.CompletedProcess[str]:
        """``psql`` as ``user`` over the socket with its password; rows as ``a|b`` lines."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGPASSWORD"] = password
        return subprocess.run(
            [str(PSQL), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "|"]
            + ["-h", self.socket_dir, "-U", user, "-d", database, "-c", query],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )


def store_schema(url: str) -> None:
    """The store's tables, made by the PostgreSQL backend's own opening."""
    from station.store.postgres.opening import prepare

    prepare(url)


@pytest.fixture(scope="session")
def role_server(pg_server: str) -> Server:
    """The session's PostgreSQL (tests/conftest.py) with password logins: only
    ``postgres`` stays trusted on the socket, every other login gives its SCRAM
    password."""
    socket_dir = parse_qs(urlsplit(pg_server).query)["host"][0]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        hba = conn.execute("SHOW hba_file").fetchone()[0]
        Path(hba).write_text(
            "local all postgres trust\nlocal all all scram-sha-256\n", encoding="utf-8"
        )
        conn.execute("SELECT pg_reload_conf()")
    return Server(url=pg_server, socket_dir=socket_dir)


@pytest.fixture(scope="session")
def new_database(role_server: Server) -> Callable[[str], str]:
    """Makes an empty database holding the store's tables; returns its admin URL."""

    def make(name: str) -> str:
        with psycopg.connect(role_server.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        url = role_server.url_of(name)
        store_schema(url)
        return url

    return make
