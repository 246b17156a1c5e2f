"""Suite-wide safety: no test touches the real user data folder, and Qt runs offscreen."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point NORDIC_STATION_HOME at a fresh folder for every test."""
    home = tmp_path_factory.mktemp("station-home")
    monkeypatch.setenv("NORDIC_STATION_HOME", str(home))
