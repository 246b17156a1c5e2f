"""A test's protocol, knee angle and position: checked once, stored with the test and
handed to the analysis, so a test is always analysed under its own protocol.

The store names the protocols ``nordic_eccentric`` and ``isometric`` (``tests.protocol``);
the analysis settings name them ``nordic`` and ``isometric`` (metrics.md, Protocols).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from station.analysis import AnalysisSettings, settings_from
from station.store.errors import ValidationError
from station.store.validate import protocol as checked_protocol
from station.store.validate import text_field

POSITION_MAX_CHARS = 60  # as the analysis setting ``position``
_ANALYSIS_NAME = {"nordic_eccentric": "nordic", "isometric": "isometric"}
_STORE_NAME = {v: k for k, v in _ANALYSIS_NAME.items()}


@dataclass(frozen=True)
class TestProtocol:
    """What a test was: ``protocol`` as stored, and for an isometric test the knee angle
    (degrees, 0 = knee straight, at most 180) and the position (free text)."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    protocol: str = "nordic_eccentric"
    knee_angle_deg: float | None = None
    position: str | None = None

    @property
    def is_isometric(self) -> bool:
        return self.protocol == "isometric"

    def settings(self, given: AnalysisSettings | Mapping[str, Any] | None) -> AnalysisSettings:
        """``given`` analysis settings with this test's protocol, angle and position."""
        return settings_from(given).with_changes(
            protocol=_ANALYSIS_NAME.get(self.protocol, "nordic"),
            knee_angle_deg=self.knee_angle_deg,
            position=self.position,
        )


def knee_angle_deg(value: Any) -> float | None:
    """A knee angle in degrees from the user: 0 (knee straight) to 180, or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        angle = float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"knee angle must be a number of degrees from 0 to 180, not {value!r}"
        ) from None
    if isinstance(value, bool) or not math.isfinite(angle) or not 0 <= angle <= 180:
        raise ValidationError(
            f"knee angle {value!r} is outside 0 to 180 degrees (0 = knee straight, 90 = 90/90)"
        )
    return angle


def position(value: Any) -> str | None:
    return text_field(value, "position", limit=POSITION_MAX_CHARS)


def resolve(
    protocol: str | None,
    knee_angle: Any = None,
    where: Any = None,
    settings: AnalysisSettings | Mapping[str, Any] | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> TestProtocol:
    """The checked protocol of a new test.  What is given explicitly wins; what is not
    comes from ``settings`` (an ``--set protocol=isometric`` import), then from what the
    station recording says it was (``recorded``: its header's metadata, written at the
    test's start), else the default Nordic.  A knee angle or a position on a Nordic test
    is refused: it would be lost."""
    if protocol is None and knee_angle is None and where is None and recorded:
        try:
            carried: TestProtocol | None = resolve(
                recorded.get("protocol"), recorded.get("knee_angle_deg"), recorded.get("position")
            )
        except ValidationError:
            carried = None  # a recording's odd metadata never blocks its import
        if carried is not None and carried.is_isometric:
            protocol, knee_angle, where = "isometric", carried.knee_angle_deg, carried.position
    from_settings = None if settings is None else settings_from(settings)
    if protocol is None and from_settings is not None and from_settings.is_isometric:
        protocol = "isometric"
    name = checked_protocol(_STORE_NAME.get(protocol or "", protocol))
    angle = knee_angle_deg(knee_angle)
    place = position(where)
    if name == "isometric" and from_settings is not None:
        angle = from_settings.knee_angle_deg if angle is None else angle
        place = from_settings.position if place is None else place
    if name != "isometric" and (angle is not None or place is not None):
        raise ValidationError(
            "a knee angle or position is only for the isometric protocol: "
            "add --protocol isometric, or leave them out"
        )
    return TestProtocol(name, angle, place)


def recorded_metadata(header: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The ``metadata`` object of a station recording's header (None for other captures)."""
    metadata = (header or {}).get("metadata")
    return metadata if isinstance(metadata, Mapping) else None


def of_test(test: Any) -> TestProtocol:
    """The protocol of a stored test (a :class:`TestRecord` or :class:`PendingTest`)."""
    return TestProtocol(
        test.protocol, getattr(test, "knee_angle_deg", None), getattr(test, "position", None)
    )


def today_keeping_protocol(stored: Mapping[str, Any] | None) -> AnalysisSettings:
    """Today's default settings with the protocol, angle and position of a stored run's
    settings: "recompute with today's definitions" never turns an isometric test into a
    Nordic one."""
    today = AnalysisSettings()
    if not stored:
        return today
    try:
        return today.with_changes(**{k: stored[k] for k in _PROTOCOL_SETTINGS if k in stored})
    except (TypeError, ValueError):
        return today


_PROTOCOL_SETTINGS = ("protocol", "knee_angle_deg", "position")
