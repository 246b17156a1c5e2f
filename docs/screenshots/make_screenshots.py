"""Make the screenshots in this folder: the real app, the virtual rig, a real window.

Run under a display (for example ``xvfb-run -s "-screen 0 1600x1000x24"
.venv/bin/python docs/screenshots/make_screenshots.py``).  It uses a
temporary data folder, so it never touches the user's own.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig  # noqa: E402
from station.app.live import test_run as tr  # noqa: E402
from station.app.rig import acquisition as acq  # noqa: E402
from station.app.shell.app import application, build_window  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZE = (1600, 1000)


def pump(seconds: float, until: object = None) -> bool:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    check = QTimer()
    if until is not None:
        check.timeout.connect(lambda: loop.quit() if until() else None)  # type: ignore[operator]
        check.start(20)
    loop.exec()
    check.stop()
    return bool(until()) if until is not None else True  # type: ignore[operator]


def earlier_tests(store: object, athlete_id: int, folder: Path) -> None:
    """Two earlier tests, so the athlete list shows last results."""
    for seed, (left, right) in enumerate(((298.0, 262.0), (305.0, 281.0)), start=1):
        athlete = Athlete(left_peak_n=left, right_peak_n=right, rest_s=3.0, quiet_start_s=2.0)
        rig = VirtualRig(NordicModel(athlete, seed=seed, rate_hz=200), rate_hz=200)
        path = folder / f"earlier-{seed}.bin"
        path.write_bytes(rig.capture_bytes(2.0 + 3 * athlete.slot_s + 1.0))
        store.import_test(athlete_id, path, certificate=rig.calibration_certificate())  # type: ignore[attr-defined]


def main() -> None:
    app = application()
    folder = Path(tempfile.mkdtemp(prefix="nordic-screens-"))
    window = build_window(folder / "data", folder / "settings.ini")
    window.resize(*SIZE)
    window.show()
    context = window.context
    store = context.store
    people = [
        ("Ada Okafor", "Firsts", "Rugby union", 84.0, 0.43, "left"),
        ("Ben Lindqvist", "Firsts", "Rugby union", 97.5, 0.45, "right"),
        ("Chloé Martin", "Women's XV", "Rugby union", 68.0, 0.40, "right"),
        ("Dev Patel", "U21", "Football", 74.2, 0.42, "right"),
        ("Elif Yılmaz", "U21", "Football", 61.0, 0.39, "left"),
        ("Finn O'Brien", "Academy", "Australian football", 79.0, 0.44, "right"),
    ]
    chosen = None
    for name, team, sport, mass, lever, leg in people:
        athlete = store.add_athlete(
            name, team=team, sport=sport, body_mass_kg=mass, lever_arm_m=lever, dominant_leg=leg
        )
        if chosen is None:
            chosen = athlete
    assert chosen is not None
    earlier_tests(store, chosen.id, folder)
    window.show_screen("athletes")
    athletes = window.screens["athletes"]
    athletes.refresh()
    athletes.select(chosen.id)
    pump(0.5)
    window.grab().save(str(HERE / "athletes.png"))

    url = (
        "virtual://screens?rate=1000&rest=4&rise=2.6&fall=0.8&quiet=2&left_peak=318&right_peak=276"
    )
    window.screens["connect"].connect_to(url)
    pump(10, lambda: context.acquisition.state == acq.STREAMING)
    test_screen = window.screens["test"]
    pump(1.5)
    test_screen.tare()
    test_screen.start_test()
    pump(10, lambda: test_screen.run.state == tr.RUNNING)
    # Mid-way through the third rep: two reps in the table, force rising on the screen.
    pump(40, lambda: test_screen.session.rep_count >= 2)
    pump(20, lambda: min(test_screen.session.current_n) > 200)
    pump(0.4)
    window.grab().save(str(HERE / "live-test.png"))
    pump(40, lambda: test_screen.session.rep_count >= 3)
    pump(1.0)
    test_screen.run.stop()
    pump(30, lambda: window.current_screen().key == "results")
    pump(1.0)
    window.grab().save(str(HERE / "results.png"))
    started = time.monotonic()
    window.close()
    print(f"screenshots written to {HERE} (closed in {time.monotonic() - started:.1f} s)")
    app.quit()


if __name__ == "__main__":
    main()
