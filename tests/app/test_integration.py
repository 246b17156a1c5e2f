"""Part 1's screens and part 2's Settings working as one app: the analysis rules a live
test is stored with, the data folder the app starts from, the default lever arm, the
display unit on every screen, the virtual rig's stored certificate, the results title."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog

from calibration import choice as cc
from firmware_bridge.virtual_rig import NordicModel, VirtualRig, register_device
from station import paths
from station.app.athletes.athlete_dialog import AthleteDialog
from station.app.athletes.athletes_view import RecentTest
from station.app.rig import acquisition as acq
from station.app.settings import preferences
from station.app.shell.app import build_window, start_folders
from station.app.shell.settings import AppSettings
from station.present import preferences as present_preferences
from station.present.numbers import format_number
from station.present.preferences import Preferences
from station.present.times import when_text
from station.present.units import STANDARD_GRAVITY
from station.store import open_store
from tests.app.conftest import FAST_ATHLETE, spin, wait_for
from tests.app.stored_athletes import import_session
from tests.app.test_workflow import run_test

pytestmark = pytest.mark.gui


def save_in_settings_screen(window: Any, **changes: Any) -> None:
    """Change preferences the way a user does: on the Settings screen, then Save."""
    window.show_screen("settings")
    screen = window.screens["settings"]
    editors = {
        "display_unit": lambda v: screen.unit.setCurrentIndex(screen.unit.findData(v)),
        "cutoff_hz": screen.cutoff.setValue,
        "rep_threshold_n": screen.rep_threshold.setValue,
        "lever_arm_m": screen.lever_arm.setValue,
    }
    for name, value in changes.items():
        editors[name](value)
    assert screen.save(), screen.banner.text()


def in_kgf(value_n: float, decimals: int = 1) -> str:
    return format_number(value_n / STANDARD_GRAVITY, decimals)


# -- 1. live tests are stored with the clinic's analysis settings -------------------------
def test_a_live_test_is_stored_with_the_settings_screens_analysis_rules(
    qtbot: Any, window: Any, rig_name: str, messages: Any
) -> None:
    save_in_settings_screen(window, cutoff_hz=7.5, rep_threshold_n=35.0, display_unit="kgf")
    store = window.context.store
    athlete = store.athletes.add("Ola Settings")
    window.context.set_athlete(athlete)

    test = run_test(qtbot, window, f"virtual://{rig_name}?rate=500&{FAST_ATHLETE}")

    stored = store.tests.get(test.id).result.settings
    assert stored["cutoff_hz"] == 7.5 and stored["rep_threshold_n"] == 35.0
    # The live view counted reps with the same rules the stored result was computed with.
    test_screen = window.screens["test"]
    assert test_screen.session.settings.cutoff_hz == 7.5
    # ... and showed its forces in the display unit, from the same conversion.
    assert test_screen.left_peak.unit == "kgf" and test_screen.left_peak.unit_label.text() == "kgf"
    header = test_screen.reps_table.horizontalHeaderItem(1).text()
    assert header == "Left peak (kgf)"
    first = test_screen.session.reps[0]
    assert test_screen.reps_table.item(0, 1).text() == in_kgf(first.left_peak_n)
    axis = test_screen.plot.getPlotItem().getAxis("left")
    assert axis.labelUnits == "kgf" and axis.scale == pytest.approx(1 / STANDARD_GRAVITY)
    test_screen._update_numbers()
    assert test_screen.left_peak.value.text() == in_kgf(test_screen.test_peaks[0])
    assert messages.shown == []


def test_unusable_analysis_settings_refuse_the_start_with_the_reason(
    qtbot: Any, window: Any, rig_name: str, messages: Any
) -> None:
    # A hand-edited settings file: the rep threshold below the rep edge (10 N).
    window.context.settings.set("preferences/rep_threshold_n", "5")
    window.context.set_athlete(window.context.store.athletes.add("Ola Broken"))
    window.screens["connect"].connect_to(f"virtual://{rig_name}?rate=200")
    wait_for(qtbot, lambda: window.context.acquisition.state == acq.STREAMING)
    window.screens["test"].start_test()
    assert window.context.test_run.state == "idle"
    assert "Settings screen" in messages.texts() and "rep_edge_n" in messages.texts()
    assert window.context.store.recovery.pending() == []


# -- 2. the data folder: --data-dir, NORDIC_STATION_HOME, the setting, the default ---------
def test_the_app_starts_from_the_data_folder_setting_unless_overridden(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, messages: Any
) -> None:
    monkeypatch.delenv(paths.ENV_VAR, raising=False)
    home = tmp_path / "home"
    monkeypatch.setattr(paths.platformdirs, "user_data_dir", lambda *a, **k: str(home))
    assert start_folders()[0] == home

    clinic = tmp_path / "clinic"
    preferences.save(AppSettings.in_folder(home), Preferences(data_folder=str(clinic)))
    window = build_window(install_hook=False)
    qtbot.addWidget(window)
    try:
        assert window.context.data_dir == clinic
        assert paths.database_path(clinic).exists()
        # The preferences stay where they were read: the setting still shows the folder.
        assert window.context.settings.path == home / "settings.ini"
        assert window.context.preferences().data_folder == str(clinic)
        assert window.start_warning is None
    finally:
        window.close()
        window.context.acquisition.shutdown()
        window.context.store.close()

    # NORDIC_STATION_HOME wins over the setting, --data-dir over both.
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path / "env"))
    assert start_folders()[0] == tmp_path / "env"
    assert start_folders(tmp_path / "explicit")[0] == tmp_path / "explicit"

    # A chosen folder that cannot be used: the default one, with the reason, never no app.
    monkeypatch.delenv(paths.ENV_VAR)
    (tmp_path / "a-file").write_text("not a folder")
    preferences.save(AppSettings.in_folder(home), Preferences(data_folder=str(tmp_path / "a-file")))
    folder, _, warning = start_folders()
    assert folder == home and warning is not None and "a-file" in warning
    assert "--data-dir" in present_preferences.explanation("data_folder").explanation
    assert "NORDIC_STATION_HOME" in present_preferences.explanation("data_folder").explanation


# -- 3. the default lever arm pre-fills a new athlete --------------------------------------
def test_the_default_lever_arm_prefills_a_new_athlete(
    window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_in_settings_screen(window, lever_arm_m=0.45)
    seen: list[float] = []

    def exec_dialog(dialog: AthleteDialog) -> int:
        seen.append(dialog.lever_arm.value())
        dialog.name.setText("Noor Default")
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(AthleteDialog, "exec", exec_dialog)
    screen = window.screens["athletes"]
    screen.add_athlete()
    assert seen == [pytest.approx(0.45)]
    added = window.context.store.athletes.find("Noor")[0]
    assert added.lever_arm_m == pytest.approx(0.45)

    # Editing an athlete shows their own value (none), never the default.
    bare = window.context.store.athletes.add("Ivo Without")
    screen.refresh()
    screen.select(bare.id)
    monkeypatch.setattr(AthleteDialog, "exec", lambda d: seen.append(d.lever_arm.value()) or 0)
    screen.edit_athlete()
    assert seen[-1] is None  # not known


# -- 4. the display unit on part 1's screens -----------------------------------------------
def test_results_and_athlete_glance_follow_the_display_unit(window: Any, tmp_path: Path) -> None:
    store = window.context.store
    athlete = store.athletes.add(
        "Kai Units", sport="Australian football", sex="male", lever_arm_m=0.42
    )
    test = import_session(store, athlete, tmp_path, "2026-06-01T09:00:00Z", 318.0, 276.0)
    summary = test.result.summary
    window.context.current_test_id = test.id
    window.show_screen("results")
    results = window.screens["results"]
    assert results.left_card.max_text == f"max {summary['left']['max_force_n']:.0f} N"

    save_in_settings_screen(window, display_unit="kgf")
    window.show_screen("results")
    left, right = summary["left"], summary["right"]
    assert results.left_card.max_text == f"max {in_kgf(left['max_force_n'])} kgf"
    assert results.left_card.avg_value.text() == f"avg {in_kgf(left['avg_force_n'])} kgf"
    assert results.right_card.max_text == f"max {in_kgf(right['max_force_n'])} kgf"
    columns = results.model.columns()
    peak = next(i for i, c in enumerate(columns) if c.path == ("left", "peak_force_n"))
    assert columns[peak].header == "Left peak\n(kgf)"
    rep1 = test.result.metrics["reps"][0]
    assert results.model.index(0, peak).data() == in_kgf(rep1["left"]["peak_force_n"])
    # Impulse and torque keep their SI units (as the reports show them).
    assert any(c.header == "Left impulse\n(N·s)" for c in columns)
    # Reference lines: the line and the athlete's values in kgf; the published N on hover.
    labels = [results.references_box.itemAt(i).widget() for i in range(2)]
    assert all("kgf" in label.text() for label in labels)
    assert "< 26.1 kgf —" in labels[0].text() and "(256 N)" in labels[0].toolTip()
    axis = results.plot.getPlotItem().getAxis("left")
    assert axis.labelUnits == "kgf" and axis.scale == pytest.approx(1 / STANDARD_GRAVITY)
    # What is stored does not change: newtons.
    assert store.tests.get(test.id).result.summary["left"]["max_force_n"] == left["max_force_n"]

    athletes = window.screens["athletes"]
    athletes.refresh()
    athletes.select(athlete.id)
    window.show_screen("athletes")
    glance = athletes.recent_box.itemAt(0).widget()
    assert isinstance(glance, RecentTest)
    assert glance.left_label.text() == f"Left max  {in_kgf(left['max_force_n'])} kgf"

    save_in_settings_screen(window, display_unit="lbf")
    window.show_screen("athletes")
    glance = athletes.recent_box.itemAt(0).widget()
    assert (
        glance.right_label.text() == f"Right max  {right['max_force_n'] / 4.4482216152605:.1f} lbf"
    )


def test_the_test_screen_switches_unit_while_connected(
    qtbot: Any, window: Any, rig_name: str
) -> None:
    window.screens["connect"].connect_to(f"virtual://{rig_name}?rate=200")
    wait_for(qtbot, lambda: window.context.acquisition.state == acq.STREAMING)
    test_screen = window.screens["test"]
    wait_for(qtbot, lambda: test_screen.session is not None and test_screen.session.samples > 50)
    assert test_screen.left_now.text().endswith(" N")
    save_in_settings_screen(window, display_unit="lbf")
    assert test_screen.left_now.unit == "lbf" and test_screen.right_peak.unit == "lbf"
    legend = test_screen.plot.legend.getLabel(test_screen.plot.left_curve).text
    assert legend == "Left leg (lbf)"
    # The replay screen's plot follows too (its peaks already did).
    window.show_screen("replay")
    assert window.screens["replay"].plot.getPlotItem().getAxis("left").labelUnits == "lbf"


# -- 5. the virtual rig uses a certificate stored for its serial ---------------------------
def scaled_certificate(serial: str, created: str, factor: float) -> dict[str, Any]:
    data = VirtualRig(serial_number=serial).calibration_certificate(created=created)
    for channel in data["channels"].values():
        channel["gain_n_per_count"] *= factor
    return data


def test_the_newest_stored_certificate_beats_the_virtual_rigs_own(tmp_path: Path) -> None:
    with open_store(tmp_path / "data") as store:
        own = VirtualRig(serial_number="NR-V").calibration_certificate()
        assert cc.choose(store.certificates, "NR-V", virtual_certificate=own).source == "virtual"
        # Every test the virtual rig records stores a copy of its own certificate: a copy
        # is not a calibration the user made, so the rig's own stays in use.
        store.certificates.add(
            VirtualRig(serial_number="NR-V").calibration_certificate("2026-01-01T08:00:00Z")
        )
        assert cc.choose(store.certificates, "NR-V", virtual_certificate=own).source == "virtual"
        store.certificates.add(scaled_certificate("NR-V", "2026-03-01T08:00:00Z", 1.02))
        newer = store.certificates.add(scaled_certificate("NR-V", "2026-05-01T08:00:00Z", 1.01))
        store.certificates.add(scaled_certificate("NR-OTHER", "2026-06-01T08:00:00Z", 1.5))
        choice = cc.choose(store.certificates, "NR-V", virtual_certificate=own)
        assert choice.source == "store" and choice.certificate_id == newer.id
        gain = own["channels"]["left"]["gain_n_per_count"]
        assert choice.gains()[0] == pytest.approx(gain * 1.01)


def test_connecting_the_virtual_rig_uses_its_saved_certificate(
    qtbot: Any, window: Any, rig_name: str
) -> None:
    rig = register_device(rig_name, VirtualRig(NordicModel(None, seed=5), serial_number="NR-VS"))
    context = window.context
    context.acquisition.connect_to(f"virtual://{rig_name}")
    wait_for(qtbot, lambda: context.acquisition.state == acq.STREAMING)
    assert context.acquisition.calibration.source == "virtual"
    context.acquisition.disconnect_rig()

    # As the calibration wizard's "Save and use" keeps it: in the store, for this serial.
    saved = context.store.certificates.add(
        scaled_certificate(rig.serial_number, "2026-05-01T08:00:00Z", 1.01)
    )
    context.acquisition.connect_to(f"virtual://{rig_name}")
    wait_for(qtbot, lambda: context.acquisition.state == acq.STREAMING)
    choice = context.acquisition.calibration
    assert choice.source == "store" and choice.certificate_id == saved.id
    test_screen = window.screens["test"]
    wait_for(qtbot, lambda: test_screen.session is not None)
    assert test_screen.session.gains == choice.gains()
    assert "stored" in window.status.certificate_label.text()


# -- 7. the results title uses the width there is -------------------------------------------
def test_the_results_title_stays_on_one_line(qtbot: Any, window: Any, tmp_path: Path) -> None:
    store = window.context.store
    athlete = store.athletes.add("Ada Okafor")
    test = import_session(store, athlete, tmp_path, "2026-11-26T07:45:47Z", 318.0, 276.0)
    window.resize(1440, 900)
    window.context.test_saved.emit(test.id)  # loaded while the screen is hidden, as after a test
    window.show_screen("results")
    spin(qtbot, 0.2)
    heading = window.screens["results"].heading
    # Local time (the suite runs in UTC unless NORDIC_STATION_TZ says otherwise).
    assert heading.text() == f"Ada Okafor — {when_text('2026-11-26T07:45:47Z')}"
    metrics = heading.fontMetrics()
    assert heading.width() >= metrics.horizontalAdvance(heading.text())
    assert heading.height() < 2 * metrics.lineSpacing()
