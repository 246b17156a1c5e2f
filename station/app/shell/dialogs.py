"""Dialogs the whole app shares: errors, questions, and the last-resort excepthook.

Every failure a user can meet (a busy port, a bad file, a failed save) ends in
one of these, never in a dead window.  Tests replace ``QMessageBox`` methods
to record the calls instead of blocking on a modal dialog.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from firmware_bridge.errors import describe
from station.present.words import plain_words

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """What a clinician reads for an error: the problem, then what to do (no option names,
    no protocol terms)."""
    return plain_words(describe(exc, for_cli=False))


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """A modal error the user must acknowledge (the window stays alive behind it)."""
    log.warning("%s: %s", title, message)
    message = plain_words(message)
    if details:
        box = QMessageBox(
            QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, parent
        )
        box.setDetailedText(details)
        box.exec()
    else:
        QMessageBox.critical(parent, title, message)


def show_warning(parent: QWidget | None, title: str, message: str) -> None:
    log.info("%s: %s", title, message)
    QMessageBox.warning(parent, title, plain_words(message))


def ask_yes_no(parent: QWidget | None, title: str, question: str) -> bool:
    """A yes/no question; No is the default so Enter never destroys anything."""
    answer = QMessageBox.question(
        parent,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_keep_or_discard(parent: QWidget | None, title: str, question: str) -> str | None:
    """ "keep", "discard", or None when cancelled (the test goes on).  Keep is the default:
    Enter never throws a recording away."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question, parent=parent)
    keep = box.addButton("Keep", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Go on recording", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.exec()
    clicked = box.clickedButton()
    return "keep" if clicked is keep else "discard" if clicked is discard else None


class ReasonDialog(QDialog):
    """Ask why (excluding a rep must say why: metrics.md keeps who and why)."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("e.g. athlete slipped, started before the cue, poor form")
        self.text.setFixedHeight(90)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setEnabled(False)
        self.needed = QLabel("A reason is needed: OK is available once one is typed.")
        self.needed.setStyleSheet("color: #8C1D18;")
        self.text.textChanged.connect(self._reason_changed)
        layout.addWidget(self.needed)
        layout.addWidget(buttons)

    def _reason_changed(self) -> None:
        given = bool(self.reason())
        self.ok_button.setEnabled(given)
        self.needed.setVisible(not given)

    def reason(self) -> str:
        return self.text.toPlainText().strip()


def ask_reason(parent: QWidget | None, title: str, prompt: str) -> str | None:
    """The reason typed, or None when cancelled (a module function so tests can patch it)."""
    dialog = ReasonDialog(title, prompt, parent)
    if dialog.exec() == QDialog.DialogCode.Accepted and dialog.reason():
        return dialog.reason()
    return None


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


class _Reporter(QObject):
    """Shows an unexpected exception once the event loop is free (never re-entrantly)."""

    def __init__(self, parent_widget: Callable[[], QWidget | None]) -> None:
        super().__init__()
        self._parent_widget = parent_widget
        self._showing = False

    def report(
        self, kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        details = "".join(traceback.format_exception(kind, value, tb))
        log.error("unexpected error\n%s", details)
        print(details, file=sys.stderr)
        if self._showing:
            return
        QTimer.singleShot(0, lambda: self._show(f"{kind.__name__}: {value}", details))

    def _show(self, summary: str, details: str) -> None:
        self._showing = True
        try:
            show_error(
                self._parent_widget(),
                "Unexpected error",
                "Something went wrong inside Nordic Station. The window stays open and "
                "nothing recorded is lost; please report this message.\n\n" + summary,
                details,
            )
        finally:
            self._showing = False


def install_excepthook(parent_widget: Callable[[], QWidget | None]) -> ExceptHook:
    """Show uncaught exceptions in a dialog instead of letting Qt abort; returns the old hook.

    Exceptions raised in Qt slots reach ``sys.excepthook``; without this hook
    PySide prints them and the app may exit, losing the test in progress.
    """
    previous = sys.excepthook
    reporter = _Reporter(parent_widget)
    app = QApplication.instance()
    if app is not None:
        reporter.setParent(app)

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        reporter.report(kind, value, tb)

    sys.excepthook = hook
    return previous


__all__ = [
    "ReasonDialog",
    "ask_keep_or_discard",
    "ask_reason",
    "ask_yes_no",
    "install_excepthook",
    "show_error",
    "show_warning",
]
