"""The athletes screen's Import button: a NordBord trace, or athletes from a spreadsheet."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QMenu, QToolButton, QWidget

from station.app.athletes.athlete_import_dialog import AthleteImportDialog
from station.app.athletes.nordbord_import import NordbordImporter
from station.app.shell.context import AppContext


class ImportButton(QToolButton):
    """ "Import…" with a menu; owns the NordBord importer (its worker thread)."""

    def __init__(
        self, context: AppContext, parent: QWidget, refresh: Callable[[], None] | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.refresh = refresh
        self.setText("Import…")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.nordbord = NordbordImporter(context, parent)
        menu = QMenu(self)
        self.nordbord_action = menu.addAction("NordBord trace for this athlete…")
        self.nordbord_action.triggered.connect(self.nordbord.ask)
        self.athletes_action = menu.addAction("Athletes from a spreadsheet (CSV)…")
        self.athletes_action.triggered.connect(self.import_athletes)
        self.setMenu(menu)
        context.athlete_changed.connect(lambda a: self.nordbord_action.setEnabled(a is not None))
        self.nordbord_action.setEnabled(context.athlete is not None)

    def import_athletes(self) -> AthleteImportDialog:
        dialog = AthleteImportDialog(
            self.context.store, self.parentWidget(), by=self.context.operator or None
        )
        if dialog.exec() and dialog.imported:
            if self.refresh is not None:
                self.refresh()
            self.context.athletes_changed.emit()
            self.context.show_status(f"{len(dialog.imported)} athlete(s) imported", 8000)
        return dialog


def add_import_button(
    context: AppContext,
    parent: QWidget,
    row: QHBoxLayout,
    refresh: Callable[[], None] | None = None,
) -> ImportButton:
    """Put the Import button at the end of a screen's button row (``refresh``: reload the
    screen's athlete list after a bulk import)."""
    button = ImportButton(context, parent, refresh)
    row.addWidget(button)
    return button
