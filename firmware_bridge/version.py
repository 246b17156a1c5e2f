"""The installed ``nordic-station`` version: pyproject.toml is its one source."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "nordic-station"


@cache
def package_version() -> str:
    """pyproject.toml's version as installed; ``0+unknown`` when run from an uninstalled tree."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
