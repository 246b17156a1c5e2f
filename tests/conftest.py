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
    # A short path: the server's Unix socket lives in this folder (107-byte limit).
    folder = Path(tempfile.mkdtemp(prefix="nspg-"))
    server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """The URL of a new, empty database on the session's server (dropped afterwards)."""
    import psycopg

    name = f"test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(pg_server)
    yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
