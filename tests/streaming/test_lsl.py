"""The LSL outlet: what an inlet receives matches the recording made at the
same time, value for value, and its time stamps follow the rig's sample clock."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from calibration.certificate import load_certificate, parse_certificate
from firmware_bridge.capture import load_capture
from firmware_bridge.messages import Event, EventCode, Info, SampleBlock
from firmware_bridge.virtual_rig.registry import device_for_url
from station.cli import main
from station.streaming.lsl import DeviceClock, LslPublisher, StreamingError, stream_metadata

pylsl = pytest.importorskip("pylsl")
LostError = pylsl.util.LostError

RATE = 400


class Collector(threading.Thread):
    """An LSL inlet on its own thread: every force sample and marker until told to stop."""

    def __init__(self, name: str) -> None:
        super().__init__(daemon=True)
        self.name_prefix = name
        self.samples: list[list[float]] = []
        self.stamps: list[float] = []
        self.markers: list[tuple[str, float]] = []
        self.metadata: Any = None
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            force = self._inlet(f"{self.name_prefix} force")
            events = self._inlet(f"{self.name_prefix} events")
            self.metadata = force.info(timeout=5.0)
            self.ready.set()
            idle = 0
            while idle < 20:
                try:
                    data, stamps = force.pull_chunk(timeout=0.1)
                    marks, mstamps = events.pull_chunk(timeout=0.0)
                except LostError:
                    return  # the outlet closed: everything it sent has been pulled
                self.samples += data
                self.stamps += stamps
                self.markers += [(m[0], s) for m, s in zip(marks, mstamps, strict=True)]
                idle = idle + 1 if self.stop.is_set() and not data and not marks else 0
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.ready.set()

    def _inlet(self, name: str) -> Any:
        found: list[Any] = []
        while not found and not self.stop.is_set():
            found = pylsl.resolve_byprop("name", name, timeout=1.0)
        inlet = pylsl.StreamInlet(found[0], max_buflen=60, recover=False)
        inlet.open_stream(timeout=5.0)
        return inlet


def test_device_clock_follows_the_sample_index() -> None:
    now = iter([100.0, 200.0])
    clock = DeviceClock(400.0, lambda: next(now))
    assert not clock.anchored
    clock.anchor(segment=0, last_index=399)
    assert clock.time_of(399) == 100.0
    assert clock.time_of(0) == pytest.approx(100.0 - 399 / 400)
    assert clock.needs_anchor(1) and not clock.needs_anchor(0)
    clock.anchor(segment=1, last_index=9)  # a new segment restarts the index
    assert clock.time_of(10) == pytest.approx(200.0 + 1 / 400)


def test_metadata_names_the_rig_and_its_calibration() -> None:
    info = Info(sample_rate_mhz=400_000, serial_number="NR-7", firmware_version="2.1")
    rig = device_for_url(f"virtual://meta-{uuid.uuid4().hex}?rate=400")
    certificate = parse_certificate(rig.calibration_certificate())
    meta = stream_metadata(info, certificate)
    assert meta["rig"]["serial_number"] == "NR-7"
    assert meta["rig"]["sample_rate_hz"] == 400.0
    assert meta["calibration"]["fingerprint"] == certificate.fingerprint()
    assert meta["calibration"]["gains_n_per_count"]["left"] == certificate.gain("left")
    assert stream_metadata(info, None)["calibration"] == {"calibrated": False}


def test_a_publisher_refuses_a_rig_without_a_rate() -> None:
    with pytest.raises(StreamingError, match="no usable sample rate"):
        LslPublisher(Info(sample_rate_mhz=0, serial_number="X"), [1.0, 1.0], pylsl=pylsl)


def test_events_before_the_first_sample_are_stamped_now() -> None:
    name = f"ns-early-{uuid.uuid4().hex[:8]}"
    info = Info(sample_rate_mhz=100_000, serial_number="NR-E")
    publisher = LslPublisher(info, [0.01, 0.01], [0.0, 0.0], name=name, pylsl=pylsl)
    before = pylsl.local_clock()
    publisher.event(Event(EventCode.STARTED, 0))
    publisher.blocks([SampleBlock(0, np.full((10, 2), 1000))])
    publisher.event(Event(EventCode.STOPPED, 10))
    assert [m.text for m in publisher.markers] == [
        "STARTED index 0 arg 0",
        "STOPPED index 10 arg 0",
    ]
    assert publisher.clock.time_of(10) >= before
    publisher.close()


@pytest.mark.slow
def test_an_inlet_receives_what_the_rig_recorded(tmp_path: Path) -> None:
    name = f"ns-test-{uuid.uuid4().hex[:8]}"
    url = f"virtual://lsl-{uuid.uuid4().hex}?rate={RATE}&seed=5&reps=2&rest=1&quiet=0.5"
    rig = device_for_url(url)
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps(rig.calibration_certificate()))
    recording = tmp_path / "streamed.nsrec"
    collector = Collector(name)
    collector.start()
    code = main(
        [
            "stream",
            url,
            "--calibration",
            str(cal),
            "--duration",
            "9",
            "--name",
            name,
            "--record",
            str(recording),
            "--wait",
            "20",
        ]
    )
    collector.stop.set()
    collector.join(timeout=30)
    assert code == 0
    assert collector.error is None, collector.error
    capture = load_capture(recording)
    certificate = load_certificate(cal)
    counts = capture.stream.counts.astype(np.float64)
    gains = np.array([certificate.gain("left"), certificate.gain("right")])
    zeros = np.array([certificate.offset("left"), certificate.offset("right")], dtype=float)
    expected = (counts - zeros) * gains
    received = np.asarray(collector.samples)
    # The recorder connected before START (--wait), so it saw every sample.
    assert received.shape == expected.shape
    np.testing.assert_allclose(received, expected, rtol=1e-6, atol=1e-3)
    # Stamps follow the device clock: exactly one sample period apart.
    np.testing.assert_allclose(np.diff(collector.stamps), 1 / RATE, atol=1e-6)
    texts = [text for text, _ in collector.markers]
    assert texts[0].startswith("STARTED")
    assert texts[-1].startswith("STOPPED")
    onsets = [t for t in texts if t.endswith("onset")]
    peaks = [t for t in texts if " peak left " in t]
    assert len(onsets) == len(peaks) >= 1
    # A rep's onset is stamped on the force stream's clock, inside the data.
    onset_stamp = next(s for t, s in collector.markers if t.endswith("onset"))
    assert collector.stamps[0] <= onset_stamp <= collector.stamps[-1]
    desc = collector.metadata.desc()
    assert desc.child("rig").child_value("serial_number") == rig.serial_number
    assert desc.child("calibration").child_value("fingerprint") == certificate.fingerprint()
    channel = desc.child("channels").child("channel")
    assert (channel.child_value("label"), channel.child_value("unit")) == ("left", "newtons")


def test_stream_needs_a_certificate(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["stream", "virtual://x"])
    assert exited.value.code == 2
    assert "--calibration" in capsys.readouterr().err
