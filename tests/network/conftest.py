"""A real PostgreSQL 16 (pgserver) for the server's role tests, and ``psql`` as each person.

pgserver's cluster trusts every local connection and listens on no TCP port; the
fixture rewrites its ``pg_hba.conf`` so that only ``postgres`` (the administrator's
URL) is trusted and every other login must give its SCRAM password over the
socket, then reloads the configuration.  Roles belong to the whole cluster, so
each test module uses its own login names."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pgserver = pytest.importorskip("pgserver")
psycopg = pytest.importorskip("psycopg")

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
def pg_server() -> Iterator[Server]:
    folder = tempfile.mkdtemp(prefix="nw_pg_", dir="/tmp")
    os.chmod(folder, 0o755)
    server = pgserver.get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as conn:
        hba = conn.execute("SHOW hba_file").fetchone()[0]
        Path(hba).write_text(
            "local all postgres trust\nlocal all all scram-sha-256\n", encoding="utf-8"
        )
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield Server(url=url, socket_dir=folder)
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def new_database(pg_server: Server) -> Callable[[str], str]:
    """Makes an empty database holding the store's tables; returns its admin URL."""

    def make(name: str) -> str:
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        url = pg_server.url_of(name)
        store_schema(url)
        return url

    return make
