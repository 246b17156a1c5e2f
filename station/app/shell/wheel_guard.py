"""The mouse wheel scrolls pages; it changes a value only in a field being edited.

Settings, test details and dialogs are long forms in scroll areas: a clinician
scrolling past a spin box or a drop-down with the wheel must not change the rep
threshold or the asymmetry formula on the way.  One application-wide filter:
such fields take focus by click or Tab only, and a wheel over one that is not
focused scrolls the page it sits in instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)
_WATCHED = (QEvent.Type.Polish, QEvent.Type.Wheel)


def _guarded(widget: QWidget) -> bool:
    return isinstance(widget, GUARDED) and not isinstance(widget, QScrollBar)


def _page_scroll_bar(widget: QWidget) -> QScrollBar | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent.verticalScrollBar()
        parent = parent.parentWidget()
    return None


class WheelGuard(QObject):
    """Installed on the application: see the module docstring."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()  # every event of the application passes here: cheapest test first
        if kind not in _WATCHED or not isinstance(watched, QWidget) or not _guarded(watched):
            return False
        if kind == QEvent.Type.Polish:
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel and not watched.hasFocus():
            bar = _page_scroll_bar(watched)
            if bar is not None:
                QApplication.sendEvent(bar, event)
            return True
        return False


def install(app: QApplication) -> WheelGuard:
    """Install the guard once; returns it (the application keeps it as a child)."""
    existing = app.findChild(WheelGuard)
    if existing is not None:
        return existing
    guard = WheelGuard(app)
    app.installEventFilter(guard)
    return guard
