"""The base of every page in the main window, and how pages are registered.

A screen is a QWidget with a unique ``key`` and a ``title`` for the navigation
list.  The main window builds the registered screens in ``order`` and calls
``activated``/``deactivated`` as the user moves between them.  A new screen
(history, reports, calibration...) is one module with one class::

    from station.app.shell.screen import Screen, register_screen

    @register_screen(order=50)
    class HistoryScreen(Screen):
        key = "history"
        title = "History"

        def __init__(self, context: AppContext) -> None:
            super().__init__(context)
            ...

and one line in ``station/app/shell/registry.py`` importing that module, so the
window picks it up.  Screens talk to each other only through the
:class:`~station.app.shell.context.AppContext` (its signals and shared objects),
never by holding references to one another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from station.app.shell.context import AppContext


class Screen(QWidget):
    """One page of the main window."""

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    order: ClassVar[int] = 100

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName(f"screen-{self.key}")

    def activated(self) -> None:
        """The screen became visible (refresh what may have changed elsewhere)."""

    def deactivated(self) -> None:
        """The user moved to another screen."""

    def can_leave(self) -> bool:
        """False to keep the user here (e.g. a test is running); the screen says why."""
        return True

    def shutdown(self) -> None:
        """The window is closing: stop timers, save what must be saved."""


class StoredDataScreen(Screen):
    """A screen drawn from the store with the clinic's preferences (history, team).

    Hidden, it only notes that it is out of date (:meth:`defer`); it redraws when shown
    if the preferences changed or data arrived meanwhile.  An export job still running
    is cancelled when the window closes.
    """

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.store = context.store
        self.prefs = context.preferences()
        self.job: Any = None  # the export job running, if any (export_jobs.ExportJob)
        self._stale = True

    def refresh(self, force: bool = False) -> None:
        raise NotImplementedError

    def defer(self, force: bool) -> bool:
        """True (and marked out of date) when a refresh should wait until the screen shows."""
        if not force and not self.isVisible():
            self._stale = True
            return True
        self._stale = False
        return False

    def activated(self) -> None:
        prefs = self.context.preferences()
        if prefs != self.prefs or self._stale:
            self.prefs = prefs
            self.refresh(force=True)

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.done.wait(5)


S = TypeVar("S", bound=type[Screen])

_REGISTERED: dict[str, type[Screen]] = {}


def register_screen(order: int) -> Callable[[S], S]:
    """Class decorator: add a screen to the main window at position ``order``."""

    def decorate(cls: S) -> S:
        if not cls.key:
            raise ValueError(f"{cls.__name__} needs a non-empty key")
        cls.order = order
        _REGISTERED[cls.key] = cls
        return cls

    return decorate


def registered_screens() -> list[type[Screen]]:
    """Registered screen classes, in navigation order."""
    return sorted(_REGISTERED.values(), key=lambda cls: (cls.order, cls.key))
