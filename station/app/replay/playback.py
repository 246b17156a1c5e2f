"""The replay screen's connection: a recording played through a transport, like a rig.

A :class:`PlaybackAcquisition` is an :class:`~station.app.rig.acquisition.Acquisition`
(the same Link on a worker, the same event pump, the same signals) whose
source is a :class:`~firmware_bridge.replay.ControlledReplay` the screen
pauses, speeds up and seeks; the screen's own, so a replay plays while a rig
stays connected to the main one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import serial

from firmware_bridge.link import Link, Opener
from firmware_bridge.messages import Info
from station.app.rig.acquisition import Acquisition
from station.app.rig.link_events import CONNECTING, DISCONNECTED

log = logging.getLogger(__name__)


class PlaybackAcquisition(Acquisition):
    """One playback at a time: :meth:`play`, then :meth:`finish_playback` at its end."""

    def play(self, url: str, opener: Opener) -> None:
        """Play ``url`` through ``opener`` (a transport's port), opened on the worker.

        Its events come through the pump like a rig's: ``samples_arrived``,
        ``counters_changed``, ``error``; ``connected`` or ``connect_failed``
        follows the open, ``source_finished`` its last byte.
        """
        self.close()
        self.url = url
        self.kind = "replay"
        self._set_state(CONNECTING)
        self._attempt += 1
        attempt = self._attempt

        def open_port(port_url: str, timeout: float) -> serial.SerialBase:
            port = opener(port_url, timeout)
            self._port = port
            return port

        link = Link(url, opener=open_port)
        self._use_link(link)
        self._playing = True
        self._finished_ticks = 0
        log.info("playing a replay with a transport")
        self.tasks.submit(
            link.open,
            lambda info: self._playback_opened(link, info, attempt),
            lambda exc: self._failed(exc, attempt),
        )

    def _playback_opened(self, link: Link, info: Info | None, attempt: int) -> None:
        if link is not self._link or attempt != self._attempt:
            return  # closed or replaced meanwhile
        self.connected.emit()

    def finish_playback(self, on_done: Callable[[], None]) -> None:
        """Close a finished playback off the GUI thread; its last blocks and counters
        are handed over (``samples_arrived``, ``counters_changed``) before ``on_done``."""
        link = self._link
        self._playing = False
        if link is None:
            on_done()
            return

        def close() -> None:
            link.close()
            self._hand_over_rest(link)

        def done(_: object = None) -> None:
            if self._link is link:
                self.drain()
                self._use_link(None)
                self._set_state(DISCONNECTED)
            on_done()

        self.tasks.submit(close, done, lambda exc: done())


__all__ = ["PlaybackAcquisition"]
