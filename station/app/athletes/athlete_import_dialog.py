"""Bring a squad or a study's participants in from a spreadsheet (issue 16, in the app).

The dry run of ``nordic-station athlete import`` as a table: every row of the
file with what would happen to it (added, changed, unchanged, refused and
why).  Import writes the whole file in one transaction, through the same
store calls as the command (``store.athlete_import.plan``,
``store.athlete_import.apply``); a file with any refused
row imports nothing, so the button stays off until the file is fixed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from station.app.shell import theme
from station.app.shell.dialogs import user_message

log = logging.getLogger(__name__)

TITLE = "Import athletes"
# How the table names each of the plan's actions.
ACTION_TEXT = {
    "add": "added",
    "change": "changed",
    "same": "unchanged",
    "empty": "blank, skipped",
    "refused": "refused",
}


class AthleteImportDialog(QDialog):
    """Choose a CSV, read its dry run, then import it all or nothing."""

    def __init__(self, store: Any, parent: QWidget | None = None, by: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.resize(820, 520)
        self.store = store
        self.by = by
        self.plan: Any = None
        self.imported: list[int] = []
        self.path = QLineEdit()
        self.path.setPlaceholderText("A CSV with a name column (and external id, team, …)")
        self.path.returnPressed.connect(lambda: self.load(self.path.text().strip()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Line", "What happens", "Details"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel("Choose a file: nothing is written until you press Import.")
        self.summary.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, TITLE, str(Path.home()), "CSV files (*.csv *.txt);;All files (*)"
        )
        if path:
            self.load(path)

    def load(self, path: str) -> None:
        """The dry run of ``path``: a table row per file row; a file that cannot be read
        at all is one line in the summary."""
        self.path.setText(path)
        self.plan = None
        self.table.setRowCount(0)
        self.import_button.setEnabled(False)
        try:
            plan = self.store.athlete_import.plan(path)
        except Exception as exc:  # noqa: BLE001 - a bad file is a message, never a crash
            self._say(f"Cannot read this file: {user_message(exc)}", error=True)
            return
        self.plan = plan
        self.table.setRowCount(len(plan.lines))
        for row, line in enumerate(plan.lines):
            cells = [str(line.line), ACTION_TEXT.get(line.action, line.action), line.detail]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if line.action == "refused":
                    item.setForeground(QColor(theme.DANGER))
                self.table.setItem(row, column, item)
        counts = self.counts()
        if plan.refused:
            self._say(
                f"{counts}. Nothing can be imported while a row is refused: fix or remove the "
                "refused rows in the file, then choose it again.",
                error=True,
            )
        elif plan.count("add") + plan.count("change") == 0:
            self._say(f"{counts}: nothing to import.")
        else:
            self._say(f"{counts}. Import writes them all in one go, or nothing.")
            self.import_button.setEnabled(True)

    def counts(self) -> str:
        plan = self.plan
        if plan is None:
            return ""
        return (
            f"{plan.count('add')} to add, {plan.count('change')} to change, "
            f"{plan.count('same')} unchanged, {len(plan.refused)} refused"
        )

    def apply(self) -> None:
        """Write the plan in one transaction; on a failure nothing is written."""
        if self.plan is None or self.plan.refused:
            return
        try:
            self.imported = list(self.store.athlete_import.apply(self.plan, by=self.by))
        except Exception as exc:  # noqa: BLE001 - shown; the transaction rolled back
            self._say(f"Nothing was imported: {user_message(exc)}", error=True)
            self.import_button.setEnabled(False)
            return
        log.info("athletes imported from a file: %d written", len(self.imported))
        self.accept()

    def _say(self, text: str, error: bool = False) -> None:
        self.summary.setText(text)
        self.summary.setStyleSheet(f"color: {theme.DANGER};" if error else "")
