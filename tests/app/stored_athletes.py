"""Data for the screen tests: a store filled through its API from virtual-rig captures.

Every test is a real capture (``VirtualRig.capture_bytes``) with the rig's
own certificate, imported with ``store.new_tests.import_file``: the history, team and
report screens read exactly what a clinic's database would hold.  Captures
are short (three quick reps, ~12 s of device time) and cached, so a store of
a dozen tests takes a fraction of a second.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig

RIG_SERIAL = "NR-SIM-0001"

# (recorded at, left peak N, right peak N) for the athlete with a history.
ADA_TESTS = (
    ("2026-01-12T09:00:00Z", 262.0, 251.0),
    ("2026-02-09T09:00:00Z", 284.0, 266.0),
    ("2026-03-09T09:00:00Z", 296.0, 281.0),
    ("2026-04-20T09:00:00Z", 231.0, 268.0),
    ("2026-05-18T09:00:00Z", 305.0, 294.0),
    ("2026-06-15T09:00:00Z", 372.0, 301.0),
)
TEAM = "First XV"
# name, sport, left, right: the rest of the squad, one test each.
SQUAD = (
    ("Ben Carter", "rugby union", 238.0, 229.0),
    ("Cai Duffy", "rugby union", 341.0, 262.0),
    ("Dev Evans", "rugby union", 318.0, 309.0),
)


@functools.lru_cache(maxsize=64)
def capture(left: float, right: float, seed: int = 1, rate_hz: float = 80.0) -> bytes:
    """A raw capture of three quick bilateral reps (quiet start for the tare)."""
    athlete = Athlete(
        left_peak_n=left,
        right_peak_n=right,
        reps=3,
        rest_s=2.0,
        quiet_start_s=1.5,
        rise_s=0.9,
        fall_s=0.3,
    )
    rig = VirtualRig(NordicModel(athlete, seed=seed), rate_hz=rate_hz, serial_number=RIG_SERIAL)
    return rig.capture_bytes(athlete.quiet_start_s + 3 * athlete.slot_s + 1.0)


def certificate() -> dict[str, Any]:
    """The virtual rig's own certificate (its true gains)."""
    return VirtualRig(serial_number=RIG_SERIAL).calibration_certificate(
        created="2026-01-01T08:00:00Z"
    )


def import_session(
    store: Any, athlete: Any, folder: Path, when: str, left: float, right: float, seed: int = 1
) -> Any:
    """Import one virtual session for ``athlete`` recorded at ``when``."""
    path = folder / f"capture-{athlete.id}-{when[:10]}.bin"
    path.write_bytes(capture(left, right, seed))
    return store.new_tests.import_file(
        athlete, path, certificate=certificate(), recorded_at=when, operator="tester"
    )


@dataclass
class Populated:
    """What :func:`populate` made: the athletes and their test ids, oldest first."""

    ada: Any
    squad: list[Any]
    tests: dict[int, list[int]] = field(default_factory=dict)


def populate(store: Any, folder: Path) -> Populated:
    """Ada (soccer, six tests, an injury) plus a rugby squad, all in team TEAM."""
    folder.mkdir(parents=True, exist_ok=True)
    ada = store.athletes.add(
        "Ada Lovelace",
        external_id="S01",
        sport="soccer",
        team=TEAM,
        body_mass_kg=68.0,
        lever_arm_m=0.42,
        dominant_leg="right",
        date_of_birth="2001-03-02",
        sex=None,  # not recorded: the (male) soccer line applies, marked as a male cohort
    )
    store.athletes.add_injury(ada, "left", "2026-03-30", "hamstring strain, grade 1")
    done = Populated(ada, [])
    done.tests[ada.id] = [
        import_session(store, ada, folder, when, left, right, seed=i + 1).id
        for i, (when, left, right) in enumerate(ADA_TESTS)
    ]
    for i, (name, sport, left, right) in enumerate(SQUAD):
        athlete = store.athletes.add(name, sport=sport, team=TEAM, body_mass_kg=90.0 + i)
        done.squad.append(athlete)
        done.tests[athlete.id] = [
            import_session(
                store, athlete, folder, "2026-06-10T10:00:00Z", left, right, seed=20 + i
            ).id
        ]
    done.squad.append(store.athletes.add("Eli Ford", sport="rugby union", team=TEAM))
    return done


def make_context(data_dir: Path, settings_path: Path) -> Any:
    """An AppContext as the app builds it (store, settings, acquisition), without a window."""
    from station.app.rig.acquisition import Acquisition
    from station.app.shell.app import application
    from station.app.shell.context import AppContext
    from station.app.shell.settings import AppSettings
    from station.store import open_store

    application()
    store = open_store(data_dir, actor="tester")
    return AppContext(data_dir, AppSettings(settings_path), store, Acquisition(store), "tester")


def close_context(context: Any) -> None:
    context.acquisition.shutdown()
    context.store.close()


def write_recording(path: Path, left: float = 300.0, right: float = 260.0, seed: int = 3) -> Path:
    """A station recording of one virtual session, its bytes arriving as the rig sent them
    (arrival times spread over the session), with the rig's certificate in its header."""
    from firmware_bridge.decoder import decode_bytes
    from firmware_bridge.recording import RecordingWriter

    data = capture(left, right, seed)
    duration = decode_bytes(data).duration_s() or 1.0
    rig = VirtualRig(serial_number=RIG_SERIAL)
    with RecordingWriter(
        path, port="virtual://test", info=rig.info, calibration=certificate()
    ) as writer:
        step = 256
        for start in range(0, len(data), step):
            writer.write(data[start : start + step], t=duration * start / len(data))
    return path


_TEMPLATES: dict[str, tuple[Path, Populated]] = {}


def populated_copy(template_root: Path, target: Path) -> Populated:
    """A data folder at ``target`` holding the :func:`populate` store, copied from a template
    made once per test session (importing the tests again for every test is the slow part)."""
    import shutil

    from station.store import open_store

    key = str(template_root)
    if key not in _TEMPLATES:
        folder = template_root / "data"
        with open_store(folder, actor="tester") as store:
            made = populate(store, template_root / "caps")
        _TEMPLATES[key] = (folder, made)
    folder, made = _TEMPLATES[key]
    shutil.copytree(folder, target)
    return made
