"""Athletes screen (add, edit, search, archive, last results), connect screen with no
rig, remembered window state and port, and recovery of a test a crash left behind."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog, QLabel, QMessageBox

from firmware_bridge.recording import RecordingWriter
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig
from station.app.athletes.athlete_dialog import AthleteDialog
from station.app.live.recovery import offer_recovery
from station.app.settings import preferences
from station.app.shell import settings as keys
from station.app.shell.main_window import DEFAULT_SIZE
from station.present.preferences import Preferences

pytestmark = pytest.mark.gui


def fill_dialog(monkeypatch: pytest.MonkeyPatch, answers: list[dict[str, Any]]) -> list[str]:
    """Make AthleteDialog.exec fill in each answer in turn; records errors it showed."""
    errors: list[str] = []

    def exec_dialog(dialog: AthleteDialog) -> int:
        if dialog.banner.isVisibleTo(dialog):
            errors.append(dialog.banner.text())
        if not answers:
            return int(QDialog.DialogCode.Rejected)
        values = answers.pop(0)
        dialog.name.setText(values.get("name", dialog.name.text()))
        dialog.external_id.setText(values.get("external_id", dialog.external_id.text()))
        if "date_of_birth" in values:
            born = values["date_of_birth"]
            dialog.date_of_birth.setText(born if isinstance(born, str) else born.isoformat())
        if "team" in values:
            dialog.team.setText(values["team"])
        if "body_mass" in values:
            dialog.body_mass.setValue(values["body_mass"])
        if "lever_arm" in values:
            dialog.lever_arm.setValue(values["lever_arm"])
        if "dominant_leg" in values:
            dialog.dominant_leg.setCurrentIndex(
                dialog.dominant_leg.findData(values["dominant_leg"])
            )
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(AthleteDialog, "exec", exec_dialog)
    return errors


def test_add_edit_search_and_archive(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch, messages: Any
) -> None:
    screen = window.screens["athletes"]
    store = window.context.store
    store.athletes.add("Zoe Other", external_id="Z-1")
    screen.refresh()
    # The second answer reuses Z-1: the store refuses it and the form stays open to fix it.
    errors = fill_dialog(
        monkeypatch,
        [
            {
                "name": "José Núñez",
                "external_id": "Z-1",
                "date_of_birth": date(2001, 5, 4),
                "team": "U21",
                "body_mass": 81.5,
                "lever_arm": 0.41,
                "dominant_leg": "left",
            },
            {"external_id": "J-7"},
        ],
    )
    screen.add_athlete()
    assert errors and "Z-1" in errors[0] and "already used" in errors[0]
    chosen = window.context.athlete
    assert chosen.name == "José Núñez" and chosen.external_id == "J-7"
    assert (
        chosen.body_mass_kg == 81.5 and chosen.lever_arm_m == 0.41 and chosen.dominant_leg == "left"
    )
    assert chosen.date_of_birth == date(2001, 5, 4)
    assert "81.5 kg" in screen.details_label.text() and "U21" in screen.details_label.text()

    screen.search.setText("jose")  # case and accents ignored
    assert screen.list.count() == 1 and "José Núñez" in screen.list.item(0).text()
    screen.search.setText("Z-1")
    assert screen.list.count() == 1 and "Zoe Other" in screen.list.item(0).text()
    screen.search.clear()

    screen.select(chosen.id)
    fill_dialog(monkeypatch, [{"body_mass": 83.0, "team": "Firsts"}])
    screen.edit_athlete()
    assert store.athletes.get(chosen.id).body_mass_kg == 83.0
    assert len(store.athletes.body_mass_history(chosen.id)) == 2  # the mass is a dated history
    assert "Firsts" in screen.list.currentItem().text()

    screen.archive_button.click()  # confirmed (the recorder answers Yes)
    assert messages.kinds() == ["question"]
    assert screen.list.count() == 1 and window.context.athlete is None
    screen.show_archived.setChecked(True)
    assert screen.list.count() == 2
    assert any("(archived)" in screen.list.item(i).text() for i in range(2))


def test_last_results_at_a_glance(qtbot: Any, window: Any, tmp_path: Path) -> None:
    store = window.context.store
    athlete = store.athletes.add("Flo Tested")
    rig = VirtualRig(
        NordicModel(Athlete(rest_s=2.0, quiet_start_s=1.5), seed=2, rate_hz=100), rate_hz=100
    )
    capture = tmp_path / "capture.bin"
    capture.write_bytes(rig.capture_bytes(1.5 + 3 * Athlete(rest_s=2.0).slot_s))
    test = store.new_tests.import_file(
        athlete.id, capture, certificate=rig.calibration_certificate()
    )
    summary = test.result.summary
    screen = window.screens["athletes"]
    screen.refresh()
    screen.select(athlete.id)
    texts = [
        label.text()
        for i in range(screen.recent_box.count())
        for label in screen.recent_box.itemAt(i).widget().findChildren(QLabel)
    ]
    # The stored test's own maxima, in the display unit (newtons by default).
    left = f"{summary['left']['max_force_n']:.0f}"
    right = f"{summary['right']['max_force_n']:.0f}"
    assert f"Left max  {left} N" in texts
    assert f"Right max  {right} N" in texts


def test_no_rig_offers_the_virtual_rig(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import station.app.rig.connect_view as connect_view

    monkeypatch.setattr(connect_view, "serial_ports", lambda: [])
    screen = window.screens["connect"]
    window.show_screen("connect")
    screen.refresh_ports()
    assert screen.no_ports.isVisible() and not screen.ports.isVisible()
    assert "No USB rig found" in screen.no_ports.text()
    assert screen.virtual_button.text() == "Use the virtual rig"
    assert screen.virtual_button.objectName() == "primary"
    assert not screen.connect_button.isEnabled()

    # A built-in UART is listed, but it is not taken for a rig.
    from station.app.rig.ports import PortChoice

    builtin = PortChoice("/dev/ttyS0", "/dev/ttyS0", "serial", usb=False)
    monkeypatch.setattr(connect_view, "serial_ports", lambda: [builtin])
    screen.refresh_ports()
    assert screen.no_ports.isVisible() and screen.ports.count() == 1
    assert screen.virtual_button.text() == "Use the virtual rig"
    assert screen.connect_button.isEnabled() and screen.connect_button.objectName() == ""


def test_window_state_and_last_port_are_remembered(
    qtbot: Any, make_window: Any, settings_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import station.app.rig.connect_view as connect_view
    from station.app.rig.ports import PortChoice

    first = make_window()
    athlete = first.context.store.athletes.add("Gus Remembered")
    first.screens["athletes"].refresh()
    first.screens["athletes"].select(athlete.id)
    first.resize(1300, 820)
    first.show_screen("connect")
    first.context.settings.set(keys.KEY_LAST_PORT, "/dev/ttyACM7")
    size = (first.width(), first.height())
    assert size == (1300, 820)
    first.close()
    assert settings_path.exists()

    monkeypatch.setattr(
        connect_view,
        "serial_ports",
        lambda: [
            PortChoice("/dev/ttyACM0", "/dev/ttyACM0 — other", "serial"),
            PortChoice("/dev/ttyACM7", "/dev/ttyACM7 — Nordic rig", "serial"),
        ],
    )
    second = make_window(resize=False)
    # The geometry was restored (the offscreen screen is 800 px tall, so Qt fits it to that).
    assert second.context.settings.get_bytes(keys.KEY_GEOMETRY) is not None
    assert second.size() != DEFAULT_SIZE and second.width() <= size[0]
    assert second.current_screen().key == "connect"
    assert second.context.athlete is not None and second.context.athlete.id == athlete.id
    assert second.screens["connect"].ports.currentItem().text().startswith("/dev/ttyACM7")


def test_unfinished_test_is_offered_for_recovery(
    qtbot: Any, window: Any, messages: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = window.context.store
    athlete = store.athletes.add("Hal Crashed")
    rig = VirtualRig(
        NordicModel(Athlete(rest_s=2.0, quiet_start_s=1.5), seed=4, rate_hz=100), rate_hz=100
    )
    certificate = rig.calibration_certificate()
    pending = store.live.begin(athlete.id, certificate=certificate, rig_serial=rig.serial_number)
    with RecordingWriter(pending.path, info=rig.info, calibration=certificate) as writer:
        writer.write(rig.capture_bytes(10.0, stop=False))
    # The station "crashed": another process's store sees the test as not live.
    store.live.in_progress.locks.pop(pending.id).release()

    # Recovered tests are analysed with the clinic's rules, as live ones are.
    preferences.save(window.context.settings, Preferences(cutoff_hz=8.5))
    messages.answer = QMessageBox.StandardButton.Save
    saved: list[int] = []
    window.context.test_saved.connect(saved.append)
    recovered = offer_recovery(window, window.context)
    assert messages.kinds() == ["question"] and "Hal Crashed" in messages.shown[0][2]
    assert recovered == saved and len(recovered) == 1
    test = store.tests.get(recovered[0])
    assert test.recovered and test.athlete_id == athlete.id
    assert test.result.settings["cutoff_hz"] == 8.5
    assert store.recovery.pending() == []
