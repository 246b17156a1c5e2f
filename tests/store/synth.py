"""Captures for the store's tests, made by the virtual rig (known truth, real bytes).

A short session (3 reps, 5 s rests, ~27 s) keeps every test fast; the rig's
certificate holds the true gains, so stored peaks can be checked against the
model's truth.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from firmware_bridge.messages import Info
from firmware_bridge.recording import RecordingWriter
from firmware_bridge.virtual_rig import Athlete, NordicModel, VirtualRig

SECONDS = 27.0


def rig(
    left: float = 300.0,
    right: float = 250.0,
    *,
    rate_hz: float = 80.0,
    seed: int = 1,
    reps: int = 3,
    serial: str = "NR-SIM-0001",
) -> VirtualRig:
    athlete = Athlete(left_peak_n=left, right_peak_n=right, reps=reps, rest_s=5.0)
    return VirtualRig(NordicModel(athlete, seed=seed), rate_hz=rate_hz, serial_number=serial)


def capture(
    left: float = 300.0, right: float = 250.0, seconds: float = SECONDS, **kw: object
) -> bytes:
    """A raw binary capture, as ``cat /dev/ttyACM0 > file`` would give."""
    return rig(left, right, **kw).capture_bytes(seconds)  # type: ignore[arg-type]


def certificate(serial: str = "NR-SIM-0001") -> dict:
    """The rig's true-gain certificate; issued today at midnight, so two calls agree."""
    return rig(serial=serial).calibration_certificate(created=f"{date.today()}T00:00:00Z")


def write_capture(path: Path, left: float = 300.0, right: float = 250.0, **kw: object) -> Path:
    path.write_bytes(capture(left, right, **kw))
    return path


def text_capture(seconds: float = SECONDS) -> bytes:
    """The same session in the text dialect (a DIY rig printing counts)."""
    from firmware_bridge.decoder import decode_bytes

    stream = decode_bytes(capture(seconds=seconds))
    lines = ["# rate=80", "# serial=NR-SIM-0001"]
    lines += [f"{left},{right}" for left, right in stream.counts.tolist()]
    return ("\n".join(lines) + "\n").encode("ascii")


def write_recording(path: Path, data: bytes | None = None, *, calibration: bool = True) -> Path:
    """A station recording of a rig's bytes, with the certificate in its header."""
    device = rig()
    data = capture() if data is None else data
    info = Info(int(device.rate_hz * 1000), "NR-SIM-0001", "virtual-rig 1")
    with RecordingWriter(
        path,
        port="virtual://test",
        info=info,
        calibration=certificate() if calibration else None,
    ) as writer:
        step = 2048
        for i in range(0, len(data), step):
            writer.write(data[i : i + step], t=i / len(data) * SECONDS)
    return path
