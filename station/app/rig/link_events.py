"""What the acquisition hands the GUI thread, without Qt: connection states, batches, inbox.

The one :class:`~firmware_bridge.pump.EventPump` drains a Link's events on
its thread into a :class:`GuiInbox`, which wakes the GUI once per batch; the
GUI turns the inbox into signals (see :mod:`station.app.rig.acquisition`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from firmware_bridge.link import LinkEvent, LinkState
from firmware_bridge.messages import SampleBlock
from firmware_bridge.pump import Listener


class ConnectionState(StrEnum):
    """App-level connection states shown to the user (status_bar.STATE_STYLE)."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STREAMING = "streaming"
    SILENT = "silent"
    RECONNECTING = "reconnecting"
    LOST = "lost"
    READY = "ready"  # a replay that has been checked and waits for a test to play it
    FINISHED = "finished"  # a replay that has played to its end


# The screens name the states as module constants.
DISCONNECTED = ConnectionState.DISCONNECTED
CONNECTING = ConnectionState.CONNECTING
CONNECTED = ConnectionState.CONNECTED
STREAMING = ConnectionState.STREAMING
SILENT = ConnectionState.SILENT
RECONNECTING = ConnectionState.RECONNECTING
LOST = ConnectionState.LOST
READY = ConnectionState.READY
FINISHED = ConnectionState.FINISHED


@dataclass(frozen=True)
class BlockBatch:
    """Sample blocks drained in one tick; ``arrived`` is the Link's time of the last read."""

    blocks: tuple[SampleBlock, ...]
    arrived: float

    @property
    def samples(self) -> int:
        return sum(len(b) for b in self.blocks)


class GuiInbox(Listener):
    """The pump's listener: keeps a Link's events for the GUI and wakes it, once per batch.

    ``wake`` is called on the pump's thread (it emits a queued Qt signal); the
    GUI calls :meth:`woken` before it empties the inbox, so at most one
    wake-up is pending however fast events come.
    """

    def __init__(self, wake: Callable[[], None]) -> None:
        self.events: deque[LinkEvent] = deque()
        self._wake = wake
        self._pending = threading.Event()

    def on_event(self, event: LinkEvent) -> None:
        self.events.append(event)

    def on_batch_end(self) -> None:
        if not self._pending.is_set():
            self._pending.set()
            self._wake()

    def woken(self) -> None:
        self._pending.clear()


def app_state(state: LinkState, reconnect: bool) -> ConnectionState:
    return {
        LinkState.CONNECTING: CONNECTING,
        LinkState.IDLE: CONNECTED,
        LinkState.STREAMING: STREAMING,
        LinkState.SILENT: SILENT,
        LinkState.DISCONNECTED: RECONNECTING if reconnect else LOST,
        LinkState.RECONNECTING: RECONNECTING,
        LinkState.CLOSED: DISCONNECTED,
    }[state]
