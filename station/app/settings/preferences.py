"""The clinic's preferences read from and written to the app's QSettings file.

What the preferences are, their defaults and their checks live in
:mod:`station.present.preferences` (no Qt), so the command line reads the same
file into the same values.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from station.app.shell.settings import AppSettings
from station.present.preferences import PREFIX, Preferences, from_values, validate


def load(settings: AppSettings) -> Preferences:
    """The saved preferences (defaults for anything missing or unreadable)."""
    return from_values(lambda key: settings.qsettings.value(key, None))


def save(settings: AppSettings, preferences: Preferences) -> None:
    """Write every preference (ValueError with a one-line message if one is invalid)."""
    problem = validate(preferences)
    if problem:
        raise ValueError(problem)
    for f in fields(Preferences):
        value = getattr(preferences, f.name)
        settings.set(
            PREFIX + f.name, "true" if value is True else "false" if value is False else value
        )
    settings.sync()


def preferred_data_dir(settings: AppSettings) -> Path | None:
    """The data folder chosen in the settings, for the app's start-up to use (None: default)."""
    folder = load(settings).data_folder
    return Path(folder).expanduser() if folder else None
