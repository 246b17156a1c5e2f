"""Make part 2's screenshots: history, team, calibration wizard, replay, and a report page.

Run under a display (``xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python
docs/screenshots/make_part2_screenshots.py``).  Everything happens in a
temporary data folder (the real app, the virtual rig, imported virtual
sessions), so the user's own data are never touched.  The report page needs
``pdftoppm`` (poppler-utils).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from calibration.procedure import Phase  # noqa: E402
from firmware_bridge.recording import RecordingWriter  # noqa: E402
from firmware_bridge.virtual_rig import (  # noqa: E402
    Athlete,
    NordicModel,
    VirtualRig,
    register_device,  # noqa: E402
)
from station.app.reports.report_pdf import write_test_report  # noqa: E402
from station.app.rig import acquisition as acq  # noqa: E402
from station.app.shell.app import application, build_window  # noqa: E402
from tests.app.stored_athletes import populate  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_screenshots import pump  # noqa: E402  (one event-loop helper for both scripts)

HERE = Path(__file__).resolve().parent
SIZE = (1600, 1000)


def faulty_recording(path: Path) -> Path:
    """A session from a rig with a flaky cable: some frames dropped, some garbage."""
    athlete = Athlete(left_peak_n=318, right_peak_n=271, reps=3, rest_s=3.0, quiet_start_s=2.0)
    rig = VirtualRig(
        NordicModel(athlete, seed=9),
        rate_hz=80,
        serial_number="NR-0042",
        faults=["drop:0.01", "garbage:0.01"],
    )
    data = rig.capture_bytes(2.0 + 3 * athlete.slot_s + 1.0)
    seconds = 2.0 + 3 * athlete.slot_s + 1.0
    with RecordingWriter(
        path, port="/dev/ttyACM0", info=rig.info, calibration=rig.calibration_certificate()
    ) as writer:
        for start in range(0, len(data), 256):
            writer.write(data[start : start + 256], t=seconds * start / len(data))
    return path


def main() -> None:
    app = application()
    folder = Path(tempfile.mkdtemp(prefix="nordic-screens-2-"))
    window = build_window(folder / "data", folder / "settings.ini")
    window.resize(*SIZE)
    window.show()
    context = window.context
    made = populate(context.store, folder / "caps")
    context.athletes_changed.emit()

    window.show_screen("history")
    window.screens["history"].show_athlete(made.ada.id)
    pump(0.8)
    window.grab().save(str(HERE / "history.png"))

    team = window.screens["team"]
    window.show_screen("team")
    team.team_box.setCurrentIndex(team.team_box.findData("First XV"))
    team.line_box.setCurrentIndex(team.line_box.findData("opar2015_end"))
    pump(0.8)
    window.grab().save(str(HERE / "team.png"))

    bench = register_device(
        "screens-bench", VirtualRig(NordicModel(None, seed=11), serial_number="NR-0042")
    )
    context.acquisition.connect_to("virtual://screens-bench")
    pump(10, lambda: context.acquisition.state == acq.STREAMING)
    wizard = window.screens["calibration"]
    window.show_screen("calibration")
    wizard.masses.setText("0, 10, 20, 30")
    wizard.start_calibration()
    shot = False
    while wizard.session is not None:
        proc = wizard.session.procedure
        if proc.phase is Phase.WAITING:
            bench.set_static_load(proc.step.channel, proc.step.mass_kg)
            pump(0.3)
            wizard.primary_action()
        elif proc.phase is Phase.PROBLEM:
            wizard.act("retry")
        if (
            not shot
            and proc.step is not None
            and proc.step.mass_kg == 30
            and (proc.phase is Phase.SETTLING and proc.reading.covered_s > 0.6)
        ):
            window.grab().save(str(HERE / "calibration-wizard.png"))
            shot = True
        pump(0.05)
    pump(0.5)
    window.grab().save(str(HERE / "calibration-result.png"))
    wizard.save_and_use()
    context.acquisition.disconnect_rig()

    replay = window.screens["replay"]
    window.show_screen("replay")
    replay.open_file(faulty_recording(folder / "flaky-cable.nsrec"))
    replay.set_speed(4.0)
    replay.play()
    pump(20, lambda: replay.session is not None and replay.session.rep_count >= 2)
    pump(0.6)
    window.grab().save(str(HERE / "replay.png"))

    pdf = folder / "report.pdf"
    from station.app.settings import preferences

    test_id = made.tests[made.ada.id][-1]
    context.store.exclude_rep(test_id, 2, "heel lifted off the pad")
    write_test_report(context.store, test_id, pdf, preferences.load(context.settings))
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(folder / "page"),
            ],
            check=True,
        )
        shutil.copy(folder / "page.png", HERE / "report-page.png")
    else:
        print("pdftoppm not found: report-page.png not made (apt-get install poppler-utils)")
    window.close()
    print(f"screenshots written to {HERE}")
    app.quit()


if __name__ == "__main__":
    main()
