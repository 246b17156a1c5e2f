"""Readings from a rig for the calibration procedure: the one module here that does I/O.

It wraps :class:`firmware_bridge.link.Link` (reader thread, INFO handshake,
reconnects), pulls its events through the one
:class:`~firmware_bridge.pump.EventPump` on the caller's thread, and turns
its sample blocks into what :class:`Procedure.feed` takes: device times in
seconds and an (n, 2) array of counts.  Times come
from the rig's sample clock (index / rate), never from the host's clock, and
stay increasing across a rig restart (a new segment continues where the last
one ended), so a settle window is never fooled by the host being busy.
The app's wizard can use this too, or feed the procedure from its own
acquisition thread the same way.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

import numpy as np

from firmware_bridge.errors import PortError
from firmware_bridge.link import Blocks, ErrorReported, Link, LinkEvent, LinkState, StateChanged
from firmware_bridge.messages import Info, SampleBlock
from firmware_bridge.pump import EventPump, Listener
from firmware_bridge.segment_clock import SegmentClock

log = logging.getLogger(__name__)

Chunk = tuple[np.ndarray, np.ndarray]  # (t_s (n,), counts (n, 2))

_WORTH_SAYING = {LinkState.DISCONNECTED, LinkState.RECONNECTING, LinkState.SILENT}


class _Readings(Listener):
    """Collects what :meth:`LiveReadings.read` hands out: chunks, notes, a fatal error."""

    def __init__(self, chunk: Callable[[SampleBlock], Chunk]) -> None:
        self._chunk = chunk
        self.chunks: list[Chunk] = []
        self.notes: list[str] = []
        self.fatal: str | None = None
        self._was_down = False

    def on_blocks(self, event: Blocks) -> None:
        self.chunks += [self._chunk(block) for block in event.blocks if len(block)]

    def on_link_error(self, event: ErrorReported) -> None:
        if event.fatal:
            self.fatal = event.message
        else:
            self.notes.append(event.message)

    def on_state(self, event: StateChanged) -> None:
        if event.state in _WORTH_SAYING:
            self._was_down = True
            self.notes.append(event.detail)
        elif self._was_down and event.state == LinkState.STREAMING:
            self._was_down = False
            self.notes.append(event.detail)

    def failed(self, listener: Listener, event: LinkEvent | None, exc: Exception) -> None:
        """A reading that could not be made (e.g. no sample rate yet) is a fatal error."""
        self.fatal = str(exc) or type(exc).__name__

    def take(self) -> tuple[list[Chunk], list[str]]:
        fatal, self.fatal = self.fatal, None
        if fatal is not None:
            raise PortError(fatal)
        chunks, notes = self.chunks, self.notes
        self.chunks, self.notes = [], []
        return chunks, notes


class LiveReadings:
    """Open a rig, stream, and hand out readings as (t_s, counts) chunks.

    ``expected_serial`` refuses another rig.  ``link_factory(port)`` builds
    the link (tests may inject one).
    """

    def __init__(
        self,
        port: str,
        *,
        expected_serial: str | None = None,
        link_factory: Callable[..., Link] | None = None,
    ) -> None:
        self.port = port
        factory = link_factory or Link
        self.link = factory(port, expected_serial=expected_serial)
        self.info: Info | None = None
        self._clock = SegmentClock()
        self._readings = _Readings(self._chunk)
        # Pulled on the caller's thread (read), so no thread of our own to stop.
        self._pump = EventPump(self.link, [self._readings], on_error=self._readings.failed)

    @property
    def serial_number(self) -> str | None:
        return self.link.serial_number

    @property
    def sample_rate_hz(self) -> float:
        info = self.link.info or self.info
        if info is None or info.sample_rate_mhz <= 0:
            raise PortError(f"the rig on {self.port} did not say its sample rate")
        return info.sample_rate_hz

    @property
    def adc_bits(self) -> int:
        info = self.link.info or self.info
        return info.adc_bits if info is not None and 2 <= info.adc_bits <= 32 else 24

    def open(self) -> Info | None:
        """Connect (PortError, one line, if no rig answers) and start streaming."""
        self.info = self.link.open()
        log.info("reading %s for calibration", self.port)
        try:
            self.link.start()
        except PortError:
            self.link.close()
            raise
        return self.info

    def close(self) -> None:
        with contextlib.suppress(PortError):
            if self.link.connected:
                self.link.stop()
        self.link.close()

    def __enter__(self) -> LiveReadings:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, timeout_s: float = 0.1) -> tuple[list[Chunk], list[str]]:
        """Readings that arrived (waiting up to ``timeout_s`` for the first), and notes.

        Notes are one-line link messages worth showing (lost, reconnecting...).
        A fatal link error raises PortError.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            self._pump.pump_once(max(deadline - time.monotonic(), 0.0))
            if self._readings.fatal is not None or self._readings.chunks:
                break
            if time.monotonic() >= deadline:
                break
        return self._readings.take()

    def _chunk(self, block: SampleBlock) -> Chunk:
        return self._clock.chunk(block, self.sample_rate_hz)
