"""Taking identifying text out of data: shared by anonymised exports and erasure.

:func:`scrub` replaces any text that contains one of a set of identifying
values (a name, an external id, a note...); :func:`redact_record` keeps only
what cannot identify anyone (numbers, flags, dates of tests and a few fixed
vocabularies) in an audit entry's before/after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REMOVED = "[removed]"
ERASED = "[erased]"

# Audit keys whose text values are fixed vocabularies or test facts, never a
# person's words or identity: kept when an athlete is erased.
SAFE_AUDIT_KEYS = frozenset(
    {
        "protocol",
        "rig_serial",
        "recorded_at",
        "analysis_version",
        "side",
        "occurred_on",
        "measured_on",
        "started_at",
        "certificate_id",
        "result_id",
        "sex",
        "dominant_leg",
        "excluded_at",
        "at",
    }
)


def secrets_of(values: Iterable[Any]) -> set[str]:
    """The non-empty texts among ``values``, trimmed."""
    return {v.strip() for v in values if isinstance(v, str) and v.strip()}


def scrub(value: Any, secrets: set[str], replacement: str = REMOVED) -> Any:
    """``value`` with every text that contains one of ``secrets`` replaced (ignoring
    case; secrets of one or two characters must match a whole text)."""
    if isinstance(value, str):
        folded = value.casefold()
        for secret in secrets:
            if secret.casefold() in folded if len(secret) > 2 else secret == value:
                return replacement
        return value
    if isinstance(value, Mapping):
        return {
            scrub(k, secrets, replacement): scrub(v, secrets, replacement) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v, secrets, replacement) for v in value]
    return value


def redact_record(value: Any, key: str | None = None) -> Any:
    """An audit before/after with every text replaced by ``[erased]`` except the
    values of :data:`SAFE_AUDIT_KEYS`; numbers, booleans and structure are kept."""
    if isinstance(value, Mapping):
        return {k: redact_record(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_record(v, key) for v in value]
    if isinstance(value, str):
        return value if key in SAFE_AUDIT_KEYS else ERASED
    return value
