"""The virtual rig: a :class:`~firmware_bridge.device.ByteDevice` that speaks protocol.md.

Why: the station is tested end to end (decoder, link, recording, analysis,
app) against a rig whose every byte and every newton is known, over the same
pyserial paths a real rig uses (``virtual://`` in-process, or a pty through
:class:`~firmware_bridge.device.PtyServer`).

Behaviour (protocol.md):

- At power-on and whenever the port is opened: one 0x00, then INFO.
- Every command is answered with ACK.  GET_INFO: ACK, INFO.  START: ACK,
  EVENT STARTED (index 0), then SAMPLES from index 0 (a START while streaming
  restarts the test at 0).  STOP: the samples taken so far (a last short
  frame), ACK, EVENT STOPPED (``sample_index`` = samples taken).  SET_RATE:
  ACK 3 (busy) while streaming, ACK 2 outside 10..2000 Hz, else ACK 0 and
  INFO.  A valid frame of any other type: ACK status 1 (unknown command).
  A corrupt frame gets no answer (the host times out and retries).
- Time base: the sample clock.  Sample ``i`` is taken at ``start + i / rate``
  (``start`` is the time START arrived); ``poll(now)`` sends every whole block
  taken by ``now``.  Blocks sit on a fixed grid of ``block_size`` samples,
  so the bytes do not depend on how often the rig is polled.  The default
  block is 50 ms of samples (1..30), so a SAMPLES frame leaves at least every
  100 ms at any rate.
- HEARTBEAT at every whole second of uptime while not streaming.
- Unplug: ``connected`` is False (the port is gone); at replug the rig
  reboots: power-on rate, not streaming, 0x00 + INFO.  ``boot_count`` tells a
  stale port handle from a fresh one.

All ``now`` values of the ByteDevice methods are one monotonic clock
(``time.monotonic()`` when served); the rig's own time runs ``speed`` times
faster from the first of them (:meth:`VirtualRig.rig_time`).  Operator actions
(``unplug``, ``replug``) and :meth:`VirtualRig.capture_bytes` (a virtual clock
from 0) use rig time.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np

from firmware_bridge.decoder import StreamDecoder
from firmware_bridge.errors import InputError
from firmware_bridge.framing import decode_frame, encode_frame
from firmware_bridge.messages import (
    MAX_SAMPLES_PER_FRAME,
    Ack,
    AckStatus,
    Event,
    EventCode,
    GetInfo,
    Heartbeat,
    Info,
    Message,
    MsgType,
    SampleFlag,
    SetRate,
    Start,
    Stop,
    encode,
    samples_body,
)
from firmware_bridge.virtual_rig.clock import RigClock
from firmware_bridge.virtual_rig.counts import LoadCellAdc
from firmware_bridge.virtual_rig.faults import (
    ADC_FAULT_CODE,
    FaultInjector,
    FaultRecord,
    FaultSpec,
)
from firmware_bridge.virtual_rig.model import Athlete, NordicModel, RepTruth, channel_index

log = logging.getLogger(__name__)

DEFAULT_SERIAL = "NR-SIM-0001"
FIRMWARE_VERSION = "virtual-rig 1"
MIN_RATE_HZ = 10.0
MAX_RATE_HZ = 2000.0
FRAME_TARGET_S = 0.05  # default block: 50 ms of samples
MAX_FRAME_INTERVAL_S = 0.1  # protocol.md: a SAMPLES frame at least every 100 ms
HEARTBEAT_S = 1.0
MAX_COMMAND_BYTES = 1024  # host bytes held while waiting for a delimiter
MAX_BACKLOG_HEARTBEATS = 60
CAPTURE_STEP_S = 0.1


def _rate_ok(rate_mhz: int) -> bool:
    return round(MIN_RATE_HZ * 1000) <= rate_mhz <= round(MAX_RATE_HZ * 1000)


class VirtualRig(RigClock):
    """A two-channel Nordic rig with a force model, an HX711-like ADC and faults.

    ``model`` defaults to ``NordicModel(Athlete(), seed=seed)``;
    ``block_size`` (1..30 samples per SAMPLES frame) defaults to 50 ms of
    samples and is capped so frames leave at least every 100 ms.  ``faults``
    are :class:`FaultSpec` or ``--fault`` strings.  ``speed``: the rig's
    time runs that many times faster than the host's (so a GUI test need not
    wait on a real-time athlete); its bytes are those of a rig at 1×, only
    sent sooner.
    """

    def __init__(
        self,
        model: NordicModel | None = None,
        *,
        rate_hz: float = 80.0,
        seed: int = 0,
        serial_number: str = DEFAULT_SERIAL,
        firmware_version: str = FIRMWARE_VERSION,
        adc: LoadCellAdc | None = None,
        faults: Iterable[str | FaultSpec] = (),
        block_size: int | None = None,
        speed: float = 1.0,
    ) -> None:
        rate_mhz = round(float(rate_hz) * 1000) if math.isfinite(rate_hz) else 0
        if not _rate_ok(rate_mhz):
            raise InputError(
                f"sample rate must be {MIN_RATE_HZ:g}..{MAX_RATE_HZ:g} Hz, not {rate_hz:g}"
            )
        if not serial_number.isascii() or len(serial_number) > 16 or not serial_number:
            raise InputError(f"serial number must be 1..16 ASCII characters, not {serial_number!r}")
        if block_size is not None and (
            isinstance(block_size, bool) or not 1 <= block_size <= MAX_SAMPLES_PER_FRAME
        ):
            raise InputError(
                f"block size must be 1..{MAX_SAMPLES_PER_FRAME} samples, not {block_size!r}"
            )
        self.model = model if model is not None else NordicModel(Athlete(), seed=seed)
        self.adc = adc if adc is not None else LoadCellAdc()
        self.faults = FaultInjector(faults, seed)
        self.serial_number = serial_number
        self.firmware_version = firmware_version
        self.configured_block_size = block_size
        self._power_on_rate_mhz = rate_mhz
        self._lock = threading.RLock()
        self.connected = True
        self.boot_count = 0
        self._t0: float | None = None
        super().__init__(speed)
        self._reset_state()

    def _reset_state(self) -> None:
        self._rate_mhz = self._power_on_rate_mhz
        self.model.rate_hz = self.rate_hz
        self._now = 0.0
        self._boot_time = 0.0
        self._outbox = bytearray()
        self._greeting_unsent = False
        self._streaming = False
        self._start = 0.0
        self._next_index = 0
        self._next_heartbeat = math.inf
        self._replug_at: float | None = None
        self.unplugged_at: float | None = None  # rig time the cable last went
        self._commands = StreamDecoder(accept="host")
        self._command_bytes = bytearray()
        self.frames_sent = 0  # SAMPLES frames put on the wire
        self.samples_sent = 0

    # -- what the rig says about itself --------------------------------------------
    @property
    def session_started_at(self) -> float:
        """Rig time of the last START (what a test measures its own timing against)."""
        return self._start

    @property
    def rate_hz(self) -> float:
        return self._rate_mhz / 1000.0

    @property
    def info(self) -> Info:
        return Info(
            sample_rate_mhz=self._rate_mhz,
            serial_number=self.serial_number,
            firmware_version=self.firmware_version,
            adc_bits=self.adc.adc_bits,
        )

    @property
    def block_size(self) -> int:
        """Samples per SAMPLES frame at the current rate."""
        cap = max(
            1, min(MAX_SAMPLES_PER_FRAME, math.floor(self.rate_hz * MAX_FRAME_INTERVAL_S + 1e-9))
        )
        if self.configured_block_size is not None:
            return min(self.configured_block_size, cap)
        return max(1, min(cap, math.floor(self.rate_hz * FRAME_TARGET_S + 1e-9)))

    @property
    def streaming(self) -> bool:
        return self._streaming

    @property
    def next_index(self) -> int:
        """Index of the next sample the rig will take in this session."""
        return self._next_index

    @property
    def host_counters(self) -> dict[str, int]:
        """The command decoder's counters: what the rig made of the host's bytes."""
        return self._commands.counters.to_dict()

    # -- the truth behind the counts ---------------------------------------------------
    def expected_counts(self, index: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """(counts int32 (n, 2), saturated bool (n, 2)) the rig sends for sample indices
        at the current rate (faults aside)."""
        return self.adc.counts(self.model.measured_force(index))

    def true_force(self, index: np.ndarray | int) -> np.ndarray:
        """Noiseless force of sample indices, (n, 2) N (see NordicModel.true_force)."""
        return self.model.true_force(index)

    def rep_windows(self) -> list[RepTruth]:
        return self.model.rep_windows()

    def calibration_certificate(self, created: datetime | str | None = None) -> dict[str, Any]:
        """The certificate (calibration.md) with the rig's true gains and offsets."""
        return self.adc.certificate(self.serial_number, created)

    # -- the same, in rig time ----------------------------------------------------------
    def _open_at(self, now: float) -> None:
        self._tick(now)
        if self.connected and not self._greeting_unsent:
            self._greet()

    def _receive_at(self, data: bytes, now: float) -> None:
        self._tick(now)
        if not self.connected or not data:
            return
        self._advance(now)
        self._command_bytes += data
        while True:
            end = self._command_bytes.find(0)
            if end < 0:
                if len(self._command_bytes) > MAX_COMMAND_BYTES:
                    self._command_bytes.clear()
                return
            frame = bytes(self._command_bytes[: end + 1])
            del self._command_bytes[: end + 1]
            self._command_frame(frame, now)

    def _poll_at(self, now: float) -> bytes:
        self._tick(now)
        if not self.connected:
            return b""
        self._advance(now)
        if self.faults.held_until(now) is not None:
            return b""
        return self._take()

    def _next_due_at(self, now: float) -> float:
        times = [now + HEARTBEAT_S]
        if self._t0 is not None:
            unplug = self.faults.next_unplug()
            if unplug is not None:
                times.append(self._t0 + unplug)
        if self._replug_at is not None:
            times.append(self._replug_at)
        if not self.connected:
            return min(times)
        held = self.faults.held_until(now)
        if held is not None:
            return min([*times, held])
        if self._outbox:
            return now
        if self._streaming:
            frame_end = (self._next_index // self.block_size + 1) * self.block_size
            times.append(self._start + (frame_end - 1) / self.rate_hz)
            stall = self.faults.next_stall(now)
            if stall is not None:
                times.append(stall)
        else:
            times.append(self._next_heartbeat)
        return min(times)

    def _tick(self, now: float) -> None:
        """Let rig time pass to ``now``: power-on, scheduled unplugs and replugs."""
        if self._t0 is None:
            self._t0 = now
            self._boot(now)
        self._now = max(self._now, now)
        for at, duration in self.faults.due_unplugs(now - self._t0):
            start = self._t0 + at
            if self.connected:
                self._advance(start)
                self._unplug(start, start + duration)
        if not self.connected and self._replug_at is not None and now >= self._replug_at:
            self._replug(self._replug_at)

    # -- operator actions -----------------------------------------------------------------
    def set_static_load(
        self, channel: int | str, mass_kg: float, at_s: float | None = None
    ) -> None:
        """Hang ``mass_kg`` on a hook (0 kg: take it off).

        ``at_s`` (seconds from START) scripts the change for every session.
        Without it the change is live: from the next sample taken if streaming
        (with ramp, swing and creep), else settled by the next START.
        """
        with self._lock:
            ch = channel_index(channel)
            if at_s is not None:
                self.model.static.set_mass(ch, mass_kg, at_s)
            elif self._streaming:
                self.model.static.set_mass(ch, mass_kg, self._next_index / self.rate_hz, live=True)
            else:
                self.model.static.set_mass(ch, mass_kg)

    def press_button(self) -> None:
        """The operator pressed the rig's button: EVENT BUTTON at the next sample index."""
        with self._lock:
            if self.connected:
                self._emit(
                    encode(Event(EventCode.BUTTON, self._next_index if self._streaming else 0))
                )

    def unplug(self, for_s: float | None = None, now: float | None = None) -> None:
        """Pull the cable at rig time ``now`` (default: the last time the rig saw); replug
        after ``for_s`` seconds of rig time, or at :meth:`replug`."""
        with self._lock:
            at = self._now if now is None else now
            self._tick(at)
            if self.connected:
                self._unplug(at, None if for_s is None else at + for_s)

    def replug(self, now: float | None = None) -> None:
        """Plug the cable back in at rig time ``now``: the rig reboots."""
        with self._lock:
            at = self._now if now is None else now
            if not self.connected:
                self._replug(at)

    def power_cycle(self) -> None:
        """Back to power-on, as if new (the model and its static loads stay)."""
        with self._lock:
            self.connected = True
            self.boot_count = 0
            self._t0 = None
            self.faults.reset()
            self._reset_state()

    # -- offline -----------------------------------------------------------------------------
    def capture_bytes(self, duration_s: float, *, stop: bool = True) -> bytes:
        """The exact bytes the rig sends for a session of ``duration_s`` seconds from START,
        as a raw capture: 0x00, INFO, ACK, EVENT STARTED, SAMPLES ... and, with ``stop``,
        the last short frame, ACK and EVENT STOPPED.

        Runs on a virtual clock from 0 (no real time; the rig is power-cycled first).
        The session holds ``ceil(duration_s * rate)`` samples.  Faults apply; stalls
        only delay bytes, so a capture holds them all.
        """
        if not (math.isfinite(duration_s) and duration_s > 0):
            raise InputError(f"capture duration must be > 0 s, not {duration_s!r}")
        with self._lock:
            self.power_cycle()
            out = bytearray()
            self._open_at(0.0)
            self._receive_at(encode(Start()), 0.0)
            n = max(1, math.ceil(duration_s * self.rate_hz - 1e-9))
            end = (n - 1) / self.rate_hz
            times = set(np.arange(CAPTURE_STEP_S, end, CAPTURE_STEP_S).tolist())
            for at, duration in self.faults.unplug_times():
                # just before the cable goes, so what was sent by then is kept
                times.update(t for t in (at - 1e-6, at, at + duration) if 0 < t < end)
            for t in sorted(times):
                out += self._poll_at(t)
            out += self._poll_at(end)
            if stop:
                self._receive_at(encode(Stop()), end)
            if self.connected:
                out += self._take()
            return bytes(out)

    # -- inside ------------------------------------------------------------------------------
    def _take(self) -> bytes:
        out = bytes(self._outbox)
        self._outbox.clear()
        self._greeting_unsent = False
        return out

    def _emit(self, data: bytes) -> None:
        self._outbox += self.faults.flip_bytes(data)

    def _reply(self, *messages: Message) -> None:
        self._emit(b"".join(encode(m) for m in messages))

    def _greet(self) -> None:
        self._emit(b"\x00" + encode(self.info))
        self._greeting_unsent = True

    def _boot(self, at: float) -> None:
        self.boot_count += 1
        self._boot_time = at
        self._streaming = False
        self._next_index = 0
        self.faults.stop_session()
        self._rate_mhz = self._power_on_rate_mhz
        self.model.rate_hz = self.rate_hz
        self._next_heartbeat = at + HEARTBEAT_S
        self._outbox.clear()
        self._commands = StreamDecoder(accept="host")
        self._command_bytes.clear()
        self._greet()

    def _unplug(self, at: float, until: float | None) -> None:
        log.info("virtual rig %s unplugged at %.3f s", self.serial_number, at)
        self.connected = False
        self.unplugged_at = at
        self._streaming = False
        self.faults.stop_session()
        self._outbox.clear()
        self._replug_at = until
        self.faults.log.append(
            FaultRecord("unplug", None, math.inf if until is None else until - at)
        )
        self.faults.stats["unplugs"] += 1

    def _replug(self, at: float) -> None:
        log.info("virtual rig %s plugged back in at %.3f s", self.serial_number, at)
        self.connected = True
        self._replug_at = None
        self._boot(at)

    def _due_count(self, now: float) -> int:
        """Samples taken by ``now`` in this session."""
        if now < self._start:
            return 0
        return math.floor((now - self._start) * self.rate_hz + 1e-6) + 1

    def _advance(self, now: float) -> None:
        if self._streaming:
            self._send_samples(self._due_count(now), whole_blocks=True)
        if now - self._next_heartbeat > MAX_BACKLOG_HEARTBEATS * HEARTBEAT_S:
            self._next_heartbeat += math.floor(now - self._next_heartbeat) - MAX_BACKLOG_HEARTBEATS
        while self._next_heartbeat <= now:
            if not self._streaming:
                uptime_ms = round((self._next_heartbeat - self._boot_time) * 1000)
                self._emit(encode(Heartbeat(uptime_ms)))
            self._next_heartbeat += HEARTBEAT_S

    def _send_samples(self, due: int, whole_blocks: bool) -> None:
        block = self.block_size
        first = self._next_index
        end = (due // block) * block if whole_blocks else due
        if end <= first:
            return
        counts, saturated = self.expected_counts(np.arange(first, end, dtype=np.int64))
        start = first
        while start < end:
            stop = min((start // block + 1) * block, end)
            self._send_slot(
                start,
                stop,
                counts[start - first : stop - first],
                saturated[start - first : stop - first],
            )
            start = stop
        self._next_index = end

    def _send_slot(self, first: int, stop: int, counts: np.ndarray, saturated: np.ndarray) -> None:
        plan = self.faults.slot(first, stop)
        out = bytearray(plan.garbage)
        for index in self.faults.adc_fault_starts(first, stop):
            out += encode(Event(EventCode.FAULT, index, ADC_FAULT_CODE))
        flip = plan.flip
        for kind, a, b in self.faults.pieces(first, stop):
            if kind == "overrun":
                out += encode(Event(EventCode.OVERRUN, a, b))
                continue
            rows = slice(a - first, b - first)
            flags = self.adc.frame_flags(saturated[rows])
            if self.faults.adc_faulty(a, b):
                flags |= SampleFlag.ADC_FAULT
            frame = encode_frame(samples_body(a, counts[rows], flags))
            if plan.drop:
                self.faults.note_dropped(a, b - a)
                continue
            if flip:
                frame = self.faults.flip_frame(frame, a, b - a)
                flip = False
            else:
                self.samples_sent += b - a
            self.frames_sent += 1
            out += frame
        self._emit(bytes(out))

    def _command_frame(self, frame: bytes, now: float) -> None:
        decoder = self._commands
        unknown = decoder.counters.frames_unknown
        messages = decoder.feed(frame)
        if decoder.counters.frames_unknown > unknown:
            body = decode_frame(frame[:-1])
            if body:
                self._reply(Ack(body[0], AckStatus.UNKNOWN_COMMAND))
        for message in messages:
            self._command(message, now)

    def _command(self, message: Message, now: float) -> None:
        if isinstance(message, GetInfo):
            self._reply(Ack(MsgType.GET_INFO), self.info)
        elif isinstance(message, Start):
            if self._streaming:
                self._send_samples(self._due_count(now), whole_blocks=False)
            self._streaming = True
            self._start = now
            self._next_index = 0
            self.model.static.settle_live()
            self.faults.start_session(self.rate_hz, self.block_size, now)
            self._reply(Ack(MsgType.START), Event(EventCode.STARTED, 0))
        elif isinstance(message, Stop):
            if self._streaming:
                self._send_samples(self._due_count(now), whole_blocks=False)
                self._streaming = False
                self.faults.stop_session()
            self._reply(Ack(MsgType.STOP), Event(EventCode.STOPPED, self._next_index))
        elif isinstance(message, SetRate):
            if self._streaming:
                self._reply(Ack(MsgType.SET_RATE, AckStatus.BUSY))
            elif not _rate_ok(message.sample_rate_mhz):
                self._reply(Ack(MsgType.SET_RATE, AckStatus.BAD_ARGUMENT))
            else:
                self._rate_mhz = message.sample_rate_mhz
                self.model.rate_hz = self.rate_hz
                self._reply(Ack(MsgType.SET_RATE), self.info)
