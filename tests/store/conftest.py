"""Fixtures for the store's tests: a private data folder per test (never the
user's), a store opened in it, and virtual-rig captures made once per session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.store import Athlete, Store, open_store
from tests.store import synth


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """NORDIC_STATION_HOME points into this test's tmp_path."""
    folder = tmp_path / "home"
    monkeypatch.setenv("NORDIC_STATION_HOME", str(folder))
    return folder


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    with open_store(actor="tester") as opened:
        yield opened


@pytest.fixture
def athlete(store: Store) -> Athlete:
    return store.athletes.add(
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
