"""What the app remembers between runs: window geometry, last port, last athlete.

Settings live in an INI file inside the data folder (``settings.ini``), so one
folder holds everything a clinic backs up and a test that points
``NORDIC_STATION_HOME`` (or ``--data-dir``) at a temporary folder can never
touch a real user's settings.  A test may also pass its own file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from station.present.preferences import SETTINGS_FILE

KEY_GEOMETRY = "window/geometry"
KEY_WINDOW_STATE = "window/state"
KEY_SCREEN = "window/screen"
KEY_LAST_PORT = "connect/last_port"
KEY_LAST_KIND = "connect/last_kind"
KEY_LAST_REPLAY = "connect/last_replay"
KEY_LAST_ATHLETE = "athletes/last_id"
KEY_PLOT_SECONDS = "live/plot_seconds"
KEY_OPERATOR = "test/operator"


class AppSettings:
    """Typed access to a QSettings INI file (QSettings returns strings from INI files)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    @classmethod
    def in_folder(cls, folder: Path) -> AppSettings:
        return cls(folder / SETTINGS_FILE)

    @property
    def qsettings(self) -> QSettings:
        """The underlying QSettings, for screens that want their own keys."""
        return self._qs

    def get_str(self, key: str, default: str = "") -> str:
        value = self._qs.value(key, default)
        return default if value is None else str(value)

    def get_int(self, key: str, default: int | None = None) -> int | None:
        value = self._qs.value(key, None)
        try:
            return default if value in (None, "") else int(value)
        except (TypeError, ValueError):
            return default

    def get_float(self, key: str, default: float) -> float:
        value = self._qs.value(key, None)
        try:
            return default if value in (None, "") else float(value)
        except (TypeError, ValueError):
            return default

    def get_bytes(self, key: str) -> QByteArray | None:
        value = self._qs.value(key, None)
        return value if isinstance(value, QByteArray) else None

    def set(self, key: str, value: Any) -> None:
        self._qs.setValue(key, value)

    def remove(self, key: str) -> None:
        self._qs.remove(key)

    def sync(self) -> None:
        """Write to disk now (QSettings otherwise writes lazily)."""
        self._qs.sync()
