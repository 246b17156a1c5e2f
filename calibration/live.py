"""Readings from a rig for the calibration procedure: the one module here that does I/O.

It wraps :class:`firmware_bridge.link.Link` (reader thread, INFO handshake,
reconnects) and turns its sample blocks into what :class:`Procedure.feed`
takes: device times in seconds and an (n, 2) array of counts.  Times come
from the rig's sample clock (index / rate), never from the host's clock, and
stay increasing across a rig restart (a new segment continues where the last
one ended), so a settle window is never fooled by the host being busy.
The app's wizard can use this too, or feed the procedure from its own
acquisition thread the same way.
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable

import numpy as np

from firmware_bridge.errors import PortError
from firmware_bridge.link import Blocks, ErrorReported, Link, LinkState, StateChanged
from firmware_bridge.messages import Info, SampleBlock
from firmware_bridge.segment_clock import SegmentClock

Chunk = tuple[np.ndarray, np.ndarray]  # (t_s (n,), counts (n, 2))

_WORTH_SAYING = {LinkState.DISCONNECTED, LinkState.RECONNECTING, LinkState.SILENT}


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
        self._was_down = False

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
        chunks: list[Chunk] = []
        notes: list[str] = []
        deadline = time.monotonic() + timeout_s
        while True:
            wait = deadline - time.monotonic()
            try:
                event = (
                    self.link.events.get(timeout=max(wait, 0.0))
                    if wait > 0
                    else (self.link.events.get_nowait())
                )
            except queue.Empty:
                break
            if isinstance(event, Blocks):
                chunks += [self._chunk(block) for block in event.blocks if len(block)]
                if chunks:
                    deadline = min(deadline, time.monotonic())  # drain, then return
            elif isinstance(event, ErrorReported):
                if event.fatal:
                    raise PortError(event.message)
                notes.append(event.message)
            elif isinstance(event, StateChanged):
                if event.state in _WORTH_SAYING:
                    self._was_down = True
                    notes.append(event.detail)
                elif self._was_down and event.state == LinkState.STREAMING:
                    self._was_down = False
                    notes.append(event.detail)
        return chunks, notes

    def _chunk(self, block: SampleBlock) -> Chunk:
        return self._clock.chunk(block, self.sample_rate_hz)
