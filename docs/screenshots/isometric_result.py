"""Demo data and window for docs/screenshots/isometric_result.sh (not part of the product).

Fills DATA_DIR with a soccer squad's isometric 30° tests from the virtual rig (so the
clinic percentile has a group of 24), opens the real main window on Results of one
athlete's test whose rep 1 and 3 are left only, then writes READY and waits.
Run as: python isometric_result.py DATA_DIR READY_FILE [rfd]
"""

from __future__ import annotations

import sys
from pathlib import Path

from firmware_bridge.virtual_rig import VirtualRig
from firmware_bridge.virtual_rig.ramp import RampContraction, RampModel
from station.store import open_store

RATE = 80.0
SERIAL = "NR-SIM-0001"


def capture(folder: Path, name: str, left: float, right: float, one_leg: bool) -> Path:
    reps = [RampContraction("left", 4.0, 1200.0, left * 0.95)]
    reps += [
        RampContraction("left", 11.0, 1500.0, left),
        RampContraction("right", 11.05, 1100.0, right),
    ]
    reps += [RampContraction("left", 18.0, 1000.0, left * 0.9)]
    if not one_leg:
        reps += [RampContraction("right", 4.02, 1100.0, right * 0.97)]
    model = RampModel(sorted(reps, key=lambda c: c.onset_s), seed=len(name), rate_hz=RATE)
    path = folder / f"{name}.bin"
    rig = VirtualRig(model, rate_hz=RATE, seed=len(name), serial_number=SERIAL)
    path.write_bytes(rig.capture_bytes(model.session_duration_s()))
    return path


def populate(data: Path) -> tuple[int, int]:
    captures = data / "captures"
    captures.mkdir(parents=True, exist_ok=True)
    certificate = VirtualRig(serial_number=SERIAL).calibration_certificate()
    with open_store(data, actor="demo") as store:
        for i in range(23):
            athlete = store.athletes.add(
                f"Squad player {i + 1}",
                sport="soccer",
                sex="female",
                date_of_birth=f"{2002 + i % 5}-0{1 + i % 9}-15",
                body_mass_kg=58.0 + i % 9,
            )
            left, right = 330.0 + 9 * i, 320.0 + 8 * ((i * 7) % 23)
            store.new_tests.import_file(
                athlete,
                capture(captures, f"p{i}", left, right, one_leg=False),
                certificate=certificate,
                protocol="isometric",
                knee_angle_deg=30,
                position="prone",
            )
        ada = store.athletes.add(
            "Ada Lovelace",
            sport="soccer",
            sex="female",
            team="Firsts",
            date_of_birth="2003-03-02",
            body_mass_kg=64.0,
        )
        test = store.new_tests.import_file(
            ada,
            capture(captures, "ada", 452.0, 371.0, one_leg=True),
            certificate=certificate,
            protocol="isometric",
            knee_angle_deg=30,
            position="prone",
            notes="Right hamstring sore after rep 1: rep 1 and 3 left leg only.",
        )
        return ada.id, test.id


def main() -> None:
    data, ready = Path(sys.argv[1]), Path(sys.argv[2])
    athlete_id, test_id = populate(data)
    from PySide6.QtCore import QTimer

    from station.app.shell.app import application, build_window

    app = application()
    window = build_window(data, data / "settings.ini", install_hook=False)
    window.show()
    window.screens["athletes"].refresh()
    window.screens["athletes"].select(athlete_id)
    window.context.current_test_id = test_id
    window.context.navigate.emit("results")
    if len(sys.argv) > 3 and sys.argv[3] == "rfd":
        window.screens["results"].tables.setCurrentIndex(1)
    QTimer.singleShot(2500, lambda: ready.write_text("ready\n"))
    app.exec()


if __name__ == "__main__":
    main()
