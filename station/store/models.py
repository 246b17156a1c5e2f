"""Plain values going into and coming out of the store.

The app, the CLI and the exporters only ever see these dataclasses, never a
database row, so a second backend (PostgreSQL) can return the same things.
Dates are :class:`datetime.date`; instants are ISO 8601 UTC strings ending in
``Z`` (they sort as text and survive a trip through CSV and JSON unchanged).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

PROTOCOLS = ("nordic_eccentric", "isometric", "training")
SEXES = ("female", "male", "other")
LEGS = ("left", "right")
INJURY_SIDES = ("left", "right", "both")

Curves = dict[str, np.ndarray]


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class _ToDict:
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        return _plain(asdict(self))  # type: ignore[call-overload]


@dataclass(frozen=True)
class BodyMass(_ToDict):
    measured_on: date
    kg: float


@dataclass(frozen=True)
class Injury(_ToDict):
    id: int
    side: str
    occurred_on: date | None
    note: str
    region: str = ""
    grade: str | None = None
    return_to_play: date | None = None
    uuid: str = ""


@dataclass(frozen=True)
class Athlete(_ToDict):
    """An athlete as listed; ``body_mass_kg`` is the latest entry of the history."""

    id: int
    name: str
    external_id: str | None
    date_of_birth: date | None
    sex: str | None
    sport: str | None
    team: str | None
    dominant_leg: str | None
    lever_arm_m: float | None
    notes: str
    archived: bool
    created_at: str
    updated_at: str
    body_mass_kg: float | None = None
    erased_at: str | None = None  # set when erased on request: only numbers are left
    uuid: str = ""  # made where the record was created; the same on every station


@dataclass(frozen=True)
class Rep(_ToDict):
    """A repetition of a test's current result, with its exclusion state."""

    number: int
    start_s: float
    end_s: float
    left_peak_n: float | None
    right_peak_n: float | None
    imbalance_pct: float | None
    excluded: bool = False
    exclusion_reason: str | None = None
    excluded_by: str | None = None
    excluded_at: str | None = None


@dataclass(frozen=True)
class Result(_ToDict):
    """One analysis run of a test.  Runs are never changed or deleted; one is current."""

    id: int
    test_id: int
    created_at: str
    created_by: str
    reason: str
    analysis_version: str
    settings: dict[str, Any]
    metrics: dict[str, Any]
    excluded: tuple[int, ...]
    is_current: bool
    curves_result_id: int | None
    uuid: str = ""

    @property
    def summary(self) -> dict[str, Any]:
        return self.metrics.get("summary") or {}


@dataclass(frozen=True)
class TestRecord(_ToDict):
    """A committed test: metadata, where its raw recording is, its current result."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    id: int
    athlete_id: int
    recorded_at: str
    protocol: str
    rig_serial: str | None
    certificate_id: int | None
    operator: str | None
    notes: str
    sample_rate_hz: float | None
    duration_s: float | None
    body_mass_kg: float | None
    lever_arm_m: float | None
    source: str
    recovered: bool
    recording_sha256: str
    recording_size: int
    recording_kind: str | None
    created_at: str
    warnings: tuple[str, ...] = ()
    result: Result | None = None
    voided: bool = False  # left out of lists, trends and exports; kept with its recording
    void_reason: str | None = None
    knee_angle_deg: float | None = None  # isometric protocol: 0 = knee straight
    position: str | None = None  # isometric protocol: e.g. prone, 90/90
    uuid: str = ""
    # Pulled by a joined station without its raw bytes: they are on the clinic's server
    # (fetched with 'nordic-station sync --recordings'); results and curves are here.
    recording_absent: bool = False


@dataclass(frozen=True)
class TestSummary(_ToDict):
    """One line of an athlete's test list (cheap: no curves, no per-rep detail)."""

    __test__: ClassVar[bool] = False

    id: int
    athlete_id: int
    recorded_at: str
    protocol: str
    rig_serial: str | None
    operator: str | None
    recovered: bool
    sample_rate_hz: float | None
    duration_s: float | None
    analysis_version: str | None
    summary: dict[str, Any]
    reps: int
    excluded_reps: int
    voided: bool = False
    void_reason: str | None = None
    knee_angle_deg: float | None = None
    position: str | None = None
    body_mass_kg: float | None = None  # used for N/kg (percentiles)
    uuid: str = ""


@dataclass(frozen=True)
class PendingTest(_ToDict):
    """A test being recorded, or left unfinished by a crash (``live`` is False then)."""

    id: int
    athlete_id: int
    path: Path
    started_at: str
    protocol: str
    rig_serial: str | None
    certificate_id: int | None
    operator: str | None
    notes: str
    host: str | None
    pid: int | None
    rate_hz: float | None = None  # for a rig whose stream carries no rate (text dialect)
    live: bool = False
    size: int | None = None  # bytes recorded so far; None when the file is missing
    knee_angle_deg: float | None = None
    position: str | None = None
    uuid: str = ""


@dataclass(frozen=True)
class CertificateRecord(_ToDict):
    """A stored calibration certificate; ``data`` is the whole JSON, unknown keys kept."""

    id: int
    sha256: str
    device_serial: str | None
    created: str | None
    valid_until: str | None
    data: dict[str, Any]
    imported_at: str
    uuid: str = ""


@dataclass(frozen=True)
class Verification(_ToDict):
    """A one-mass check of a rig against its certificate (calibration.md)."""

    id: int
    certificate_id: int | None
    device_serial: str | None
    performed_at: str
    operator: str | None
    passed: bool | None
    data: dict[str, Any]
    uuid: str = ""


@dataclass(frozen=True)
class AuditEntry(_ToDict):
    id: int
    at: str
    actor: str
    entity: str
    entity_id: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    uuid: str = ""


@dataclass(frozen=True)
class Recomputation(_ToDict):
    """Old and new result of one recompute.

    ``new_metrics`` is always the fresh analysis; ``new`` is the stored run,
    None when nothing was stored (a dry run, or nothing changed).
    """

    test_id: int
    old: Result | None
    new_metrics: dict[str, Any]
    new_version: str
    changed: bool
    stored: bool
    new: Result | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrphanFile(_ToDict):
    """A file in in-progress/ that no pending test claims (kept, never deleted blindly)."""

    path: Path
    size: int
    committed: bool  # its bytes are already stored as a test's recording


# --- payloads handed to a backend ------------------------------------------------


class Unset(enum.Enum):
    """A field of a change that is not given (None is a value: "clear it")."""

    UNSET = "unset"


UNSET = Unset.UNSET


class _Changes:
    """A set of validated field values; fields left :data:`UNSET` are not written."""

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Self:
        """From a mapping of field names (unknown names are refused by name)."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} field(s): {', '.join(unknown)}")
        return cls(**values)

    def given(self) -> dict[str, Any]:
        """The fields given, by name, in declaration order."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)  # type: ignore[arg-type]
            if getattr(self, f.name) is not UNSET
        }

    def __bool__(self) -> bool:
        return bool(self.given())


@dataclass(frozen=True)
class AthleteChanges(_Changes):
    """New values of an athlete's editable fields, already validated."""

    name: str | Unset = UNSET
    external_id: str | None | Unset = UNSET
    date_of_birth: date | None | Unset = UNSET
    sex: str | None | Unset = UNSET
    sport: str | None | Unset = UNSET
    team: str | None | Unset = UNSET
    dominant_leg: str | None | Unset = UNSET
    lever_arm_m: float | None | Unset = UNSET
    notes: str | Unset = UNSET
    archived: bool | Unset = UNSET


@dataclass(frozen=True)
class TestChanges(_Changes):
    """New values of a test's descriptive fields, already validated."""

    __test__: ClassVar[bool] = False

    athlete_id: int | Unset = UNSET
    recorded_at: str | Unset = UNSET
    operator: str | None | Unset = UNSET
    notes: str | Unset = UNSET
    body_mass_kg: float | None | Unset = UNSET
    lever_arm_m: float | None | Unset = UNSET
    rig_serial: str | None | Unset = UNSET
    knee_angle_deg: float | None | Unset = UNSET  # isometric tests only (protocols.py)
    position: str | None | Unset = UNSET


@dataclass(frozen=True)
class AthleteWrite:
    """One athlete to add (``athlete_id`` None) or change, already validated
    (a single add, or a row of a bulk import)."""

    athlete_id: int | None
    values: AthleteChanges
    name_key: str | None
    body_mass: BodyMass | None = None


# A certificate or a verification as stored: the whole JSON document.
JsonDocument = Mapping[str, Any]


@dataclass
class NewResult:
    """An analysis run to store.  ``curves`` None with ``curves_result_id`` set means
    "same curves as that earlier run" (an exclusion changes summaries, not curves)."""

    analysis_version: str
    settings: dict[str, Any]
    metrics: dict[str, Any]
    excluded: list[int]
    reason: str
    curves: Curves | None = None
    curves_result_id: int | None = None


@dataclass
class NewRep:
    number: int
    start_s: float
    end_s: float
    left_peak_n: float | None = None
    right_peak_n: float | None = None
    imbalance_pct: float | None = None
    excluded: bool = False
    exclusion_reason: str | None = None
    excluded_by: str | None = None
    excluded_at: str | None = None


@dataclass
class NewTest:
    """Everything one committed test consists of, written in one transaction."""

    athlete_id: int
    recorded_at: str
    protocol: str
    recording: bytes
    result: NewResult
    reps: list[NewRep] = field(default_factory=list)
    recording_kind: str | None = None
    source: str = "import"
    recovered: bool = False
    rig_serial: str | None = None
    operator: str | None = None
    notes: str = ""
    sample_rate_hz: float | None = None
    duration_s: float | None = None
    body_mass_kg: float | None = None
    lever_arm_m: float | None = None
    certificate: dict[str, Any] | None = None
    pending_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    knee_angle_deg: float | None = None
    position: str | None = None
    uuid: str | None = None  # made on save when not given (a sync brings its own)
