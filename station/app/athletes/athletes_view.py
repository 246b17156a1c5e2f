"""Athletes: find one fast, add or edit one, archive one, and see their last results.

Searching ignores case and accents (the store's search key), so "jose"
finds "José".  Choosing an athlete makes them the one the next test is for
and shows their last tests at a glance: per-leg max force (in the clinic's
display unit) and the imbalance on its colour band.  A new athlete's lever
arm starts at the clinic's default from Settings.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from station.app.athletes.athlete_dialog import AthleteDialog
from station.app.athletes.import_menu import add_import_button
from station.app.athletes.injury_dialog import InjuryDialog
from station.app.shell import dialogs, theme
from station.app.shell import settings as keys
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import Screen, register_screen
from station.app.shell.widgets import BandLabel, ElidedLabel, screen_title
from station.present.formulas import (
    formula_label,
    formula_text,
    is_signed,
    stored_formula,
    summary_band,
)
from station.present.history_data import injury_text, is_training
from station.present.numbers import count
from station.present.percentiles import standing, standing_text
from station.present.protocols import label_of
from station.present.times import when_text
from station.present.units import format_force

RECENT_TESTS = 3


def athlete_line(athlete: Any) -> str:
    """One line for the list: name, then team or sport, then the external id."""
    extra = [p for p in (athlete.team, athlete.sport) if p]
    text = athlete.name
    if extra:
        text += f"  —  {', '.join(extra)}"
    if athlete.external_id:
        text += f"  [{athlete.external_id}]"
    if athlete.archived:
        text += "  (archived)"
    return text


class RecentTest(QFrame):
    """One recent test: date, left and right max force, imbalance band."""

    def __init__(self, summary: Any, unit: str = "N") -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        data = summary.summary or {}
        left = (data.get("left") or {}).get("max_force_n")
        right = (data.get("right") or {}).get("max_force_n")
        imbalance = data.get("imbalance_max_pct")
        when = QLabel(f"{when_text(summary.recorded_at)} · {label_of(summary)}")
        when.setFont(theme.font(12, bold=True))
        left_label = QLabel(f"Left max  {format_force(left, unit)}")
        left_label.setStyleSheet(f"color: {theme.LEFT_COLOUR}; font-weight: bold;")
        left_label.setFont(theme.font(16, bold=True))
        right_label = QLabel(f"Right max  {format_force(right, unit)}")
        right_label.setStyleSheet(f"color: {theme.RIGHT_COLOUR}; font-weight: bold;")
        right_label.setFont(theme.font(16, bold=True))
        band = BandLabel(point_size=14, caption="Imbalance")
        formula = stored_formula(data)
        band.set_imbalance(
            imbalance, data.get("stronger"), band=summary_band(data), signed=is_signed(formula)
        )
        band.setToolTip(f"Imbalance as {formula_label(formula)} = {formula_text(formula)}")
        reps = QLabel(
            f"{count(summary.reps, 'rep')}"
            + (f", {summary.excluded_reps} excluded" if summary.excluded_reps else "")
        )
        reps.setObjectName("caption")
        layout = QGridLayout(self)
        layout.addWidget(when, 0, 0)
        layout.addWidget(reps, 0, 1, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(left_label, 1, 0)
        layout.addWidget(right_label, 1, 1)
        layout.addWidget(band, 2, 0, 1, 2)
        self.left_label, self.right_label = left_label, right_label


@register_screen(order=10)
class AthletesScreen(Screen):
    """Search, add, edit, archive; choose who is tested next."""

    key = "athletes"
    title = "Athletes"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.store = context.store
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name or external id…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumHeight(36)
        self.show_archived = QCheckBox("Show archived")
        self.list = QListWidget()
        self.list.setObjectName("athleteList")
        self.list.setFont(theme.font(13))
        self.list.setAlternatingRowColors(True)
        # A long name ends in "…" (the whole of it in the tooltip), never a sideways scroll.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.add_button = QPushButton("Add athlete…")
        self.edit_button = QPushButton("Edit…")
        self.archive_button = QPushButton("Archive")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.archive_button)
        buttons.addStretch(1)
        self.import_button = add_import_button(context, self, buttons, self.refresh)

        self.empty_list = QLabel("No athletes yet: press “Add athlete…” to register the first one.")
        self.empty_list.setWordWrap(True)
        self.empty_list.setObjectName("caption")
        self.empty_list.hide()
        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addWidget(self.show_archived)
        left.addWidget(self.empty_list)
        left.addWidget(self.list, 1)
        left.addLayout(buttons)

        self.name_label = ElidedLabel("Choose an athlete")
        self.name_label.setFont(theme.font(22, bold=True))
        self.details_label = QLabel("")
        self.details_label.setWordWrap(True)
        self.details_label.setTextFormat(Qt.TextFormat.RichText)
        self.details_label.setFont(theme.font(12))
        self.test_button = QPushButton("Test this athlete  →")
        self.test_button.setObjectName("primary")
        self.injuries_title = QLabel("Injuries")
        self.injuries_title.setFont(theme.font(15, bold=True))
        self.injuries_label = QLabel("")
        self.injuries_label.setWordWrap(True)
        self.injury_button = QPushButton("Add injury…")
        self.injury_button.clicked.connect(self.add_injury)
        self.recent_title = QLabel("Last results")
        self.recent_title.setFont(theme.font(15, bold=True))
        self.recent_box = QVBoxLayout()
        self.empty_recent = QLabel("No tests yet.")
        self.empty_recent.setObjectName("caption")

        right = QVBoxLayout()
        right.addWidget(self.name_label)
        right.addWidget(self.details_label)
        right.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignLeft)
        right.addSpacing(12)
        injuries_row = QHBoxLayout()
        injuries_row.addWidget(self.injuries_title)
        injuries_row.addStretch(1)
        injuries_row.addWidget(self.injury_button)
        right.addLayout(injuries_row)
        right.addWidget(self.injuries_label)
        right.addSpacing(12)
        right.addWidget(self.recent_title)
        right.addLayout(self.recent_box)
        self.standing_label = QLabel("")  # where the newest test stands (percentiles.py)
        self.standing_label.setObjectName("caption")
        self.standing_label.setWordWrap(True)
        right.addWidget(self.standing_label)
        right.addStretch(1)
        right_widget = QWidget()
        right_widget.setLayout(right)
        # The details scroll on a low screen: they never make the window taller than it.
        right_scroll = QScrollArea()
        right_scroll.setWidgetResizable(True)
        right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right_scroll.setWidget(right_widget)

        columns = QHBoxLayout()
        columns.addLayout(left, 2)
        columns.addSpacing(16)
        columns.addWidget(right_scroll, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(screen_title("Athletes"))
        layout.addLayout(columns, 1)

        self.search.textChanged.connect(lambda _t: self.refresh())
        self.show_archived.toggled.connect(lambda _c: self.refresh())
        self.list.currentItemChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(lambda _i: self.edit_athlete())
        self.add_button.clicked.connect(self.add_athlete)
        self.edit_button.clicked.connect(self.edit_athlete)
        self.archive_button.clicked.connect(self.toggle_archive)
        self.test_button.clicked.connect(self._test_this)
        context.test_saved.connect(lambda _id: self._show_details(self.context.athlete))
        context.test_changed.connect(lambda _id: self._show_details(self.context.athlete))
        context.preferences_changed.connect(lambda _p: self._show_details(self.context.athlete))
        self._shown_unit = context.display_unit()
        self._restore_last()

    def activated(self) -> None:
        """Settings may have changed the display unit since the glance was drawn."""
        if self.context.display_unit() != self._shown_unit:
            self._show_details(self.context.athlete)

    # -- list ----------------------------------------------------------------------
    def _restore_last(self) -> None:
        self.refresh()
        last = self.context.settings.get_int(keys.KEY_LAST_ATHLETE)
        if last is not None:
            self.select(last)

    def refresh(self) -> None:
        """Reload the list, keeping the selection when it is still listed."""
        current = self.selected_id()
        try:
            athletes = self.store.athletes.find(
                self.search.text().strip() or None, include_archived=self.show_archived.isChecked()
            )
        except Exception as exc:  # noqa: BLE001 - a store failure is a dialog, never a crash
            dialogs.show_error(self, "Athletes", f"Cannot list athletes: {user_message(exc)}")
            return
        self.list.blockSignals(True)
        self.list.clear()
        for athlete in athletes:
            item = QListWidgetItem(athlete_line(athlete))
            item.setData(Qt.ItemDataRole.UserRole, athlete.id)
            item.setToolTip(athlete_line(athlete))
            if athlete.archived:
                item.setForeground(Qt.GlobalColor.gray)
            self.list.addItem(item)
        self.list.blockSignals(False)
        nothing_at_all = not athletes and not self.search.text().strip()
        self.empty_list.setVisible(nothing_at_all and not self.show_archived.isChecked())
        if current is not None:
            self.select(current, quiet=True)
        self._update_buttons()

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def select(self, athlete_id: int, quiet: bool = False) -> bool:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == athlete_id:
                if quiet:
                    self.list.blockSignals(True)
                self.list.setCurrentRow(row)
                self.list.blockSignals(False)
                return True
        return False

    def _selection_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self._update_buttons()
        if current is None:
            return
        try:
            athlete = self.store.athletes.get(int(current.data(Qt.ItemDataRole.UserRole)))
        except Exception as exc:  # noqa: BLE001
            dialogs.show_error(self, "Athletes", user_message(exc))
            return
        self.context.set_athlete(athlete)
        self._show_details(athlete)

    def _update_buttons(self) -> None:
        chosen = self.list.currentItem() is not None
        self.edit_button.setEnabled(chosen)
        self.archive_button.setEnabled(chosen)
        self.test_button.setEnabled(chosen)
        athlete = self.context.athlete
        archived = bool(athlete is not None and chosen and athlete.archived)
        self.archive_button.setText("Unarchive" if archived else "Archive")

    # -- details -------------------------------------------------------------------
    def _show_details(self, athlete: Any) -> None:
        while self.recent_box.count():
            widget = self.recent_box.takeAt(0).widget()
            if widget is not None and widget is not self.empty_recent:
                widget.deleteLater()
        if athlete is None:
            self.name_label.setText("Choose an athlete")
            self.details_label.setText("")
            self.standing_label.setText("")
            return
        self.name_label.setText(athlete.name)
        rows = [
            ("External id", athlete.external_id),
            ("Born", athlete.date_of_birth.isoformat() if athlete.date_of_birth else None),
            ("Sex", athlete.sex),
            ("Sport", athlete.sport),
            ("Team", athlete.team),
            ("Dominant leg", athlete.dominant_leg),
            ("Body mass", f"{athlete.body_mass_kg:g} kg" if athlete.body_mass_kg else None),
            ("Lever arm", f"{athlete.lever_arm_m:g} m" if athlete.lever_arm_m else None),
            ("Notes", athlete.notes or None),
        ]
        self.details_label.setText(
            "<table cellspacing='4'>"
            + "".join(
                f"<tr><td style='color:#5F6368'>{k}</td><td>{v if v else '–'}</td></tr>"
                for k, v in rows
            )
            + "</table>"
        )
        self._show_injuries(athlete)
        try:
            # Training sessions are not results (Training screen lists them).
            listed = self.store.tests.of_athlete(athlete.id)
            tests = [t for t in listed if not is_training(t)][:RECENT_TESTS]
        except Exception as exc:  # noqa: BLE001
            self.context.show_status(f"Cannot read tests: {user_message(exc)}")
            tests = []
        if not tests:
            self._show_standing(None)
            self.recent_box.addWidget(self.empty_recent)
            self.empty_recent.show()
            return
        self.empty_recent.hide()
        unit = self._shown_unit = self.context.display_unit()
        for summary in tests:
            self.recent_box.addWidget(RecentTest(summary, unit))
        self._show_standing(tests[0].id)

    def _show_standing(self, test_id: int | None) -> None:
        """Where the newest test stands within the clinic's own data (percentiles.py)."""
        if test_id is None:
            self.standing_label.setText("")
            return
        try:
            text = standing_text(standing(self.store, self.store.tests.get(test_id)))
        except Exception as exc:  # noqa: BLE001 - the rest of the details still show
            text = f"Cannot place the newest test: {user_message(exc)}"
        self.standing_label.setText(f"Newest test: {text}")

    def _show_injuries(self, athlete: Any) -> None:
        try:
            injuries = self.store.athletes.injuries(athlete.id)
        except Exception as exc:  # noqa: BLE001 - the rest of the details still show
            self.injuries_label.setText(f"Cannot read injuries: {user_message(exc)}")
            return
        self.injuries_label.setText(
            "\n".join("• " + injury_text(i) + (f" — {i.note}" if i.note else "") for i in injuries)
            or "None recorded."
        )

    def add_injury(self) -> None:
        """Record an injury of the athlete shown (the form stays open on a refusal)."""
        athlete = self.context.athlete
        if athlete is None:
            return
        dialog = InjuryDialog(self)
        while dialog.exec():
            try:
                self.store.athletes.add_injury(athlete.id, **dialog.values())
            except Exception as exc:  # noqa: BLE001 - shown in the form, which stays open
                dialog.show_error(user_message(exc))
                continue
            self._show_details(athlete)
            self.context.athletes_changed.emit()
            return

    # -- actions --------------------------------------------------------------------
    def add_athlete(self) -> None:
        default_lever_arm = self.context.preferences().lever_arm_m
        dialog = AthleteDialog(parent=self, default_lever_arm_m=default_lever_arm)
        while dialog.exec():
            try:
                values = dialog.values()
                athlete = self.store.athletes.add(
                    values.pop("name"), body_mass_kg=dialog.body_mass_kg(), **values
                )
            except Exception as exc:  # noqa: BLE001 - shown in the form, which stays open
                dialog.show_error(user_message(exc))
                continue
            self.search.clear()
            self.refresh()
            self.select(athlete.id)
            self.context.athletes_changed.emit()
            return

    def edit_athlete(self) -> None:
        athlete_id = self.selected_id()
        if athlete_id is None:
            return
        athlete = self.store.athletes.get(athlete_id)
        dialog = AthleteDialog(athlete, parent=self)
        while dialog.exec():
            try:
                changes = dialog.values()
                if dialog.body_mass_changed() and dialog.body_mass_kg() is not None:
                    changes["body_mass_kg"] = dialog.body_mass_kg()
                updated = self.store.athletes.update(athlete_id, **changes)
            except Exception as exc:  # noqa: BLE001
                dialog.show_error(user_message(exc))
                continue
            self.refresh()
            self.context.set_athlete(updated)
            self._show_details(updated)
            self.context.athletes_changed.emit()
            return

    def toggle_archive(self) -> None:
        athlete_id = self.selected_id()
        if athlete_id is None:
            return
        athlete = self.store.athletes.get(athlete_id)
        archive = not athlete.archived
        if archive and not dialogs.ask_yes_no(
            self,
            "Archive athlete",
            f"Archive {athlete.name}? Their tests are kept; archived athletes are hidden from "
            "the list unless 'Show archived' is ticked.",
        ):
            return
        try:
            self.store.athletes.archive(athlete_id, archive)
        except Exception as exc:  # noqa: BLE001
            dialogs.show_error(self, "Athletes", user_message(exc))
            return
        if archive and self.context.athlete is not None and self.context.athlete.id == athlete_id:
            self.context.set_athlete(None)
            self._show_details(None)
        self.refresh()
        self.context.athletes_changed.emit()

    def _test_this(self) -> None:
        if self.context.athlete is None:
            return
        target = "test" if self.context.acquisition.is_connected else "connect"
        self.context.navigate.emit(target)
