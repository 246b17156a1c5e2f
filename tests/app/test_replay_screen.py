"""Replay: a recording played through the live path with a transport (speed, pause, seek),
its counters, and saved to an athlete with the numbers `nordic-station analyze` gives."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest

from station.cli import main as cli_main
from tests.app.conftest import spin, wait_for
from tests.app.stored_athletes import capture, write_recording


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    return write_recording(tmp_path / "session.nsrec")


@pytest.mark.gui
def test_replay_counts_and_saves_the_numbers_of_analyze(
    qtbot: Any, window: Any, recording: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["analyze", str(recording), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    context = window.context
    athlete = context.store.athletes.add("Rae Replay")
    context.athletes_changed.emit()
    screen = window.screens["replay"]
    window.show_screen("replay")
    assert screen.open_file(recording)
    assert "rig NR-SIM-0001 · 80 Hz" in screen.file_label.text()
    assert "recorded" in screen.calibration.text()  # the recording's own certificate
    screen.set_speed(math.inf)
    screen.play()
    wait_for(qtbot, lambda: screen.finished)
    samples = expected["stream"]["samples"]
    assert screen.counters["samples"] == samples
    assert screen.counters["frames_corrupt"] == 0
    assert screen.counter_labels["samples"].text() == f"{samples:,}".replace(",", " ")
    assert screen.session.rep_count == len(expected["reps"]) == 3
    assert screen.position.text().endswith("(finished)")
    screen.athlete_box.setCurrentIndex(screen.athlete_box.findData(athlete.id))
    screen.save_to_athlete()
    wait_for(qtbot, lambda: screen.saved_test_id is not None)
    stored = context.store.tests.get(screen.saved_test_id)
    assert stored.source == "import:session.nsrec"
    assert stored.result.metrics["summary"] == expected["summary"]
    assert [r["left"]["peak_force_n"] for r in stored.result.metrics["reps"]] == [
        r["left"]["peak_force_n"] for r in expected["reps"]
    ]


@pytest.mark.gui
def test_pause_and_seek_back_in_the_app(qtbot: Any, window: Any, recording: Path) -> None:
    screen = window.screens["replay"]
    window.show_screen("replay")
    screen.open_file(recording)
    screen.set_speed(4.0)
    screen.play()
    wait_for(qtbot, lambda: screen.session.samples > 300)
    screen.toggle_play()  # pause
    spin(qtbot, 0.1)
    held = screen.device.now_s(time.monotonic())
    samples = screen.session.samples
    spin(qtbot, 0.4)
    assert screen.device.paused and screen.session.samples == samples
    assert "(paused)" in screen.position.text()
    assert screen.device.now_s(time.monotonic()) == pytest.approx(held)
    screen.seek(1.0)  # back: a new playback from the first byte, fast-forwarded
    # Wait until the first second (80 samples at 80 Hz) has been fast-forwarded through ...
    wait_for(
        qtbot,
        lambda: (
            screen.session.samples >= 0.9 * 80 and screen.position.text().startswith("1.0 s of")
        ),
        5,
    )
    # ... and no further: the new playback keeps the pause.
    spin(qtbot, 0.2)
    assert screen.device.paused
    assert 0.9 * 80 <= screen.session.samples <= 1.0 * 80 + 40
    assert screen.position.text().startswith("1.0 s of")


@pytest.mark.gui
def test_a_file_that_cannot_be_played_is_refused(
    window: Any, tmp_path: Path, messages: Any
) -> None:
    screen = window.screens["replay"]
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not a capture\n")
    assert not screen.open_file(junk)
    assert messages.kinds() == ["critical"]
    assert screen.capture is None and not screen.play_button.isEnabled()


@pytest.mark.gui
def test_a_raw_capture_plays_at_its_sample_rate(qtbot: Any, window: Any, tmp_path: Path) -> None:
    raw = tmp_path / "cat.bin"
    raw.write_bytes(capture(280.0, 240.0, 5))
    screen = window.screens["replay"]
    window.show_screen("replay")
    assert screen.open_file(raw)
    assert screen.device.duration_s == pytest.approx(12.1, abs=0.2)
    screen.set_speed(math.inf)
    screen.play()
    wait_for(qtbot, lambda: screen.finished)
    assert screen.session.rep_count == 3


@pytest.mark.gui
def test_the_replay_screen_opens_its_link_off_the_gui_thread(
    qtbot: Any, window: Any, recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from firmware_bridge.link import Link

    opened_on: list[threading.Thread] = []
    real_open = Link.open

    def open_and_note(link: Link) -> Any:
        opened_on.append(threading.current_thread())
        return real_open(link)

    monkeypatch.setattr(Link, "open", open_and_note)
    screen = window.screens["replay"]
    window.show_screen("replay")
    assert screen.open_file(recording)
    screen.set_speed(math.inf)
    screen.play()
    wait_for(qtbot, lambda: screen.finished)
    assert opened_on and threading.main_thread() not in opened_on
    assert screen.session.rep_count == 3
