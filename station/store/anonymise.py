"""What anonymised exports leave out of a test's metadata.

The certificate keeps its numbers, rig and dates (not who made it or any free
text); rep lists lose their exclusion reasons; :func:`identifying_values`
lists every text held about an athlete so a last pass
(:func:`station.store.redact.scrub`) can replace any copy that is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from station.store.redact import secrets_of
from station.store.store import Store

CERTIFICATE_FIELDS = ("format", "device_serial", "created", "valid_until", "channels")


def anonymous_certificate(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A certificate without who made it or any free text: its numbers, rig and dates."""
    if data is None:
        return None
    out = {key: data[key] for key in CERTIFICATE_FIELDS if key in data}
    channels = out.get("channels")
    if isinstance(channels, Mapping):
        out["channels"] = {
            str(channel): {
                key: value
                for key, value in values.items()
                if isinstance(value, int | float) and not isinstance(value, bool)
            }
            for channel, values in channels.items()
            if isinstance(values, Mapping)
        }
    return out


def identifying_values(
    store: Store, athlete_id: int, tests: Iterable[Any] = (), certificates: Iterable[Any] = ()
) -> set[str]:
    """Every text held about an athlete that could identify them or is free text:
    what an anonymised export must not contain anywhere."""
    athlete = store.athletes.get(athlete_id)
    values = {athlete.name, athlete.external_id, athlete.notes}
    if athlete.date_of_birth is not None:
        values.add(athlete.date_of_birth.isoformat())
    values.update(injury.note for injury in store.athletes.injuries(athlete.id))
    for test in tests:
        values.update((test.operator, test.notes, test.void_reason))
        _, _, file_name = str(test.source).partition(":")
        values.add(file_name)
        for rep in store.tests.reps(test.id):
            values.update((rep.exclusion_reason, rep.excluded_by))
    for certificate in certificates:
        if certificate is not None:
            values.add(certificate.data.get("operator"))
    return secrets_of(values)


def anonymous_reps(reps: Any) -> Any:
    if not isinstance(reps, list):
        return reps
    return [
        {k: v for k, v in rep.items() if k != "exclusion_reason"} if isinstance(rep, dict) else rep
        for rep in reps
    ]
