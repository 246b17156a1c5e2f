"""The "Tester tools" menu: switch the connected virtual rig's faults on and off.

Shown only when the "Show tester tools" setting is on or NORDIC_STATION_DEBUG=1,
so clinicians never meet it.  Every entry needs the virtual rig connected
(the menu says so when it is not); what happened goes to the status bar.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMenu, QWidget

from firmware_bridge.errors import InputError
from firmware_bridge.virtual_rig import FAULT_HELP, VirtualRig
from station.app.rig import rig_faults
from station.app.settings import preferences
from station.app.shell import dialogs
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message

MENU_NAME = "testerTools"


def connected_rig(context: AppContext) -> VirtualRig | None:
    """The virtual rig behind the app's connection, if that is what is connected."""
    acquisition = context.acquisition
    device = acquisition.device() if acquisition.kind == "virtual" else None
    return device if isinstance(device, VirtualRig) else None


class FaultsMenu(QMenu):
    """Fault presets, a custom fault, and "all faults off"."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Tester tools", parent)
        self.setObjectName(MENU_NAME)
        self.context = context
        self.status = self.addAction("(connect the virtual rig to use these)")
        self.status.setEnabled(False)
        self.addSeparator()
        self.preset_actions: list[QAction] = []
        for preset in rig_faults.PRESETS:
            action = self.addAction(preset.label)
            action.triggered.connect(lambda _checked=False, p=preset: self.apply(p))
            self.preset_actions.append(action)
        self.addSeparator()
        self.custom_action = self.addAction("Custom fault…")
        self.custom_action.triggered.connect(self.ask_custom)
        self.clear_action = self.addAction("All faults off")
        self.clear_action.triggered.connect(self.clear)
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        rig = connected_rig(self.context)
        if rig is None:
            self.status.setText("(connect the virtual rig to use these)")
        else:
            active = rig_faults.active_faults(rig)
            self.status.setText("Faults on: " + (", ".join(active) if active else "none"))
        for action in [*self.preset_actions, self.custom_action, self.clear_action]:
            action.setEnabled(rig is not None)

    def apply(self, preset: rig_faults.Preset | str) -> str | None:
        rig = connected_rig(self.context)
        if rig is None:
            dialogs.show_warning(self, "Tester tools", "Connect the virtual rig first.")
            return None
        try:
            said = rig_faults.apply(rig, preset)
        except InputError as exc:
            dialogs.show_error(self, "Tester tools", user_message(exc))
            return None
        self.context.show_status(said[:1].upper() + said[1:], 6000)
        self.refresh()
        return said

    def ask_custom(self) -> None:
        text, ok = QInputDialog.getText(self, "Custom fault", FAULT_HELP)
        if ok and text.strip():
            self.apply(text.strip())

    def clear(self) -> None:
        rig = connected_rig(self.context)
        if rig is not None:
            self.context.show_status(rig_faults.clear(rig), 4000)
            self.refresh()


def install(window: QMainWindow, context: AppContext) -> FaultsMenu:
    """Add the menu to the window's menu bar (once), shown as the preference says."""
    existing = window.findChild(FaultsMenu, MENU_NAME)
    menu = existing if isinstance(existing, FaultsMenu) else FaultsMenu(context, window)
    if existing is None:
        window.menuBar().addMenu(menu)
    update_visibility(window, context)
    return menu


def update_visibility(window: Any, context: AppContext) -> None:
    """Show the menu (and the menu bar holding it) only for testers."""
    menu = window.findChild(FaultsMenu, MENU_NAME)
    if menu is None:
        return
    visible = preferences.load(context.settings).tester_tools_visible()
    menu.menuAction().setVisible(visible)
    bar = window.menuBar()
    bar.setVisible(
        visible or any(a.isVisible() for a in bar.actions() if a is not menu.menuAction())
    )
