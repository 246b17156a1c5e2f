"""Suite-wide safety: no test touches the real user data folder, and Qt runs offscreen.

Hypothesis runs under a profile chosen by the environment variable
HYPOTHESIS_PROFILE: "default" (what ``make test`` uses: few examples, so the
suite's time stays bounded) or "fuzz" (``make fuzz``: many more examples for
the tests marked ``fuzz``).  A test's own ``@settings`` keep their say on
everything but the number of examples.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_SLOW_INPUTS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=_SLOW_INPUTS
)
settings.register_profile(
    "fuzz", max_examples=5_000, deadline=None, suppress_health_check=_SLOW_INPUTS
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point NORDIC_STATION_HOME at a fresh folder for every test."""
    home = tmp_path_factory.mktemp("station-home")
    monkeypatch.setenv("NORDIC_STATION_HOME", str(home))


# --- a real PostgreSQL for the store's tests on the server backend -------------------

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole session (pgserver: no installation needed),
    in a temporary folder and stopped at the end; yields its administrator URL.

    Without pgserver the tests that need it skip, except in CI (``CI=true``)
    where a missing server must not pass unnoticed.
    """
    try:
        import pgserver
    except ImportError as exc:
        message = f"pgserver is not installed ({exc}): pip install -e '.[test]'"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    # A short path (the server's Unix socket lives in this folder: 107-byte limit),
    # in memory where there is /dev/shm: on a slow disk, creating and removing the
    # files of a few hundred schemas takes a minute.
    shm = Path("/dev/shm")
    memory = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="nspg-", dir=memory))
    server = pgserver.get_server(folder, cleanup_mode="stop")
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        # A throw-away server: no fsync (a killed client is what the tests crash,
        # never this machine), so every commit costs microseconds.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            admin.execute(f"ALTER SYSTEM SET {setting} = off")
        admin.execute("SELECT pg_reload_conf()")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """The URL of a new, empty schema on the session's server: each test its own
    (``search_path`` in the URL), so tests never see each other's rows.  Schemas
    are left for the server's removal at the session's end (dropping costs more
    than creating)."""
    import psycopg

    name = f"test_{next(_databases)}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    parts = urlsplit(pg_server)
    query = f"{parts.query}&options=-csearch_path%3D{name}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
