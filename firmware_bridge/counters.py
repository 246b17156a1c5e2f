"""What a receiver counts about a rig's stream (protocol.md), in one place.

The names are the ones exports and screens use; each has one meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Counters:
    """Everything protocol.md asks a receiver to count, plus totals.

    These names are the ones exports and screens use; each has one meaning.
    """

    bytes_total: int = 0
    frames_ok: int = 0
    frames_corrupt: int = 0
    frames_unknown: int = 0
    lead_in_bytes: int = 0
    tail_bytes: int = 0
    samples: int = 0
    # Gaps in the index, including those closed by EVENT STOPPED's index at the end.
    dropped_samples: int = 0
    # Reboots of the rig during a test: an index going backwards without a
    # START, or an INFO nobody asked for (or a HEARTBEAT) followed by STARTED.
    # A START the host sent is a new segment, not a restart.
    device_restarts: int = 0
    overrun_events: int = 0
    saturated_left: int = 0
    saturated_right: int = 0
    lines_ok: int = 0
    lines_corrupt: int = 0  # text lines that are not samples, or over 4,096 bytes

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def copy(self) -> Counters:
        return Counters(**self.to_dict())
