"""Fixtures for the desktop app's tests: a real main window over a temporary data
folder and settings file, recorded (never blocking) message boxes, a unique
virtual rig per test, and an event-loop wait."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from firmware_bridge.virtual_rig import forget_device  # noqa: E402

# A short session: quiet start, then three quick reps with short rests, on a rig whose time
# runs four times faster than real time (about ten seconds of the rig's in two and a half).
# The quiet start (0.8 s of real time) leaves the operator's tare time before the first pull.
FAST_ATHLETE = "rest=1.2&rise=0.7&fall=0.3&quiet=3.2&reps=3&left_peak=320&right_peak=280&speed=4"
_names = itertools.count()


@dataclass
class MessageLog:
    """Every message box the app tried to show: (kind, title, text)."""

    shown: list[tuple[str, str, str]] = field(default_factory=list)
    answer: QMessageBox.StandardButton = QMessageBox.StandardButton.Yes

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.shown]

    def texts(self) -> str:
        return "\n".join(f"{title}: {text}" for _, title, text in self.shown)


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> MessageLog:
    """Replace QMessageBox's modal calls with a recorder."""
    log = MessageLog()

    def recorder(kind: str) -> Callable[..., QMessageBox.StandardButton]:
        def show(_parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> Any:
            log.shown.append((kind, title, text))
            return log.answer if kind == "question" else QMessageBox.StandardButton.Ok

        return show

    for kind in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(recorder(kind)))

    def exec_box(box: QMessageBox) -> int:
        log.shown.append(("box", box.windowTitle(), box.text()))
        return int(QMessageBox.StandardButton.Ok)

    monkeypatch.setattr(QMessageBox, "exec", exec_box)
    return log


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def make_window(
    qtbot: Any, data_dir: Path, settings_path: Path, messages: MessageLog
) -> Iterator[Callable[..., Any]]:
    """Build main windows like the app does (closed and shut down at the end)."""
    from station.app.shell.app import build_window

    windows: list[Any] = []

    def make(resize: bool = True) -> Any:
        window = build_window(data_dir, settings_path, install_hook=False)
        qtbot.addWidget(window)
        if resize:
            window.resize(1440, 900)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        run = window.context.test_run
        if run is not None and run.active:
            window.context.acquisition.close()
        window.close()
        window.context.acquisition.shutdown()
        window.context.store.close()


@pytest.fixture
def window(make_window: Callable[..., Any]) -> Any:
    return make_window()


@pytest.fixture
def rig_name() -> Iterator[str]:
    """A virtual rig name of this test's own (rigs live in a process-wide registry)."""
    name = f"apptest{next(_names)}"
    yield name
    forget_device(name)


def wait_for(qtbot: Any, condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Run the event loop until ``condition()`` holds (fails the test on time-out)."""
    qtbot.waitUntil(lambda: bool(condition()), timeout=int(timeout_s * 1000))


def spin(qtbot: Any, seconds: float) -> None:
    """Let the app run for ``seconds`` (the rig keeps streaming meanwhile)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qtbot.wait(20)
