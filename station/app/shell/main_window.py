"""The main window: a navigation list beside a stack of screens, and the status bar.

Screens come from the registry (see :mod:`station.app.shell.screen`), so adding one
never touches this file.  The window remembers its geometry and the screen
last shown, and closes the rig connection cleanly on exit.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QWidget,
)

from station.app.shell import dialogs
from station.app.shell import settings as keys
from station.app.shell.context import AppContext
from station.app.shell.registry import load_screens
from station.app.shell.screen import Screen, registered_screens
from station.app.shell.status_bar import ConnectionStatusBar

DEFAULT_SIZE = QSize(1440, 900)


class ScreenPage(QScrollArea):
    """A screen filling the page, scrolling only below the screen's minimum size.

    (QScrollArea's own resizing asks word-wrapped labels for their preferred height, so a
    screen would scroll even where it fits: this one gives the screen the whole viewport,
    never less than its minimum.)"""

    def __init__(self, screen: QWidget) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setWidget(screen)
        screen.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.fit()

    def fit(self) -> None:
        screen = self.widget()
        if screen is None:
            return
        least = screen.minimumSizeHint().expandedTo(screen.minimumSize())
        size = self.viewport().size()
        wanted = QSize(max(size.width(), least.width()), max(size.height(), least.height()))
        if screen.size() != wanted:
            screen.resize(wanted)


class MainWindow(QMainWindow):
    """Navigation + screens + connection status."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("Nordic Station")
        self.screens: dict[str, Screen] = {}

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(180)
        self.navigation.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stack = QStackedWidget()
        self._pages: dict[str, ScreenPage] = {}
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.status = ConnectionStatusBar(context)
        self.setStatusBar(self.status)

        load_screens()
        for cls in registered_screens():
            self.add_screen(cls(context))
        self.navigation.currentRowChanged.connect(self._row_changed)
        context.navigate.connect(self.show_screen)
        self._current: Screen | None = None
        self._closed = False
        # Set by the app's start-up: a problem to tell the user once the window shows.
        self.start_warning: str | None = None
        self._install_shortcuts()
        self._restore_state()

    # -- screens -------------------------------------------------------------
    def add_screen(self, screen: Screen) -> None:
        """Add a screen (registered ones are added by the constructor, in order)."""
        if screen.key in self.screens:
            raise ValueError(f"a screen with key {screen.key!r} already exists")
        self.screens[screen.key] = screen
        item = QListWidgetItem(screen.title)
        item.setData(Qt.ItemDataRole.UserRole, screen.key)
        item.setSizeHint(QSize(160, 48))
        self.navigation.addItem(item)
        # Each screen in a scroll area: on a low screen (1366×768) a screen with more to show
        # than fits scrolls, instead of making the window taller than the screen (the stack
        # is as tall as its tallest page).
        page = ScreenPage(screen)
        self._pages[screen.key] = page
        self.stack.addWidget(page)

    def screen(self, key: str) -> Screen:
        return self.screens[key]

    def current_screen(self) -> Screen | None:
        widget = self.stack.currentWidget()
        if isinstance(widget, QScrollArea):
            widget = widget.widget()
        return widget if isinstance(widget, Screen) else None

    def show_screen(self, key: str) -> None:
        """Switch to a screen by key (if the current one lets the user leave)."""
        keys_in_order = [
            self.navigation.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.navigation.count())
        ]
        if key not in keys_in_order:
            return
        self.navigation.setCurrentRow(keys_in_order.index(key))

    def _row_changed(self, row: int) -> None:
        if row < 0:
            return
        key = self.navigation.item(row).data(Qt.ItemDataRole.UserRole)
        target = self.screens[key]
        previous = self._current
        if previous is target:
            return
        if previous is not None and not previous.can_leave():
            self.navigation.blockSignals(True)
            self.navigation.setCurrentRow(self.stack.indexOf(self._pages[previous.key]))
            self.navigation.blockSignals(False)
            return
        if previous is not None:
            previous.deactivated()
        self.stack.setCurrentWidget(self._pages[key])
        self._current = target
        target.activated()

    def _install_shortcuts(self) -> None:
        """Ctrl+1..9 jump to the n-th screen (screens add their own keys)."""
        for i in range(min(9, self.navigation.count())):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self)
            shortcut.activated.connect(lambda row=i: self.navigation.setCurrentRow(row))

    # -- state ---------------------------------------------------------------
    def _restore_state(self) -> None:
        settings = self.context.settings
        geometry = settings.get_bytes(keys.KEY_GEOMETRY)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        self.fit_to_screen()
        state = settings.get_bytes(keys.KEY_WINDOW_STATE)
        if state is not None:
            self.restoreState(state)
        # First run: straight to Connect, where the virtual rig shows live force at once.
        start = settings.get_str(keys.KEY_SCREEN, "connect")
        if start not in ("athletes", "connect"):
            start = "athletes"  # never reopen on a test or result of the last session
        self.show_screen(start)
        if self._current is None and self.navigation.count():
            self.navigation.setCurrentRow(0)

    def fit_to_screen(self) -> None:
        """Never larger than the screen's free area (a 1366×768 laptop, a remembered size
        from a bigger monitor): the window shrinks to fit and is centred on it."""
        screen = QWidget.screen(self) or QGuiApplication.primaryScreen()  # self.screen: a page
        if screen is None:
            return
        free = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()
        # Before the window is shown its frame is unknown: leave room for a title bar.
        width = min(self.width(), free.width() - max(frame.width(), 8))
        height = min(self.height(), free.height() - max(frame.height(), 40))
        if (width, height) != (self.width(), self.height()):
            self.resize(max(width, self.minimumSizeHint().width()), max(height, 480))
            self.move(
                free.x() + (free.width() - self.frameGeometry().width()) // 2,
                free.y() + (free.height() - self.frameGeometry().height()) // 2,
            )

    def save_state(self) -> None:
        settings = self.context.settings
        settings.set(keys.KEY_GEOMETRY, self.saveGeometry())
        settings.set(keys.KEY_WINDOW_STATE, self.saveState())
        current = self.current_screen()
        if current is not None:
            settings.set(keys.KEY_SCREEN, current.key)
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        """Close cleanly; a test being recorded is only cut short if the user says so."""
        if self._closed:
            event.accept()
            return
        run = self.context.test_run
        if (
            run is not None
            and run.active
            and not dialogs.ask_yes_no(
                self,
                "A test is being recorded",
                "A test is being recorded. Close anyway? The test stops now and is saved as it is.",
            )
        ):
            event.ignore()
            return
        self._closed = True
        self.save_state()
        for screen in self.screens.values():
            screen.shutdown()
        if run is not None:
            run.shutdown()
        self.context.acquisition.shutdown()
        super().closeEvent(event)
