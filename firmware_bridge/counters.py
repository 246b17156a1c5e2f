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
    # Tests that restarted without a STOP: the rig rebooted or lost its test.
    # Seen as an index going backwards without a STARTED, a HEARTBEAT during a
    # test, or a STARTED while a test ran (no STOPPED before it: after a
    # reboot the station starts the rig again).  A START after a STOP is a new
    # segment, not a restart.
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
