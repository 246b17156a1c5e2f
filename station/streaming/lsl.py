"""The rig's force, in newtons, as a Lab Streaming Layer outlet.

Labs record several devices at once (EMG, motion capture, video) with LSL's
LabRecorder; publishing the rig's left and right force there lines the
Nordic test up with everything else without a custom bridge.  Two streams:

- ``<name> force`` (type ``Force``): 2 float32 channels, left then right, in
  newtons after the tare, unfiltered, at the rig's nominal rate.  Its
  metadata holds the rig (serial, firmware, rate, ADC bits), the channels'
  labels and units, and the calibration (fingerprint, gains, who, when).
- ``<name> events`` (type ``Markers``): one string channel, irregular: the
  rig's STARTED and STOPPED, and each repetition's onset and peaks as the
  live detector finds them.

Time stamps follow the rig's sample clock, not the arrival of USB reads:
the first block anchors device index to LSL time, after which a sample's
stamp is ``anchor + (index - anchor_index) / rate``; a new segment (START,
or a rig that rebooted) anchors afresh.  Bursty USB delivery therefore does
not jitter the stamps.

``pylsl`` (which ships liblsl) is imported only when a publisher is made,
so the rest of the station runs where it is not installed.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calibration.certificate import Certificate
from firmware_bridge.errors import NordicError
from firmware_bridge.link import Blocks, Received
from firmware_bridge.messages import Event, EventCode, Info, SampleBlock
from firmware_bridge.pump import Listener
from station.analysis.live import LiveProcessor, LiveRep
from station.analysis.settings import AnalysisSettings

log = logging.getLogger(__name__)

CHANNELS = ("left", "right")
DEFAULT_NAME = "Nordic Station"
MARKERS_KEPT = 64


class StreamingError(NordicError):
    """Live streaming cannot start (pylsl missing, or liblsl refused)."""


def load_pylsl() -> Any:
    """The pylsl module, or a clear error saying how to get it."""
    try:
        import pylsl
    except (ImportError, OSError, RuntimeError) as exc:
        raise StreamingError(
            f"Lab Streaming Layer is not available here ({exc})",
            hint="Install pylsl into the station's environment to stream live.",
            cli_hint="install it with: .venv/bin/pip install pylsl",
        ) from None
    return pylsl


@dataclass(frozen=True)
class Marker:
    """One event as published: its text and the device index it happened at."""

    text: str
    index: int


class DeviceClock:
    """Device sample index -> LSL time, anchored once per segment."""

    def __init__(self, rate_hz: float, now: Callable[[], float]) -> None:
        self.rate_hz = float(rate_hz)
        self._now = now
        self._segment: int | None = None
        self._anchor_index = 0
        self._anchor_time = 0.0

    @property
    def anchored(self) -> bool:
        return self._segment is not None

    def anchor(self, segment: int, last_index: int) -> None:
        """The sample ``last_index`` of ``segment`` arrived just now."""
        self._segment = segment
        self._anchor_index = last_index
        self._anchor_time = self._now()

    def now(self) -> float:
        return self._now()

    def needs_anchor(self, segment: int) -> bool:
        return self._segment != segment

    def time_of(self, index: float) -> float:
        return self._anchor_time + (index - self._anchor_index) / self.rate_hz


def stream_metadata(info: Info, certificate: Certificate | None) -> dict[str, Any]:
    """What the force stream says about its source, as nested plain values."""
    rig = {
        "serial_number": info.serial_number,
        "firmware_version": info.firmware_version,
        "sample_rate_hz": info.sample_rate_hz,
        "adc_bits": info.adc_bits,
        "protocol_version": info.protocol_version,
    }
    calibration: dict[str, Any] = {"calibrated": certificate is not None}
    if certificate is not None:
        calibration.update(
            fingerprint=certificate.fingerprint(),
            device_serial=certificate.device_serial or "",
            created=str(certificate.created or ""),
            valid_until=str(certificate.valid_until or ""),
            gains_n_per_count={name: certificate.gain(name) for name in CHANNELS},
        )
    return {
        "manufacturer": "Nordic Station",
        "rig": rig,
        "calibration": calibration,
        "processing": {"tare": "station zero", "filter": "none (raw newtons)"},
    }


def _append(element: Any, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict):
            _append(element.append_child(key), value)
        else:
            element.append_child_value(key, str(value))


class LslPublisher:
    """Publish one rig's force and events to LSL while it streams.

    Feed it what the link delivers: :meth:`blocks` with sample blocks (counts)
    and :meth:`event` with the rig's EVENT messages.  It converts counts to
    newtons with the certificate's gains and the station's zero (the
    certificate's offset, else the first samples), and finds reps with the
    live detector for the event stream.  Gains and zeros come from the certificate
    unless given (a test, or a rig read without one).
    """

    def __init__(
        self,
        info: Info,
        gains: Sequence[float] | None = None,
        zeros: Sequence[float] | None = None,
        *,
        certificate: Certificate | None = None,
        settings: AnalysisSettings | None = None,
        name: str = DEFAULT_NAME,
        pylsl: Any = None,
    ) -> None:
        if not info.sample_rate_hz or not math.isfinite(info.sample_rate_hz):
            raise StreamingError(f"the rig reports no usable sample rate ({info.sample_rate_hz})")
        lsl = pylsl or load_pylsl()
        self.info = info
        self.rate_hz = info.sample_rate_hz
        if gains is None:
            if certificate is None:
                raise StreamingError("streaming newtons needs the rig's calibration certificate")
            gains = [certificate.gain(name) for name in CHANNELS]
            offsets = [certificate.offset(name) for name in CHANNELS]
            if zeros is None and None not in offsets:
                zeros = [float(z) for z in offsets if z is not None]
        self.gains = (float(gains[0]), float(gains[1]))
        self._zeros = None if zeros is None else (float(zeros[0]), float(zeros[1]))
        self._settings = settings or AnalysisSettings()
        self._processor: LiveProcessor | None = None
        self.clock = DeviceClock(self.rate_hz, lsl.local_clock)
        self.samples = 0
        self.markers: deque[Marker] = deque(maxlen=MARKERS_KEPT)  # the latest, for a status line
        source = f"nordic-station-{info.serial_number or 'rig'}"
        force_info = lsl.StreamInfo(f"{name} force", "Force", 2, self.rate_hz, "float32", source)
        desc = force_info.desc()
        channels = desc.append_child("channels")
        for label in CHANNELS:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", "newtons")
            channel.append_child_value("type", "Force")
        _append(desc, stream_metadata(info, certificate))
        marker_info = lsl.StreamInfo(
            f"{name} events", "Markers", 1, lsl.IRREGULAR_RATE, "string", f"{source}-events"
        )
        self._force = lsl.StreamOutlet(force_info)
        self._events = lsl.StreamOutlet(marker_info)
        log.info("LSL outlets open for rig %s at %.1f Hz", info.serial_number, self.rate_hz)

    def _processor_for(self, counts: np.ndarray) -> LiveProcessor:
        if self._processor is None:
            self._processor = LiveProcessor.starting_with(
                self.rate_hz, self.gains, self._zeros, counts, self._settings
            )
        return self._processor

    def blocks(self, blocks: Sequence[SampleBlock]) -> None:
        """Publish sample blocks (in arrival order) as newtons with device-clock stamps."""
        for block in blocks:
            if len(block) == 0:
                continue
            if self.clock.needs_anchor(block.segment):
                if self._processor is not None:
                    self._processor.reset()
                self.clock.anchor(block.segment, block.first_index + len(block) - 1)
            update = self._processor_for(block.counts).process(block.counts, block.first_index)
            last_stamp = self.clock.time_of(block.first_index + len(block) - 1)
            self._force.push_chunk(np.ascontiguousarray(update.raw_n, np.float32), last_stamp)
            self.samples += len(block)
            for rep in update.completed:
                self._rep(rep)

    def _rep(self, rep: LiveRep) -> None:
        self._mark(f"rep {rep.number} onset", round(rep.start_s * self.rate_hz))
        self._mark(
            f"rep {rep.number} peak left {_newtons(rep.left_peak_n)} right "
            f"{_newtons(rep.right_peak_n)}",
            round(rep.end_s * self.rate_hz),
        )

    def event(self, event: Event) -> None:
        """The rig's own EVENT messages (STARTED, STOPPED, faults) as markers."""
        try:
            name = EventCode(event.code).name
        except ValueError:
            name = f"EVENT {event.code}"
        self._mark(f"{name} index {event.sample_index} arg {event.arg}", event.sample_index)

    def _mark(self, text: str, index: int) -> None:
        stamp = self.clock.time_of(index) if self.clock.anchored else self.clock.now()
        self._events.push_sample([text], stamp)
        self.markers.append(Marker(text, index))

    def wait_for_consumers(self, timeout_s: float) -> bool:
        """Whether a recorder connected to both streams within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        for outlet in (self._force, self._events):
            if not outlet.wait_for_consumers(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def close(self, linger_s: float = 1.0) -> None:
        """Close both outlets (inlets see the streams end).

        liblsl sends from its own threads and drops what is still queued when an
        outlet is destroyed, so while a recorder is connected the outlets stay
        open up to ``linger_s`` for the last chunk to leave.
        """
        if self._force is None:
            return
        deadline = time.monotonic() + linger_s
        if self._force.have_consumers():
            while time.monotonic() < deadline and self._force.have_consumers():
                time.sleep(0.05)
        self._force = None
        self._events = None


class LslListener(Listener):
    """An :class:`~firmware_bridge.pump.EventPump` listener that feeds a publisher."""

    def __init__(self, publisher: LslPublisher) -> None:
        self.publisher = publisher

    def on_blocks(self, event: Blocks) -> None:
        self.publisher.blocks(event.blocks)

    def on_received(self, event: Received) -> None:
        if isinstance(event.message, Event):
            self.publisher.event(event.message)


def _newtons(value: float | None) -> str:
    """A peak for a marker; "none" for a leg not in an isometric one-leg rep."""
    return "none" if value is None else f"{value:.1f} N"
