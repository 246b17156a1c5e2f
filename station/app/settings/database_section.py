"""Settings' "Database" section: which store the station opens at its next start.

Shows the store in use (a folder, a file, or a server's URL without its
password), lets the user choose a folder or type a PostgreSQL URL, and tests
a connection on a worker thread (the screen stays responsive while a server
does not answer).  What is saved never holds a password: libpq's
``PGPASSWORD`` or ``~/.pgpass`` supply it.  ``--database`` and
``NORDIC_STATION_DATABASE`` win over this choice (see :mod:`station.paths`).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from station.app.shell import theme
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.settings import AppSettings
from station.store import database_choice
from station.store.database_check import check_database

KEY = "station/database"
PLACEHOLDER = "the data folder's own (default)"
WIDE_EXAMPLE = "postgresql://clinician@clinic-server:5432/clinic"
EXPLANATION = (
    "A folder for a store on this computer, or postgresql://USER@HOST:PORT/DB for the "
    "clinic's server. The password is never saved: give it in PGPASSWORD or ~/.pgpass. "
    "A change is used from the next start."
)


def preferred_database(settings: AppSettings) -> str | None:
    """The database chosen in Settings (None: the data folder's own)."""
    value = settings.get_str(KEY).strip()
    return value or None


class DatabaseSection(QWidget):
    """The store in use, the one chosen for the next start, and "Test connection"."""

    checked = Signal(bool, str)  # from the worker thread: usable?, one line

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self._thread: threading.Thread | None = None
        heading = QLabel("Database")
        heading.setFont(theme.font(14, bold=True))
        self.in_use = QLabel(f"In use now: {context.store.location}")
        self.in_use.setWordWrap(True)
        self.in_use.setObjectName("caption")
        self.location = QLineEdit()
        self.location.setPlaceholderText(PLACEHOLDER)
        # Wide enough for a typical server address or the placeholder, whichever is longer.
        widest = max(PLACEHOLDER, WIDE_EXAMPLE, key=self.location.fontMetrics().horizontalAdvance)
        self.location.setMinimumWidth(self.location.fontMetrics().horizontalAdvance(widest) + 24)
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self.ask_folder)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel()
        self.result.setWordWrap(True)
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        explanation.setObjectName("caption")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.location, 1)
        row.addWidget(choose)
        row.addWidget(self.test_button)
        label = QLabel("Store")
        label.setFont(theme.font(12, bold=True))
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 8, 0, 0)
        grid.setHorizontalSpacing(18)
        grid.addWidget(heading, 0, 0, 1, 2)
        grid.addWidget(label, 1, 0)
        grid.addLayout(row, 1, 1)
        grid.addWidget(explanation, 2, 1)
        grid.addWidget(self.in_use, 3, 1)
        grid.addWidget(self.result, 4, 1)
        grid.setColumnStretch(1, 1)
        self.checked.connect(self._show_check)

    def load(self) -> None:
        self.location.setText(preferred_database(self.context.settings) or "")
        self.result.clear()

    def problem(self) -> str | None:
        """What is wrong with the location typed (its form only), if anything."""
        typed = self.location.text().strip()
        if not typed:
            return None
        try:
            database_choice.parse(typed)
        except database_choice.LocationError as exc:
            return f"database: {database_choice.scrub(str(exc), typed)}"
        return None

    def save(self) -> str:
        """Keep the choice (without a password); the note for the "Saved" banner.

        ValueError (one line) when the location cannot be used at all.
        """
        problem = self.problem()
        if problem:
            raise ValueError(problem)
        typed = self.location.text().strip()
        before = preferred_database(self.context.settings)
        kept = database_choice.without_password(typed) if typed else None
        if kept is None:
            self.context.settings.remove(KEY)
        else:
            self.context.settings.set(KEY, kept)
        self.context.settings.sync()
        self.location.setText(kept or "")
        note = " The new database is used from the next start." if kept != before else ""
        if kept != typed and typed:
            note += " Its password was not saved: give it in PGPASSWORD or ~/.pgpass."
        return note

    def ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Database folder", str(self.context.data_dir)
        )
        if folder:
            self.location.setText(folder)

    def test_connection(self) -> None:
        """Check the location typed, on a worker thread; the answer shows under it."""
        if self._thread is not None and self._thread.is_alive():
            return
        typed = self.location.text().strip() or str(self.context.data_dir)
        self.test_button.setEnabled(False)
        self.result.setText(f"Testing {database_choice.masked(typed)}…")
        folder = Path(self.context.data_dir)
        self._thread = threading.Thread(
            target=self._check, args=(typed, folder), name="station-db-check", daemon=True
        )
        self._thread.start()

    def _check(self, typed: str, folder: Path) -> None:
        try:
            message = check_database(typed, folder)
        except Exception as exc:  # noqa: BLE001 - shown on the screen, never lost in a thread
            self.checked.emit(False, database_choice.scrub(user_message(exc), typed))
            return
        self.checked.emit(True, message)

    def _show_check(self, ok: bool, message: str) -> None:
        self.test_button.setEnabled(True)
        self.result.setText(message if ok else f"Cannot be used: {message}")
        self.result.setObjectName("caption" if ok else "error")

    def wait(self, timeout: float | None = None) -> None:
        """Let a running check finish (closing the screen, tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
