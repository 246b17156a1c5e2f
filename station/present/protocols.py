"""Which tests may be compared: the same protocol at the same knee angle (issue 15 §4).

A 30° isometric is never compared with a Nordic, nor with a 60° isometric: every
screen, trend, change judgement, team table, report and percentile groups tests by
:func:`protocol_key` and shows :func:`protocol_label`.  Any protocol other than the
ones named here (e.g. training sessions) is its own group, apart from the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

NORDIC = "nordic_eccentric"
ISOMETRIC = "isometric"
# The knee angles offered first (metrics.md, Protocols): 0, 30, 60 and 90 (the 90/90).
USUAL_ANGLES_DEG = (0.0, 30.0, 60.0, 90.0)

ProtocolKey = tuple[str, float | None]


class HasProtocol(Protocol):
    @property
    def protocol(self) -> str: ...
    @property
    def knee_angle_deg(self) -> float | None: ...


T = TypeVar("T", bound=HasProtocol)


def protocol_key(protocol: str | None, knee_angle_deg: float | None = None) -> ProtocolKey:
    """What must be equal for two tests to be compared.  The angle counts only for an
    isometric test, rounded to 0.1° (what the screens show)."""
    name = protocol or NORDIC
    if name != ISOMETRIC:
        return (name, None)
    return (name, None if knee_angle_deg is None else round(float(knee_angle_deg), 1))


def key_of(test: HasProtocol) -> ProtocolKey:
    return protocol_key(test.protocol, getattr(test, "knee_angle_deg", None))


def angle_text(knee_angle_deg: float | None) -> str:
    if knee_angle_deg is None:
        return "angle not recorded"
    angle = round(float(knee_angle_deg), 1)
    return f"{angle:g}°"


def protocol_label(
    protocol: str | None, knee_angle_deg: float | None = None, position: str | None = None
) -> str:
    """``Nordic``, ``Isometric 30° (prone)``, ``Isometric 90° (90/90)``; another protocol
    by its own name."""
    name = protocol or NORDIC
    if name == NORDIC:
        return "Nordic"
    if name != ISOMETRIC:
        return name.replace("_", " ").capitalize()
    text = f"Isometric {angle_text(knee_angle_deg)}"
    return f"{text} ({position})" if position else text


def key_label(key: ProtocolKey) -> str:
    return protocol_label(key[0], key[1])


def label_of(test: Any) -> str:
    """The label of anything with ``protocol`` (and maybe ``knee_angle_deg``, ``position``)."""
    return protocol_label(
        getattr(test, "protocol", None),
        getattr(test, "knee_angle_deg", None),
        getattr(test, "position", None),
    )


def keys_in(tests: Iterable[HasProtocol]) -> list[ProtocolKey]:
    """The protocol groups present, Nordic first, then isometric by angle, then others."""
    found = {key_of(t) for t in tests}

    def order(key: ProtocolKey) -> tuple[int, float, str]:
        rank = 0 if key[0] == NORDIC else 1 if key[0] == ISOMETRIC else 2
        return (rank, -1.0 if key[1] is None else key[1], key[0])

    return sorted(found, key=order)


def same_protocol(tests: Iterable[T], key: ProtocolKey) -> list[T]:
    """Only the tests of this protocol group, in their order."""
    return [t for t in tests if key_of(t) == key]
