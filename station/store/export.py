"""Exports for researchers: tidy CSV files, each with a JSON sidecar that says
what every column means (no SQL here: rows come from :class:`Store`).

- Summary: one row per test, every summary metric of its current analysis
  run, the athlete's descriptors and the data-quality counters, ready for
  ``read.csv`` or ``pandas.read_csv`` (UTF-8, comma, header row, empty = missing,
  booleans as true/false, instants in ISO 8601 UTC).
- Test: the curves of one test (time, left and right force, filtered and raw)
  and everything needed to interpret them (units, filter, thresholds, analysis
  version, certificate, exclusions).

Anonymised exports replace the athlete by a stable pseudonym (an HMAC of the
athlete id with a secret kept in the database) and leave out name, external
id, date of birth (age at the test is given instead), operator (also the
certificate's), notes, every free text (exclusion and void reasons) and the
source file name, in the CSVs and their sidecars; a last pass replaces any
text that still holds one of those values.  Quasi-identifiers a study usually
needs (sex, team, sport) are kept; say so when sharing.

Every cell goes through :func:`station.store.csv_cells.safe_row`, so no text
opens as a spreadsheet formula.

Files are written to a temporary name and renamed into place, so an export is
whole or absent; an existing file is never replaced unless ``force``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import station
from station.analysis import AnalysisSettings
from station.store.anonymise import anonymous_certificate, anonymous_reps, identifying_values
from station.store.csv_cells import safe_row
from station.store.errors import StoreError
from station.store.export_columns import DEFINITIONS, describe_column
from station.store.export_files import (
    check_dir_target,
    check_file_target,
    write_files,
)
from station.store.redact import scrub
from station.store.store import Store
from station.store.validate import format_instant, now_utc, parse_instant

log = logging.getLogger(__name__)

SUMMARY_FORMAT = "nordic-station.summary-export/1"
CHANGE_OVERLAP = timedelta(minutes=1)
TEST_FORMAT = "nordic-station.test-export/1"


@dataclass(frozen=True)
class ExportReport:
    files: tuple[Path, ...]
    rows: int


# -- summary ----------------------------------------------------------------------------
def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"left": {"max_force_n": 1}} -> {"left_max_force_n": 1}."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flatten(item, name + "_"))
        else:
            out[name] = item
    return out


def _age(dob: str | None, recorded_at: str) -> float | None:
    if not dob:
        return None
    born = date.fromisoformat(dob)
    on = date.fromisoformat(recorded_at[:10])
    return round((on - born).days / 365.25, 1)


IDENTIFYING = ("athlete_id", "name", "external_id", "date_of_birth")
DESCRIBING = (
    "age_years",
    "sex",
    "sport",
    "team",
    "dominant_leg",
    "recorded_at",
    "protocol",
    "knee_angle_deg",
    "position",
)
TEST_FIELDS = ("rig_serial", "certificate_id", "operator", "sample_rate_hz", "duration_s")
RUN_FIELDS = ("result_id", "analysis_version", "analyzed_at", "asymmetry_formula")
# Runs stored before a clinic could choose the formula were analysed in the default one.
DEFAULT_FORMULA = AnalysisSettings.asymmetry_formula
TAIL = (
    "excluded_reps",
    "flags",
    "dropped_samples",
    "frames_corrupt",
    "saturated_samples_left",
    "saturated_samples_right",
    "lines_corrupt",
    "device_restarts",
    "overrun_events",
    "segments",
)


def _head_columns(anonymise: bool) -> list[str]:
    who = ["athlete"] if anonymise else list(IDENTIFYING)
    test = [c for c in TEST_FIELDS if not (anonymise and c == "operator")]
    void = ["voided"] if anonymise else ["voided", "void_reason"]
    return [
        "test_id",
        *who,
        *DESCRIBING,
        *test,
        "body_mass_kg",
        "lever_arm_m",
        "source",
        "recovered",
        *void,
        *RUN_FIELDS,
    ]


def summary_table(
    store: Store, rows: Iterable[dict[str, Any]], anonymise: bool
) -> tuple[list[str], list[list[Any]]]:
    """Header and rows, one per test: descriptors, every summary metric (the
    union over all rows, so every row has every column), data quality.

    Cells are plain values for the csv module (None becomes an empty cell);
    only booleans and lists are converted here, because this runs 40,000 times.
    """
    pseudonyms: dict[int, str] = {}
    metric_columns: dict[str, None] = {}
    layouts: set[tuple[str, ...]] = set()
    prepared = []
    for row in rows:
        digest = row["digest"] or {}
        if anonymise:
            athlete_id = row["athlete_id"]
            if athlete_id not in pseudonyms:
                pseudonyms[athlete_id] = store.exports.pseudonym(athlete_id)
            who = [pseudonyms[athlete_id]]
        else:
            who = [row["athlete_id"], row["name"], row["external_id"], row["date_of_birth"]]
        test = [row["rig_serial"], row["certificate_id"]]
        if not anonymise:
            test.append(row["operator"])
        head = [
            row["test_id"],
            *who,
            _age(row["date_of_birth"], row["recorded_at"]),
            row["sex"],
            row["sport"],
            row["team"],
            row["dominant_leg"],
            row["recorded_at"],
            row["protocol"],
            row["knee_angle_deg"],
            row["position"],
            *test,
            row["sample_rate_hz"],
            row["duration_s"],
            row["body_mass_kg"],
            row["lever_arm_m"],
            str(row["source"]).split(":", 1)[0],
            "true" if row["recovered"] else "false",
            "true" if row["voided"] else "false",
            *(() if anonymise else (row["void_reason"],)),
            row["result_id"],
            row["analysis_version"],
            row["analyzed_at"],
        ]
        metrics = _flatten(digest.get("summary") or {})
        # the formula of the imbalance figures is a run column, named on every row
        head.append(metrics.pop("asymmetry_formula", None) or DEFAULT_FORMULA)
        layout = tuple(metrics)
        if layout not in layouts:  # most rows share one layout: look at each once
            layouts.add(layout)
            for key in layout:
                metric_columns.setdefault(key, None)
        stream = digest.get("stream") or {}
        saturated = stream.get("saturated_samples") or {}
        tail = [
            ";".join(str(n) for n in row["excluded"]),
            ";".join(digest.get("flags") or ()),
            stream.get("dropped_samples"),
            stream.get("frames_corrupt"),
            saturated.get("left"),
            saturated.get("right"),
            stream.get("lines_corrupt"),
            stream.get("device_restarts"),
            stream.get("overrun_events"),
            stream.get("segments"),
        ]
        prepared.append((head, metrics, tail))
    keys = list(metric_columns)
    table = [[*head, *[metrics.get(k) for k in keys], *tail] for head, metrics, tail in prepared]
    return [*_head_columns(anonymise), *keys, *TAIL], table


def export_summary(
    store: Store,
    out: str | os.PathLike[str],
    *,
    athlete: Any = None,
    team: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    anonymise: bool = False,
    force: bool = False,
    include_voided: bool = False,
    changed_since: str | datetime | None = None,
) -> ExportReport:
    """One row per test, every metric; a sidecar ``<name>.json`` describes the columns.
    Voided tests are left out unless ``include_voided``; ``changed_since`` keeps
    the tests added or changed since then (voided ones too), and the sidecar
    says what to pass next time."""
    target = check_file_target(Path(out), force)
    sidecar = check_file_target(target.with_suffix(".json"), force)
    if sidecar == target:
        raise StoreError(f"{target}: name the summary file with a .csv suffix")
    started = datetime.now(UTC)
    rows = store.exports.summary_rows(
        athlete=athlete,
        team=team,
        since=since,
        until=until,
        include_voided=include_voided,
        changed_since=changed_since,
    )
    columns, table = summary_table(store, rows, anonymise)
    versions = sorted({str(r[columns.index("analysis_version")]) for r in table})

    def write_csv(handle: TextIO) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(safe_row(columns))
        writer.writerows(safe_row(row) for row in table)

    meta = {
        "format": SUMMARY_FORMAT,
        "file": target.name,
        "exported_at": now_utc(),
        "station_version": station.__version__,
        "analysis_versions": versions,
        "rows": len(table),
        "filters": {
            "athlete": _athlete_filter(store, athlete, anonymise),
            "team": team,
            "since": None if since is None else str(since),
            "until": None if until is None else str(until),
            "include_voided": include_voided or changed_since is not None,
            "changed_since": None
            if changed_since is None
            else parse_instant(changed_since, "--changed-since"),
        },
        # Pass this as --changed-since next time: it overlaps this export by a
        # minute so a change saved while it ran is not missed (rows are keyed by
        # test_id: a row read twice replaces itself).
        "next_changed_since": format_instant(started - CHANGE_OVERLAP),
        "anonymised": anonymise,
        "pseudonyms": "HMAC-SHA256 of the athlete id with this database's secret"
        if anonymise
        else None,
        "missing_values": "empty cell",
        "columns": {c: describe_column(c) for c in columns},
        "definitions": "metrics.md; every number comes from the test's current analysis run",
    }
    write_files(
        [
            (target, write_csv),
            (sidecar, lambda h: h.write(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")),
        ]
    )
    log.info("summary export: %d test(s), anonymised=%s", len(table), anonymise)
    return ExportReport((target, sidecar), len(table))


def _athlete_filter(store: Store, athlete: Any, anonymise: bool) -> str | None:
    """The athlete an export was limited to, as the reader may see it."""
    if athlete is None:
        return None
    if anonymise:
        return store.exports.pseudonym(store.athletes.resolve(athlete).id)
    return str(athlete)


# -- one test ---------------------------------------------------------------------------
CURVE_COLUMNS = (
    ("time_s", "time_s", "s", "time on the device's sample clock since START", 6),
    ("left_n", "left_force_n", "N", "left force, tared, zero-phase low-pass filtered", 3),
    ("right_n", "right_force_n", "N", "right force, tared, zero-phase low-pass filtered", 3),
    ("left_raw_n", "left_raw_force_n", "N", "left force, tared, unfiltered", 3),
    ("right_raw_n", "right_raw_force_n", "N", "right force, tared, unfiltered", 3),
)


def _curve_lines(
    curves: Mapping[str, np.ndarray], reps: list[dict[str, Any]]
) -> tuple[list[str], list[str]]:
    present = [c for c in CURVE_COLUMNS if c[0] in curves]
    headers = [c[1] for c in present]
    n = len(curves[present[0][0]]) if present else 0
    columns: list[list[str]] = []
    for key, _, _, _, digits in present:
        values = np.asarray(curves[key], np.float64)
        text = [f"{v:.{digits}f}" for v in values.tolist()]
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            text[i] = ""
        columns.append(text)
    saturated = curves.get("saturated")
    if saturated is not None:
        flags = np.asarray(saturated, np.int64)
        headers += ["saturated_left", "saturated_right"]
        columns.append(np.where(flags & 1, "1", "0").tolist())
        columns.append(np.where(flags & 2, "1", "0").tolist())
    if "time_s" in curves and n:
        time = np.asarray(curves["time_s"], np.float64)
        rep_col = np.full(n, "", dtype=object)
        for rep in reps:
            inside = (time >= rep["start_s"] - 1e-9) & (time <= rep["end_s"] + 1e-9)
            rep_col[inside] = str(rep["number"])
        headers.append("rep")
        columns.append(rep_col.tolist())
    lines = [",".join(cells) for cells in zip(*columns, strict=True)] if columns else []
    return headers, lines


def export_test(
    store: Store,
    test_id: int | str,
    out_dir: str | os.PathLike[str],
    *,
    anonymise: bool = False,
    force: bool = False,
) -> ExportReport:
    """``test-<id>.csv`` (curves) and ``test-<id>.json`` (metadata, definitions) in ``out_dir``."""
    test = store.tests.get(test_id)
    if test.result is None:
        raise StoreError(
            f"test {test.id} has no analysis: run 'nordic-station recompute {test.id}'"
        )
    folder = check_dir_target(Path(out_dir))
    csv_path = check_file_target(folder / f"test-{test.id}.csv", force)
    json_path = check_file_target(folder / f"test-{test.id}.json", force)
    curves = store.tests.curves(test.id)
    if curves is None:
        raise StoreError(
            f"test {test.id} has no stored curves: run 'nordic-station recompute {test.id}' first"
        )
    athlete = store.athletes.get(test.athlete_id)
    metrics = test.result.metrics
    headers, lines = _curve_lines(curves, metrics.get("reps") or [])
    reps = store.tests.reps(test.id)
    certificate = (
        None if test.certificate_id is None else store.certificates.get(test.certificate_id)
    )
    who: dict[str, Any]
    if anonymise:
        who = {"athlete": store.exports.pseudonym(athlete.id)}
    else:
        who = {
            "athlete_id": athlete.id,
            "name": athlete.name,
            "external_id": athlete.external_id,
            "date_of_birth": None
            if athlete.date_of_birth is None
            else athlete.date_of_birth.isoformat(),
        }
    who.update(
        age_years=_age(
            None if athlete.date_of_birth is None else athlete.date_of_birth.isoformat(),
            test.recorded_at,
        ),
        sex=athlete.sex,
        sport=athlete.sport,
        team=athlete.team,
        dominant_leg=athlete.dominant_leg,
    )
    units = {c[1]: {"unit": c[2], "description": c[3]} for c in CURVE_COLUMNS if c[1] in headers}
    units.update(
        {
            "saturated_left": {"unit": "", "description": "1 where the left sample was saturated"},
            "saturated_right": {
                "unit": "",
                "description": "1 where the right sample was saturated",
            },
            "rep": {
                "unit": "",
                "description": "rep number the row belongs to (empty between reps)",
            },
        }
    )
    meta = {
        "format": TEST_FORMAT,
        "file": csv_path.name,
        "exported_at": now_utc(),
        "station_version": station.__version__,
        "anonymised": anonymise,
        "athlete": who,
        "test": {
            "id": test.id,
            "recorded_at": test.recorded_at,
            "protocol": test.protocol,
            "knee_angle_deg": test.knee_angle_deg,
            "position": test.position,
            "rig_serial": test.rig_serial,
            "operator": None if anonymise else test.operator,
            "notes": None if anonymise else test.notes,
            "sample_rate_hz": test.sample_rate_hz,
            "duration_s": test.duration_s,
            "body_mass_kg": test.body_mass_kg,
            "lever_arm_m": test.lever_arm_m,
            "source": test.source.split(":", 1)[0] if anonymise else test.source,
            "recovered": test.recovered,
            "voided": test.voided,
            "void_reason": None if anonymise else test.void_reason,
            "warnings": list(test.warnings),
            "recording_sha256": test.recording_sha256,
        },
        "columns": {h: units.get(h, {"unit": "", "description": ""}) for h in headers},
        "breaks": "an empty force row marks a break (dropped samples or a device restart): "
        "the curve is not joined across it",
        "analysis": {
            "run": test.result.id,
            "analysis_version": test.result.analysis_version,
            "analyzed_at": test.result.created_at,
            "settings": test.result.settings,
            "filter": metrics.get("filter"),
            "zero": metrics.get("zero"),
            "calibration": metrics.get("calibration"),
        },
        "certificate": None if certificate is None else certificate.data,
        "summary": metrics.get("summary"),
        "reps": metrics.get("reps"),
        "exclusions": [
            {
                "rep": r.number,
                "reason": None if anonymise else r.exclusion_reason,
                "by": None if anonymise else r.excluded_by,
                "at": r.excluded_at,
            }
            for r in reps
            if r.excluded
        ],
        "flags": metrics.get("flags"),
        "flag_descriptions": metrics.get("flag_descriptions"),
        # The pulls the analysis did not count as reps (the flag pulls_ignored says
        # "see ignored"): where they are and why.
        "ignored": metrics.get("ignored") or [],
        "warnings": metrics.get("warnings"),
        "references": metrics.get("references"),
        "stream": metrics.get("stream"),
        "definitions": DEFINITIONS,
    }

    if anonymise:
        meta["certificate"] = anonymous_certificate(meta["certificate"])  # type: ignore[arg-type]
        meta["reps"] = anonymous_reps(meta["reps"])
        secrets = identifying_values(store, athlete.id, [test], [certificate])
        meta = scrub(meta, secrets)
        headers = scrub(headers, secrets)

    def write_csv(handle: TextIO) -> None:
        # The curve lines are numbers formatted here; only the header is text.
        csv.writer(handle, lineterminator="\n").writerow(safe_row(headers))
        handle.write("\n".join(lines))
        if lines:
            handle.write("\n")

    write_files(
        [
            (csv_path, write_csv),
            (json_path, lambda h: h.write(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")),
        ]
    )
    log.info("test %d exported: %d curve rows, anonymised=%s", test.id, len(lines), anonymise)
    return ExportReport((csv_path, json_path), len(lines))
