"""Fixtures for the store's tests: a private data folder per test (never the
user's), a store opened in it, and virtual-rig captures made once per session."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from station.store import Athlete, SqliteStore, Store, open_store
from station.store.locations import ENV_VAR
from tests.store import synth


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str) -> Path:
    """NORDIC_STATION_HOME points into this test's tmp_path (every test runs once
    per engine: see :func:`engine`)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("NORDIC_STATION_HOME", str(folder))
    return folder


ENGINES = ("sqlite", "postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``sqlite_only`` (about the SQLite file itself) runs on SQLite
    alone; one marked ``postgres_only`` (about the server) on PostgreSQL alone."""
    kept, dropped = [], []
    for item in items:
        spec = getattr(item, "callspec", None)
        engine = spec.params.get("engine") if spec is not None else None
        other = {"postgres": "sqlite_only", "sqlite": "postgres_only"}.get(str(engine))
        (dropped if other and item.get_closest_marker(other) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which backend this run of the test uses.  On "postgres", every store opened
    in the test (the fixture's, a reopened one, the CLI's) is a new database on the
    session's server, through NORDIC_STATION_DATABASE."""
    if request.param == "postgres":
        monkeypatch.setenv(ENV_VAR, request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv(ENV_VAR, raising=False)
    return str(request.param)


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    with open_store(actor="tester") as opened:
        yield opened


@pytest.fixture
def athlete(store: Store) -> Athlete:
    return store.add_athlete(
        "Ada Lovelace",
        external_id="S01",
        body_mass_kg=62.5,
        lever_arm_m=0.42,
        team="U19",
        sport="football",
        dominant_leg="right",
        date_of_birth="2005-03-02",
        sex="female",
    )


@pytest.fixture(scope="session")
def capture_bytes() -> bytes:
    return synth.capture()


@pytest.fixture
def capture_file(tmp_path: Path, capture_bytes: bytes) -> Path:
    path = tmp_path / "session.bin"
    path.write_bytes(capture_bytes)
    return path


@pytest.fixture
def cert_file(tmp_path: Path) -> Path:
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(synth.certificate()))
    return path


class RawSql:
    """Another connection to a store's database, autocommitting each statement: a
    writer that is not the store's own code (``?`` placeholders on either engine)."""

    def __init__(self, store: Store) -> None:
        backend = store.backend
        if isinstance(backend, SqliteStore):
            self.engine = "sqlite"
            self._sqlite = sqlite3.connect(backend.path, isolation_level=None)
            self._conn: Any = self._sqlite
            self.integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
        else:
            import psycopg

            from station.store.postgres.connection import Adapter

            self.engine = "postgres"
            self._pg = psycopg.connect(backend.url, autocommit=True)  # type: ignore[attr-defined]
            self._conn = Adapter(self._pg)
            self.integrity_errors = (psycopg.IntegrityError,)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, params)

    def close(self) -> None:
        (self._sqlite if self.engine == "sqlite" else self._pg).close()


@pytest.fixture
def raw_sql(store: Store) -> Iterator[RawSql]:
    conn = RawSql(store)
    yield conn
    conn.close()
