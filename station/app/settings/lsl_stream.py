"""The app's rig, published to Lab Streaming Layer while the app runs (issue 16 §2).

:class:`AppLslStream` is an :class:`~firmware_bridge.pump.Listener` the
acquisition's event pump feeds (on the pump's thread, never the GUI's), the
way ``nordic-station stream`` feeds its :class:`~station.streaming.lsl.LslListener`.
It makes its :class:`~station.streaming.lsl.LslPublisher` when it first
knows the rig (its INFO) and has a certificate, and makes a new one for the
next rig connected; everything the rig streams is published, the preview
and every test.  No Qt here: the Settings widget turns it on and off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from calibration.certificate import Certificate
from firmware_bridge.errors import NordicError, describe
from firmware_bridge.link import Blocks, Received
from firmware_bridge.messages import Event, Info
from firmware_bridge.pump import Listener
from station.streaming.lsl import DEFAULT_NAME, LslPublisher

log = logging.getLogger(__name__)


class AppLslStream(Listener):
    """Publishes what the app's rig link delivers; thread-safe to close from the GUI."""

    def __init__(
        self,
        info_of: Callable[[], Info | None],
        certificate_of: Callable[[], Certificate | None],
        *,
        name: str = DEFAULT_NAME,
        pylsl: Any = None,
    ) -> None:
        self.info_of = info_of
        self.certificate_of = certificate_of
        self.name = name
        self.pylsl = pylsl
        self.samples = 0  # published since it was turned on, over every rig
        self.problem: str | None = None  # why nothing is published (one line), if so
        self._info: Info | None = None
        self._publisher: LslPublisher | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def publishing(self) -> bool:
        return self._publisher is not None

    def on_received(self, event: Received) -> None:
        message = event.message
        with self._lock:
            if self._closed:
                return
            if isinstance(message, Info):
                if self._publisher is not None and message != self._publisher.info:
                    self._drop()  # another rig, or a new rate: new outlets
                self._info = message
            elif isinstance(message, Event):
                publisher = self._publisher_now()
                if publisher is not None:
                    publisher.event(message)

    def on_blocks(self, event: Blocks) -> None:
        with self._lock:
            if self._closed:
                return
            publisher = self._publisher_now()
            if publisher is not None:
                publisher.blocks(event.blocks)
                self.samples += sum(len(block) for block in event.blocks)

    def stop(self) -> None:
        """The link's pump stopped (the rig was disconnected or replaced)."""
        with self._lock:
            self._drop()
            self._info = None
            self.problem = None

    def close(self) -> None:
        """Turned off: the outlets close (inlets see the streams end)."""
        with self._lock:
            self._closed = True
            self._drop()

    def _publisher_now(self) -> LslPublisher | None:
        if self._publisher is None and self.problem is None:
            info = self._info or self.info_of()
            if info is None:
                return None
            try:
                self._publisher = LslPublisher(
                    info, certificate=self.certificate_of(), name=self.name, pylsl=self.pylsl
                )
            except NordicError as exc:
                self.problem = describe(exc, for_cli=False)
                log.warning("cannot publish to LSL: %s", self.problem)
        return self._publisher

    def _drop(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close(linger_s=0.0)  # never hold the GUI or the pump
