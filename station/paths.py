"""Where the station keeps its data.

One folder holds everything an athlete's results depend on (the database, the
recordings of tests in progress, backups made before schema upgrades), so a
clinic backs up one folder.  Resolution order, first match wins:

1. an explicit folder (``--data-dir DIR`` on the command line),
2. the ``NORDIC_STATION_HOME`` environment variable (tests set it to a
   temporary folder so they never touch the real one),
3. the platform's user data folder, ``platformdirs.user_data_dir("nordic-station")``.

The database is the data folder's own SQLite file unless another is chosen
(:func:`database_location`): ``--database LOCATION``, then the
``NORDIC_STATION_DATABASE`` environment variable (a folder, ``sqlite:///FILE``
or ``postgresql://USER@HOST:PORT/DB``; see ``station.store.database_choice``).
The data folder still holds the logs, settings and tests in progress.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

from firmware_bridge.errors import InputError

APP_NAME = "nordic-station"
ENV_VAR = "NORDIC_STATION_HOME"
DATABASE_ENV_VAR = "NORDIC_STATION_DATABASE"
DATABASE_NAME = "nordic-station.sqlite3"
IN_PROGRESS = "in-progress"
DISCARDED = "discarded"
BACKUPS = "backups"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data folder to use (not created here: see :func:`ensure_data_dir`)."""
    if override is not None and str(override) != "":
        return Path(override).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs  # only here: ~5 ms of every command's start-up otherwise

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def __getattr__(name: str) -> ModuleType:
    """``paths.platformdirs``, loaded when first asked for (tests patch it)."""
    if name == "platformdirs":
        import platformdirs

        return platformdirs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def database_location(option: str | None = None) -> str | None:
    """The database chosen: ``--database`` (``option``, even when empty: it is then
    refused as such), else ``NORDIC_STATION_DATABASE``, else None (the data folder's)."""
    if option is not None:
        return option
    env = os.environ.get(DATABASE_ENV_VAR)
    return env if env and env.strip() else None


def ensure_data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Create the data folder (owner-only where the platform allows) and return it.

    A path that exists but is not a folder is refused rather than replaced.
    """
    folder = data_dir(path)
    if folder.exists() and not folder.is_dir():
        raise InputError(
            f"data folder {folder} exists but is not a folder: pass another --data-dir"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InputError(f"cannot create data folder {folder}: {exc.strerror or exc}") from None
    return folder


def database_path(folder: Path) -> Path:
    return folder / DATABASE_NAME


def in_progress_dir(folder: Path) -> Path:
    """Recordings of tests not yet committed (what crash recovery looks at)."""
    return folder / IN_PROGRESS


def discarded_dir(folder: Path) -> Path:
    """Partial recordings the user chose not to keep: moved here, never deleted."""
    return folder / DISCARDED


def backups_dir(folder: Path) -> Path:
    """Copies of the database taken before each schema upgrade."""
    return folder / BACKUPS
