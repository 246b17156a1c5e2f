"""Start the desktop app: QApplication, theme, store, rig connection, main window.

``build_window`` does everything but run the event loop, so tests and the
benchmark get the same window the user gets (with their own data folder and
settings file).

Which data folder (first match wins): ``--data-dir``, then
``NORDIC_STATION_HOME`` (both as :mod:`station.paths`), then the data folder
chosen on the Settings screen, then the platform's user data folder.  The
settings file stays in the folder where the preferences were read, so a
chosen data folder keeps the clinic's preferences with it; a chosen folder
that cannot be used falls back to the default one with a warning, so the
app always starts and the setting can be corrected.

Which database (first match wins): ``--database``, then
``NORDIC_STATION_DATABASE`` (both as :func:`station.paths.database_location`),
then the one chosen in Settings' "Database" section, then the data folder's
own.  A database chosen in Settings that cannot be opened falls back to the
data folder's own with a warning, as a chosen folder does.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from firmware_bridge.errors import InputError, NordicError
from station import paths
from station.app.live.recovery import offer_recovery
from station.app.live.test_run import TestRun
from station.app.rig.acquisition import Acquisition
from station.app.settings import preferences
from station.app.settings.database_section import preferred_database
from station.app.shell import theme, wheel_guard
from station.app.shell.context import AppContext
from station.app.shell.dialogs import install_excepthook, show_error, show_warning, user_message
from station.app.shell.main_window import MainWindow
from station.app.shell.settings import AppSettings
from station.store import Store, open_store

APPLICATION_NAME = "Nordic Station"
ORGANISATION_NAME = "Nordic Station"


def application(argv: Sequence[str] | None = None) -> QApplication:
    """The one QApplication, created and themed on first use."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
        app.setApplicationName(APPLICATION_NAME)
        app.setOrganizationName(ORGANISATION_NAME)
    theme.apply_theme(app)  # type: ignore[arg-type]
    theme.configure_pyqtgraph()
    wheel_guard.install(app)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "") or "operator"


def start_folders(
    data_dir: str | os.PathLike[str] | None = None,
    settings_path: str | os.PathLike[str] | None = None,
) -> tuple[Path, AppSettings, str | None]:
    """The data folder (created), the settings, and a warning to show, if any.

    See the module docstring for the order; ``settings_path`` (tests) overrides where
    the settings file is.
    """
    explicit = (data_dir is not None and str(data_dir) != "") or bool(os.environ.get(paths.ENV_VAR))
    home = paths.ensure_data_dir(data_dir)
    settings = AppSettings(settings_path) if settings_path else AppSettings.in_folder(home)
    if explicit:
        return home, settings, None
    chosen = preferences.preferred_data_dir(settings)
    if chosen is None or chosen == home:
        return home, settings, None
    try:
        return paths.ensure_data_dir(chosen), settings, None
    except InputError as exc:
        return (
            home,
            settings,
            f"The data folder chosen in Settings cannot be used ({exc}); using {home} for now.",
        )


def open_chosen_store(
    folder: Path, settings: AppSettings, database: str | None, operator: str
) -> tuple[Store, str | None]:
    """The store (see the module docstring for the order), and a warning to show, if any."""
    explicit = paths.database_location(database)
    if explicit is not None:
        return open_store(folder, database=explicit, actor=operator), None
    chosen = preferred_database(settings)
    if chosen is None:
        return open_store(folder, actor=operator), None
    try:
        return open_store(folder, database=chosen, actor=operator), None
    except (NordicError, OSError) as exc:
        return (
            open_store(folder, actor=operator),
            f"The database chosen in Settings cannot be used ({user_message(exc)}); "
            f"using the one in {folder} for now.",
        )


def build_window(
    data_dir: str | os.PathLike[str] | None = None,
    settings_path: str | os.PathLike[str] | None = None,
    *,
    database: str | None = None,
    install_hook: bool = True,
) -> MainWindow:
    """The main window over the data folder (created if missing) and its settings.

    ``install_hook`` puts in the excepthook that shows unexpected errors in a
    dialog (tests leave pytest-qt's own hook in place, so a bug fails them).
    """
    application()
    folder, settings, warning = start_folders(data_dir, settings_path)
    operator = _operator()
    store, store_warning = open_chosen_store(folder, settings, database, operator)
    warning = " ".join(w for w in (warning, store_warning) if w) or None
    acquisition = Acquisition(store)
    context = AppContext(folder, settings, store, acquisition, operator=operator)
    context.test_run = TestRun(store, acquisition, operator, context.analysis_settings)
    window = MainWindow(context)
    window.start_warning = warning
    if warning:
        context.show_status(warning, 0)
    if install_hook:
        install_excepthook(lambda: window)
    return window


def run(data_dir: str | os.PathLike[str] | None = None, database: str | None = None) -> int:
    """Run the app until its window closes; the exit status."""
    app = application()
    try:
        window = build_window(data_dir, database=database)
    except Exception as exc:  # noqa: BLE001 - one dialog, never a traceback at start-up
        show_error(None, "Nordic Station cannot start", user_message(exc))
        return 2
    window.show()
    if window.start_warning:
        QTimer.singleShot(0, lambda: show_warning(window, "Data folder", window.start_warning))
    QTimer.singleShot(0, lambda: offer_recovery(window, window.context))
    status = int(app.exec())
    window.context.store.close()
    return status
