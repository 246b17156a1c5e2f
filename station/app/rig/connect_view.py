"""Connect: a rig on a serial port, the virtual rig, or a recording to replay.

With no rig attached the screen says so and puts "Use the virtual rig" first,
so a new user sees live force within a minute.  The last port used is
remembered and preselected.  Opening runs on a worker thread; a busy or
missing port comes back as a dialog and the screen stays usable.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from station.app.rig import acquisition as acq
from station.app.rig.ports import PortChoice, describe_source, replay_url, serial_ports, virtual_url
from station.app.shell import dialogs, theme
from station.app.shell import settings as keys
from station.app.shell.context import AppContext
from station.app.shell.dialogs import user_message
from station.app.shell.screen import Screen, register_screen
from station.app.shell.widgets import Banner, screen_title

SPEEDS = (("Real time", "1"), ("4× faster", "4"), ("As fast as possible", "max"))
RECORDING_FILTER = "Recordings and captures (*.nsrec *.bin *.raw *.txt *.csv);;All files (*)"


@register_screen(order=20)
class ConnectScreen(Screen):
    """Choose and open the source of forces."""

    key = "connect"
    title = "Connect"

    def __init__(self, context: AppContext) -> None:
        super().__init__(context)
        self.acquisition = context.acquisition
        self.virtual_url = virtual_url()
        self.banner = Banner()
        self.state_label = QLabel("")
        self.state_label.setFont(theme.font(14, bold=True))
        self.state_label.setWordWrap(True)

        # Rig on a serial port.
        self.ports = QListWidget()
        self.ports.setObjectName("portList")
        self.ports.setFont(theme.font(13))
        self.ports.setMinimumHeight(140)
        self.no_ports = QLabel("")
        self.no_ports.setWordWrap(True)
        self.no_ports.setFont(theme.font(13))
        self.refresh_button = QPushButton("Refresh")
        self.connect_button = QPushButton("Connect")
        self.connect_button.setObjectName("primary")
        port_buttons = QHBoxLayout()
        port_buttons.addWidget(self.refresh_button)
        port_buttons.addStretch(1)
        port_buttons.addWidget(self.connect_button)

        # The virtual rig.
        self.virtual_button = QPushButton("Use the virtual rig")
        self.virtual_button.setObjectName("primary")
        self.virtual_button.setMinimumHeight(56)
        virtual_caption = QLabel(
            "A rig in software with a simulated athlete (3 reps): for learning the station "
            "and for demonstrations. Its forces are exact, its athlete is not real."
        )
        virtual_caption.setWordWrap(True)
        virtual_caption.setObjectName("caption")

        # Replay.
        self.replay_button = QPushButton("Replay a recording…")
        self.speed = QComboBox()
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        replay_row = QHBoxLayout()
        replay_row.addWidget(self.replay_button)
        replay_row.addWidget(QLabel("Speed"))
        replay_row.addWidget(self.speed)
        replay_row.addStretch(1)

        self.disconnect_button = QPushButton("Disconnect")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(screen_title("Connect"))
        layout.addWidget(self.banner)
        layout.addWidget(self.state_label)
        layout.addWidget(
            self._section("Rig on a USB serial port", [self.no_ports, self.ports], port_buttons)
        )
        layout.addWidget(self._section("Virtual rig", [self.virtual_button, virtual_caption]))
        layout.addWidget(self._section("Recording", [], replay_row))
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.disconnect_button)
        layout.addLayout(bottom)
        layout.addStretch(1)

        self.refresh_button.clicked.connect(self.refresh_ports)
        self.connect_button.clicked.connect(self.connect_selected)
        self.ports.itemDoubleClicked.connect(lambda _i: self.connect_selected())
        self.virtual_button.clicked.connect(self.connect_virtual)
        self.replay_button.clicked.connect(self.choose_replay)
        self.disconnect_button.clicked.connect(self.disconnect)
        self.acquisition.state_changed.connect(self._on_state)
        self.acquisition.connected.connect(self._on_connected)
        self.acquisition.connect_failed.connect(self._on_failed)
        self._connecting_url: str | None = None
        self.refresh_ports()
        self._on_state(self.acquisition.state)

    @staticmethod
    def _section(title: str, widgets: list, extra_layout: object = None) -> QFrame:
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(frame)
        label = QLabel(title)
        label.setFont(theme.font(14, bold=True))
        box.addWidget(label)
        for widget in widgets:
            box.addWidget(widget)
        if extra_layout is not None:
            box.addLayout(extra_layout)  # type: ignore[arg-type]
        return frame

    def activated(self) -> None:
        self.refresh_ports()

    # -- ports -------------------------------------------------------------------------
    def refresh_ports(self) -> None:
        """List serial ports; with none, the virtual rig is the obvious next step."""
        try:
            choices = serial_ports()
        except Exception as exc:  # noqa: BLE001 - listing must never take the screen down
            choices = []
            self.banner.show_message(f"Cannot list serial ports: {user_message(exc)}", "warning")
        self.ports.clear()
        last = self.context.settings.get_str(keys.KEY_LAST_PORT)
        found = any(choice.usb for choice in choices)
        for choice in choices:
            label = choice.label if choice.usb else f"{choice.label}  (built-in port, rarely a rig)"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, choice.device)
            self.ports.addItem(item)
            # The last port used is chosen again, unless it is a built-in port and a USB one
            # is there now: a rig is a USB device.
            if choice.device == last and (choice.usb or not found):
                self.ports.setCurrentItem(item)
        if self.ports.currentItem() is None and self.ports.count():
            self.ports.setCurrentRow(0)
        # Built-in serial ports (ttyS0, COM1) are listed, but only a USB port is likely a rig.
        self.ports.setVisible(bool(choices))
        self.no_ports.setVisible(not found)
        self.no_ports.setText(
            "No USB rig found. Plug the rig in and press Refresh — or try the virtual rig."
            + ("  (The ports listed below are not USB devices.)" if choices else "")
        )
        self.connect_button.setEnabled(bool(choices))
        self.connect_button.setObjectName("primary" if found else "")
        self.virtual_button.setText(
            "Use the virtual rig" if not found else "Use the virtual rig instead"
        )
        for button in (self.connect_button, self.virtual_button):
            button.style().unpolish(button)
            button.style().polish(button)

    def port_choices(self) -> list[PortChoice]:
        return [
            PortChoice(
                self.ports.item(i).data(Qt.ItemDataRole.UserRole),
                self.ports.item(i).text(),
                "serial",
            )
            for i in range(self.ports.count())
        ]

    # -- connecting ----------------------------------------------------------------------
    def _busy(self) -> bool:
        run = self.context.test_run
        if run is not None and run.active:
            dialogs.show_warning(self, "Test running", "Stop the test before changing the rig.")
            return True
        return False

    def connect_to(self, url: str) -> None:
        """Open ``url`` (a port path, virtual:// or replay://)."""
        if self._busy():
            return
        self._connecting_url = url
        self.banner.show_message(f"Connecting to {url}…", "info")
        self.acquisition.connect_to(url)

    def connect_selected(self) -> None:
        item = self.ports.currentItem()
        if item is None:
            return
        self.connect_to(str(item.data(Qt.ItemDataRole.UserRole)))

    def connect_virtual(self) -> None:
        self.connect_to(self.virtual_url)

    def choose_replay(self) -> None:
        start = self.context.settings.get_str(keys.KEY_LAST_REPLAY, str(self.context.data_dir))
        path, _ = QFileDialog.getOpenFileName(self, "Replay a recording", start, RECORDING_FILTER)
        if path:
            self.replay(path)

    def replay(self, path: str, speed: str | None = None) -> None:
        self.context.settings.set(keys.KEY_LAST_REPLAY, path)
        self.connect_to(replay_url(path, speed or self.speed.currentData()))

    def disconnect(self) -> None:
        if self._busy():
            return
        self.acquisition.disconnect_rig()
        self.banner.clear_message()

    def _on_connected(self) -> None:
        url = self.acquisition.url or ""
        self.banner.clear_message()
        settings = self.context.settings
        settings.set(keys.KEY_LAST_KIND, self.acquisition.kind or "")
        if self.acquisition.kind == "serial":
            settings.set(keys.KEY_LAST_PORT, url)
        settings.sync()
        self.context.show_status(f"Connected to {describe_source(url)}", 4000)
        self.context.navigate.emit("test")

    def _on_failed(self, message: str) -> None:
        self.banner.show_message(message, "error")
        dialogs.show_error(self, "Cannot connect", message)

    def _on_state(self, state: str) -> None:
        words: dict[str, str] = {
            acq.DISCONNECTED: "Not connected.",
            acq.CONNECTING: "Connecting…",
            acq.CONNECTED: "Connected.",
            acq.STREAMING: "Connected: live force is streaming.",
            acq.SILENT: "Connected, but the rig is silent.",
            acq.RECONNECTING: "The rig is unplugged: reconnecting…",
            acq.LOST: "The rig was lost.",
            acq.READY: "Recording loaded: press Start on the Test screen to play it.",
        }
        text = words.get(state, state)
        if self.acquisition.url and state != acq.DISCONNECTED:
            text += f"   ({describe_source(self.acquisition.url)})"
        self.state_label.setText(text)
        self.disconnect_button.setEnabled(state != acq.DISCONNECTED)
