"""`nordic-station gui` (what `make run` starts) on a Linux box with no display: one line
on stderr, then the virtual rig on a pseudo-terminal (`simulate` with its defaults), and
exit 0 on Ctrl-C.  Run in-process, with a short rig and nothing left running."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from station.cli import gui, simulate
from station.cli import main as cli_main

pytestmark = pytest.mark.pty


@pytest.fixture
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)


def patch_simulate(
    monkeypatch: pytest.MonkeyPatch, link: Path, duration: float | None
) -> list[argparse.Namespace]:
    """Run the real `simulate` run(), on our own link and (optionally) for a short time;
    returns the options it was given, as the fallback passed them."""
    real = simulate.run
    given: list[argparse.Namespace] = []

    def short_run(args: argparse.Namespace) -> int:
        given.append(argparse.Namespace(**vars(args)))
        args.link = str(link)
        args.duration = duration
        return real(args)

    monkeypatch.setattr(simulate, "run", short_run)
    return given


def test_no_display_serves_the_virtual_rig_instead(
    headless: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_app(*_a: Any) -> int:
        raise AssertionError("the desktop app must not start without a display")

    monkeypatch.setattr("station.app.shell.app.run", no_app)
    link = tmp_path / "rig"
    given = patch_simulate(monkeypatch, link, 0.3)

    assert cli_main(["gui"]) == 0

    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [gui.NO_DISPLAY_MESSAGE]
    assert captured.err.startswith("no display found: the desktop app needs a desktop session")
    assert captured.out.splitlines()[0] == str(link)  # the port, as `simulate` prints it
    assert not os.path.lexists(link)  # stopped and cleaned up
    # `simulate`'s own defaults: the virtual rig with its default athlete, no faults.
    defaults = given[0]
    assert defaults.rate is None and defaults.replay is None and defaults.fault == []
    assert defaults.duration is None and defaults.serial == simulate.DEFAULT_SERIAL


def test_ctrl_c_stops_it_with_exit_0(
    headless: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    link = tmp_path / "rig"
    patch_simulate(monkeypatch, link, 20.0)  # the duration only guards against a hang

    def press_ctrl_c() -> None:
        # Only once the port is served: `simulate` has its SIGINT handler in place by then.
        deadline = time.monotonic() + 10
        while not os.path.lexists(link) and time.monotonic() < deadline:
            time.sleep(0.02)
        if os.path.lexists(link):  # else the 20 s duration ends it and the test fails
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c, daemon=True)
    started = time.monotonic()
    presser.start()
    assert gui.run(argparse.Namespace(data_dir=None)) == 0
    presser.join(5)
    assert time.monotonic() - started < 10
    assert not os.path.lexists(link)


def test_ctrl_c_before_the_rig_is_up_is_exit_0_too(
    headless: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(_args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate, "run", interrupted)
    assert cli_main(["gui"]) == 0
    assert gui.NO_DISPLAY_MESSAGE in capsys.readouterr().err


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, False),
        ("linux", {"DISPLAY": ":0"}, True),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, True),
        ("linux", {"QT_QPA_PLATFORM": "offscreen"}, True),
        ("linux", {"DISPLAY": ""}, False),
        ("darwin", {}, True),
        ("win32", {}, True),
    ],
)
def test_what_counts_as_a_display(platform: str, environ: dict[str, str], expected: bool) -> None:
    assert gui.has_display(environ, platform) is expected


def test_with_a_display_the_desktop_app_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    started: list[Any] = []
    monkeypatch.setattr(
        "station.app.shell.app.run",
        lambda data_dir, database=None: started.append(data_dir) or 0,
    )
    monkeypatch.setattr(simulate, "run", lambda _a: pytest.fail("no fallback with a display"))
    assert cli_main(["gui", "--data-dir", str(tmp_path)]) == 0
    assert started == [str(tmp_path)]
