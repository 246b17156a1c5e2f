"""Suite-wide safety: no test touches the real user data folder, and Qt runs offscreen.

Hypothesis runs under a profile chosen by the environment variable
HYPOTHESIS_PROFILE: "default" (what ``make test`` uses: few examples, so the
suite's time stays bounded) or "fuzz" (``make fuzz``: many more examples for
the tests marked ``fuzz``).  A test's own ``@settings`` keep their say on
everything but the number of examples.
"""

from __future__ import annotations

import os

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
