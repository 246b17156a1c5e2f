"""Import a NordBord CSV trace for the chosen athlete (issue 16 §1, in the app).

The same store call as ``nordic-station test import-nordbord``
(:meth:`~station.store.Store.import_test`, after the same check that the file
is a trace at all), run off the GUI thread: analysing a long trace takes a
moment.  It is analysed with the clinic's analysis settings (Preferences), as
a live test, a recovered one and a saved replay are.  A bad file is one line
in a dialog naming the line that is wrong, and nothing is saved; a good one is
saved as a test and shown on the Results screen.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from firmware_bridge import nordbord
from firmware_bridge.errors import InputError
from station.analysis import AnalysisSettings
from station.app.shell import dialogs
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.tasks import TaskRunner

log = logging.getLogger(__name__)

TITLE = "Import NordBord trace"
HEAD_BYTES = 4096


def import_trace(
    store: Any,
    athlete_id: int,
    path: str | Path,
    *,
    notes: str = "",
    operator: str = "",
    settings: AnalysisSettings | None = None,
) -> Any:
    """Store a NordBord trace as a test of ``athlete_id`` (what the CLI command does),
    analysed with ``settings`` (None: the defaults).

    A file that is not a trace raises the decoder's one line (the column or
    line that is wrong); the store refuses a bad trace before writing anything.
    """
    path = Path(path)
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        if not nordbord.is_trace(head):
            nordbord.to_text_dialect(head, str(path))  # raises, naming what is wrong
            raise InputError(f"{path} is not a NordBord trace export")
    return store.new_tests.import_file(
        athlete_id, path, operator=operator or None, notes=notes or None, settings=settings
    )


class NordbordImportDialog(QDialog):
    """Which file, and a note; the import itself runs when the dialog is accepted."""

    def __init__(self, athlete_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.path = QLineEdit()
        self.path.setPlaceholderText("The CSV trace NordBord exported")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.notes = QLineEdit()
        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Notes", self.notes)
        explain = QLabel(
            f"The trace is saved as a test of {athlete_name}, analysed by this station's "
            "definitions (not NordBord's); the file is kept as it is."
        )
        explain.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, TITLE, str(Path.home()), "CSV files (*.csv *.txt);;All files (*)"
        )
        if path:
            self.path.setText(path)


class NordbordImporter(QObject):
    """Asks for a trace, imports it on a worker thread, then shows the new test."""

    def __init__(self, context: AppContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.widget = parent
        self.tasks = TaskRunner("station-import", self)
        self.last_test_id: int | None = None

    def ask(self) -> None:
        """The dialog for the chosen athlete (nothing happens without one)."""
        athlete = self.context.athlete
        if athlete is None:
            dialogs.show_warning(self.widget, TITLE, "Choose an athlete first.")
            return
        dialog = NordbordImportDialog(athlete.name, self.widget)
        if not dialog.exec():
            return
        path = dialog.path.text().strip()
        if not path:
            dialogs.show_error(self.widget, TITLE, "No file chosen: choose the CSV trace.")
            return
        self.start(athlete, path, dialog.notes.text().strip())

    def start(self, athlete: Any, path: str, notes: str = "") -> None:
        """Import ``path`` for ``athlete`` off the GUI thread, analysed with the clinic's
        settings (read now; settings that cannot be used stop the import and say so)."""
        try:
            settings = self.context.analysis_settings()
        except ValueError as exc:
            dialogs.show_error(
                self.widget,
                TITLE,
                f"Nothing was imported: the analysis settings cannot be used "
                f"({user_message(exc)}): correct them on the Settings screen, then import again.",
            )
            return
        store, operator = self.context.store, self.context.operator
        self.context.show_status(f"Importing {Path(path).name}…", 0)
        self.tasks.submit(
            lambda: import_trace(
                store, athlete.id, path, notes=notes, operator=operator, settings=settings
            ),
            self._saved,
            self._failed,
        )

    def _saved(self, test: Any) -> None:
        test_id = int(test.id)
        self.last_test_id = test_id
        log.info("NordBord trace imported as test %d", test_id)
        self.context.current_test_id = test_id
        self.context.test_saved.emit(test_id)
        warnings = "; ".join(getattr(test, "warnings", []) or [])
        self.context.show_status(
            f"NordBord trace saved as test {test_id}" + (f" ({warnings})" if warnings else ""),
            8000,
        )
        self.context.navigate.emit("results")

    def _failed(self, exc: BaseException) -> None:
        self.context.show_status("", 1)
        dialogs.show_error(self.widget, TITLE, f"Nothing was imported: {user_message(exc)}")
