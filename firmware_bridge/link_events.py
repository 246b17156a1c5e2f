"""What a :class:`~firmware_bridge.link.Link` reports: its states and its events.

Everything reaches the caller through one queue of these typed events
(sample blocks, other messages, state changes, errors, counter snapshots),
and a :class:`~firmware_bridge.pump.EventPump` hands them to listeners.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from firmware_bridge.messages import Ack, Event, Heartbeat, Info, SampleBlock


class LinkState(StrEnum):
    """Where the link stands.  ``idle`` means connected and not streaming."""

    CONNECTING = "connecting"
    IDLE = "idle"
    STREAMING = "streaming"
    SILENT = "silent"
    DISCONNECTED = "disconnected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class ErrorKind(StrEnum):
    """What an :class:`ErrorReported` is about (a ``str``, so ``kind == "recording"`` holds)."""

    PORT = "port"
    FOREIGN_RIG = "foreign_rig"
    COMMAND = "command"
    RECORDING = "recording"
    INTERNAL = "internal"


CONNECTED_STATES = frozenset({LinkState.IDLE, LinkState.STREAMING, LinkState.SILENT})


# -- events -------------------------------------------------------------------
@dataclass(frozen=True)
class LinkEvent:
    """Base of everything on :attr:`Link.events`; ``t`` is read from the link's clock."""

    t: float


@dataclass(frozen=True)
class Blocks(LinkEvent):
    """Sample blocks decoded from one read.

    ``stream_offset`` is the number of stream bytes received up to the end of
    that read (what a latency measurement lines up with the device's writes).
    """

    blocks: tuple[SampleBlock, ...]
    stream_offset: int

    @property
    def samples(self) -> int:
        return sum(len(b) for b in self.blocks)


@dataclass(frozen=True)
class Received(LinkEvent):
    """Any other message from the rig (INFO, EVENT, HEARTBEAT, ACK), in stream order."""

    message: Info | Event | Heartbeat | Ack
    stream_offset: int


@dataclass(frozen=True)
class StateChanged(LinkEvent):
    state: LinkState
    previous: LinkState
    detail: str


@dataclass(frozen=True)
class ErrorReported(LinkEvent):
    """Something went wrong; ``kind`` is one of port, foreign_rig, command,
    recording, internal.  ``fatal`` means the link has stopped for good."""

    message: str
    kind: ErrorKind
    fatal: bool = False


@dataclass(frozen=True)
class CountersSnapshot(LinkEvent):
    """The decoder's counters and the link's own, every 0.5 s and at close."""

    counters: dict[str, Any]


@dataclass
class LinkCounters:
    """What the link itself counts (the decoder counts the stream)."""

    bytes_received: int = 0
    bytes_discarded: int = 0  # from another rig on the port, never used
    bytes_sent: int = 0
    reads: int = 0
    disconnects: int = 0
    reconnects: int = 0
    rig_restarts: int = 0  # reboots seen with the port open while streaming
    commands_sent: int = 0
    commands_refused: int = 0
    command_timeouts: int = 0
    reader_errors: int = 0
    recording_errors: int = 0
    reader_cpu_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)
