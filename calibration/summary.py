"""A certificate as text people read: what `nordic-station certificate show` prints,
and what the CLI prints after a calibration (one code path, so both say the same)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from calibration.certificate import Certificate, utc_now
from calibration.checks import check_certificate

_FIGURES = (
    ("nonlinearity_pct", "non-linearity", "%"),
    ("hysteresis_pct", "hysteresis", "%"),
    ("repeatability_pct", "repeatability", "%"),
    ("residual_max_n", "largest residual", "N"),
)


def _number(value: Any, spec: str) -> str:
    """``value`` formatted, or a dash as wide as the format would be."""
    if value is None:
        width = re.match(r"[+]?(\d*)", spec).group(1)
        return "-".rjust(int(width) if width else 1)
    return format(value, spec)


def _validity(certificate: Certificate, today: dt.date) -> str:
    until = certificate.valid_until
    if until is None:
        return "not stated"
    days = (until - today).days
    if days < 0:
        return f"{until.isoformat()}  EXPIRED {-days} day{'s' if days != -1 else ''} ago"
    return f"{until.isoformat()}  ({days} day{'s' if days != 1 else ''} left)"


def _figure_lines(channel: dict[str, Any]) -> list[str]:
    verdicts = channel.get("acceptance", {}).get("figures", {})
    lines = []
    for key, label, unit in _FIGURES:
        value = channel.get(key)
        verdict = verdicts.get(key, {})
        if value is None and key != "residual_max_n":
            lines.append(f"    {label:<17} not measured")
            continue
        if value is None:
            continue
        text = f"    {label:<17} {value:8.3f} {unit}"
        limit = verdict.get("limit")
        if limit is not None:
            passed = verdict.get("passed")
            word = {True: "pass", False: "FAIL"}.get(passed, "")
            text += f"   limit {limit:g} {unit}   {word}"
        lines.append(text.rstrip())
    return lines


def _point_lines(points: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["    mass kg  dir   run        counts   spread  residual N"]
    for p in points:
        mark = "  (accepted unsettled)" if p.get("accepted_unsettled") else ""
        lines.append(
            f"    {_number(p.get('mass_kg'), '7.3f')}  {str(p.get('direction', '')):<4} "
            f"{_number(p.get('run', 1), '4d')}  {_number(p.get('counts'), '12.1f')} "
            f"{_number(p.get('spread_counts'), '8.1f')}  {_number(p.get('residual_n'), '+10.3f')}"
            f"{mark}"
        )
    return lines


def summarize_certificate(
    certificate: Certificate,
    *,
    when: dt.datetime | None = None,
    device_serial: str | None = None,
    verifications: Sequence[dict[str, Any]] = (),
    points: bool = True,
) -> str:
    """A readable account of a certificate, its figures, flags and verifications."""
    today = (when or utc_now()).astimezone(dt.UTC).date()
    data = certificate.data
    lines = [f"Calibration certificate ({data.get('format')})"]
    if certificate.source:
        lines.append(f"  file           {certificate.source}")
    lines.append(f"  rig            {certificate.device_serial or 'not stated'}")
    created = data.get("created") or "not stated"
    operator = certificate.operator
    lines.append(f"  created        {created}" + (f"  by {operator}" if operator else ""))
    lines.append(f"  valid until    {_validity(certificate, today)}")
    lines.append(f"  fingerprint    {certificate.fingerprint()[:16]}")
    passed = certificate.passed
    if passed is not None:
        lines.append(f"  acceptance     {'PASS' if passed else 'FAIL'}")
    for name in certificate.channels:
        channel = certificate.channel(name)
        offset = channel.get("offset_counts")
        top = channel.get("max_force_n")
        lines.append("")
        lines.append(
            f"{name}: gain {channel['gain_n_per_count']:.6g} N/count, offset "
            f"{_number(offset, '.1f')} counts, calibrated up to {_number(top, '.1f')} N"
        )
        if "copied_from" in channel:
            source = channel["copied_from"].get("created")
            lines.append(f"    (taken from the certificate of {source})")
        verdict = channel.get("acceptance", {}).get("passed")
        if verdict is not None:
            lines.append(f"    acceptance        {'pass' if verdict else 'FAIL'}")
        lines += _figure_lines(channel)
        if points and channel.get("points"):
            lines += _point_lines(channel["points"])
    flags = check_certificate(certificate, device_serial, when)
    if flags:
        lines.append("")
        lines.append("Warnings:")
        lines += [f"  {f.flag}: {f.message}" for f in flags]
    if verifications:
        lines.append("")
        lines.append(f"Verifications ({len(verifications)}):")
        for record in verifications:
            lines.append(
                f"  {record.get('created', '?')}  {record.get('channel', '?'):<5} "
                f"{_number(record.get('mass_kg'), 'g')} kg: error "
                f"{_number(record.get('error_n'), '+.2f')} N "
                f"({_number(record.get('error_pct'), '+.2f')} %, limit "
                f"{_number(record.get('limit_pct'), 'g')} %)  "
                f"{'pass' if record.get('passed') else 'FAIL'}"
            )
    return "\n".join(lines) + "\n"
