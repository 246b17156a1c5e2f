"""Settings: every preference with a one-line explanation beside it, saved with QSettings.

The analysis settings (filter cut-off, impulse and rep thresholds) become
the :class:`~station.analysis.AnalysisSettings` that new results are computed
and stored with; the others change what the screens show (unit, lines, MDC)
or what the station writes (certificate validity).  This screen also puts the
"Tester tools" menu on the main window when testers ask for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from station.app.rig import tester_tools
from station.app.settings import preferences
from station.app.settings.database_section import DatabaseSection
from station.app.settings.lsl_setting import LslSetting
from station.app.shell import theme
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import Screen, register_screen
from station.app.shell.widgets import Banner, screen_title
from station.present import preferences as present_preferences
from station.present.formulas import FORMULA_NAMES
from station.present.preferences import Preferences
from station.present.units import UNITS


def _spin(low: float, high: float, decimals: int, suffix: str, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSuffix(f" {suffix}")
    box.setMinimumWidth(160)
    return box


@register_screen(order=90)
class SettingsScreen(Screen):
    """The clinic's preferences."""

    key = "settings"
    title = "Settings"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.editors: dict[str, QWidget] = {}
        self.unit = QComboBox()
        for symbol, unit in UNITS.items():
            self.unit.addItem(unit.name, symbol)
        self.lever_arm = _spin(0.10, 1.00, 2, "m", 0.01)
        self.references = QComboBox()
        self.references.addItem(
            "the athlete's sport (all lines if none match)", present_preferences.REFERENCES_BY_SPORT
        )
        for population in present_preferences.populations():
            self.references.addItem(f"{population} only", population)
        self.references.addItem("all lines", present_preferences.REFERENCES_ALL)
        self.references.addItem("none", present_preferences.REFERENCES_NONE)
        self.cutoff = _spin(1.0, 50.0, 1, "Hz", 0.5)
        self.impulse = _spin(1.0, 200.0, 0, "N", 1.0)
        self.rep_threshold = _spin(11.0, 500.0, 0, "N", 1.0)
        self.mdc = _spin(1.0, 500.0, 1, "N", 0.1)
        self.valid_days = QSpinBox()
        self.valid_days.setRange(1, 3650)
        self.valid_days.setSuffix(" days")
        self.valid_days.setMinimumWidth(160)
        self.clinic_name = QLineEdit()
        self.clinic_name.setPlaceholderText("e.g. Northside Sports Clinic")
        self.clinic_logo = QLineEdit()
        self.clinic_logo.setPlaceholderText("no logo")
        logo_button = QPushButton("Choose…")
        logo_button.clicked.connect(self._choose_logo)
        logo_row = QWidget()
        logo_layout = QHBoxLayout(logo_row)
        logo_layout.setContentsMargins(0, 0, 0, 0)
        logo_layout.addWidget(self.clinic_logo, 1)
        logo_layout.addWidget(logo_button)
        self.data_folder = QLineEdit()
        self.data_folder.setPlaceholderText(f"default: {context.data_dir}")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self.ask_folder)
        folder_row = QWidget()
        folder_layout = QHBoxLayout(folder_row)
        folder_layout.setContentsMargins(0, 0, 0, 0)
        folder_layout.addWidget(self.data_folder, 1)
        folder_layout.addWidget(browse)
        self.tester_tools = QCheckBox("show the Tester tools menu")
        self.asymmetry = QComboBox()
        for formula, name in FORMULA_NAMES.items():
            self.asymmetry.addItem(f"{name} ({formula})", formula)
        self.editors = {
            "display_unit": self.unit,
            "lever_arm_m": self.lever_arm,
            "references": self.references,
            "cutoff_hz": self.cutoff,
            "impulse_threshold_n": self.impulse,
            "rep_threshold_n": self.rep_threshold,
            "mdc_n": self.mdc,
            "asymmetry_formula": self.asymmetry,
            "certificate_valid_days": self.valid_days,
            "data_folder": folder_row,
            "clinic_name": self.clinic_name,
            "clinic_logo": logo_row,
            "show_tester_tools": self.tester_tools,
        }
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(10)
        groups = {
            "display_unit": "Display",
            "cutoff_hz": "Analysis (stored with every new result)",
            "mdc_n": "History and calibration",
            "data_folder": "Station",
            "clinic_name": "Reports",
        }
        row = 0
        for preference in present_preferences.PREFERENCES:
            if preference.name in groups:
                heading = QLabel(groups[preference.name])
                heading.setFont(theme.font(14, bold=True))
                grid.addWidget(heading, row, 0, 1, 3)
                row += 1
            label = QLabel(preference.label)
            label.setFont(theme.font(12, bold=True))
            explanation = QLabel(preference.explanation)
            explanation.setWordWrap(True)
            explanation.setObjectName("caption")
            grid.addWidget(label, row, 0)
            grid.addWidget(self.editors[preference.name], row, 1)
            grid.addWidget(explanation, row, 2)
            row += 1
        grid.addWidget(LslSetting(context), row, 0, 1, 3)
        grid.setColumnStretch(2, 1)
        grid.setColumnMinimumWidth(1, 260)
        self.database = DatabaseSection(context)
        form = QWidget()
        form_layout = QVBoxLayout(form)
        form_layout.setContentsMargins(0, 0, 0, 0)
        form_layout.addLayout(grid)
        form_layout.addWidget(self.database)
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form)

        self.banner = Banner()
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        revert = QPushButton("Undo changes")
        revert.clicked.connect(self.load)
        defaults = QPushButton("Defaults")
        defaults.clicked.connect(lambda: self.show_preferences(Preferences()))
        buttons = QHBoxLayout()
        buttons.addWidget(defaults)
        buttons.addStretch(1)
        buttons.addWidget(revert)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(screen_title("Settings"))
        layout.addWidget(self.banner)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.load()
        QTimer.singleShot(0, self._install_tester_menu)

    # -- values --------------------------------------------------------------------------
    def load(self) -> None:
        """Show the saved preferences."""
        self.show_preferences(preferences.load(self.context.settings))
        self.database.load()
        self.banner.clear_message()

    def show_preferences(self, prefs: Preferences) -> None:
        self.unit.setCurrentIndex(max(0, self.unit.findData(prefs.display_unit)))
        self.lever_arm.setValue(prefs.lever_arm_m)
        index = self.references.findData(prefs.references)
        self.references.setCurrentIndex(max(0, index))
        self.cutoff.setValue(prefs.cutoff_hz)
        self.impulse.setValue(prefs.impulse_threshold_n)
        self.rep_threshold.setValue(prefs.rep_threshold_n)
        self.mdc.setValue(prefs.mdc_n)
        self.asymmetry.setCurrentIndex(max(0, self.asymmetry.findData(prefs.asymmetry_formula)))
        self.valid_days.setValue(prefs.certificate_valid_days)
        self.data_folder.setText(prefs.data_folder)
        self.clinic_name.setText(prefs.clinic_name)
        self.clinic_logo.setText(prefs.clinic_logo)
        self.tester_tools.setChecked(prefs.show_tester_tools)

    def edited(self) -> Preferences:
        """The preferences as shown on the screen (not yet saved)."""
        return Preferences(
            display_unit=str(self.unit.currentData()),
            lever_arm_m=round(self.lever_arm.value(), 3),
            references=str(self.references.currentData()),
            cutoff_hz=self.cutoff.value(),
            impulse_threshold_n=self.impulse.value(),
            rep_threshold_n=self.rep_threshold.value(),
            mdc_n=self.mdc.value(),
            asymmetry_formula=str(self.asymmetry.currentData()),
            certificate_valid_days=self.valid_days.value(),
            data_folder=self.data_folder.text().strip(),
            clinic_name=self.clinic_name.text().strip(),
            clinic_logo=self.clinic_logo.text().strip(),
            show_tester_tools=self.tester_tools.isChecked(),
        )

    def save(self) -> bool:
        prefs = self.edited()
        try:
            problem = self.database.problem()
            if problem:
                raise ValueError(problem)
            preferences.save(self.context.settings, prefs)
            note = self.database.save()
        except ValueError as exc:
            self.banner.show_message(f"Not saved: {user_message(exc)}", "error")
            return False
        if prefs.data_folder and Path(prefs.data_folder).expanduser() != Path(
            self.context.data_dir
        ):
            note += " The new data folder is used from the next start."
        self.banner.show_message(
            "Saved. New results use the analysis settings shown." + note, "info"
        )
        self.context.show_status("Settings saved", 4000)
        self.context.preferences_changed.emit(prefs)
        window = self.window()
        if isinstance(window, QMainWindow):
            tester_tools.update_visibility(window, self.context)
        return True

    def ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", str(self.context.data_dir))
        if folder:
            self.data_folder.setText(folder)

    def _choose_logo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Clinic logo", str(Path.home()), "Images (*.png *.jpg *.jpeg)"
        )
        if path:
            self.clinic_logo.setText(path)

    def activated(self) -> None:
        self.load()

    def _install_tester_menu(self) -> Any:
        window = self.window()
        if isinstance(window, QMainWindow):
            return tester_tools.install(window, self.context)
        return None

    def can_leave(self) -> bool:
        """Unsaved edits are kept on screen (Undo changes drops them); leaving is always fine."""
        return True


__all__ = ["SettingsScreen"]
