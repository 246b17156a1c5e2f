"""What a report says: the data gathered from the store and the HTML written from it.

Kept apart from the painting (:mod:`station.app.reports.pdf_writer`) and the plots
(:mod:`station.app.reports.plot_images`), so the words and numbers of a report can
be checked directly.  Forces are shown in the display unit; reference lines
come with their sources and always with the reminder that they are lines for
groups, never a diagnosis.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from station.analysis import FLAG_DESCRIPTIONS, ReferenceLine
from station.present.certificate_status import (
    as_certificate,
    certificate_warning,
    validity_text,
)
from station.present.decision import ChangeSince, change_for_test
from station.present.formulas import formula_label, formula_text, is_signed, stored_formula
from station.present.history_data import (
    parse_instant,
)
from station.present.numbers import count, format_number, format_percent
from station.present.preferences import Preferences
from station.present.protocols import label_of
from station.present.references import NO_CUT_OFF, applicable_entries, group_text
from station.present.team_data import short_source
from station.present.times import day_text, when_text
from station.present.units import force_unit, format_force, format_value

DISCLAIMER = (
    "Reference lines are published cut-offs for groups of athletes, shown with their "
    "sources; they are never a diagnosis."
)
CSS = """
h1 { font-size: 17pt; margin-bottom: 2px; }
h2 { font-size: 12.5pt; margin-top: 14px; margin-bottom: 4px; color: #0B57D0; }
p.sub { color: #444444; margin-top: 0px; }
table.grid { border-collapse: collapse; }
table.grid th { background-color: #E8EAED; font-weight: bold; padding: 3px; }
table.grid td { padding: 3px; }
td.key { font-weight: bold; padding-right: 10px; }
.left { color: #0072B2; }
.right { color: #D55E00; }
.bad { color: #B3261E; font-weight: bold; }
.good { color: #1B7F3B; }
.note { color: #444444; font-size: 8.5pt; }
.clinic { font-size: 13pt; font-weight: bold; color: #3C4043; }
p.headline { font-size: 12pt; font-weight: bold; margin-top: 6px; margin-bottom: 8px; }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


@dataclass(frozen=True)
class ReportData:
    """Everything a test report shows."""

    __test__ = False

    athlete: Any
    test: Any
    metrics: dict[str, Any]
    curves: dict[str, Any] | None
    reps: list[Any]  # the store's Rep rows (who excluded a rep, and why)
    certificate: Any  # CertificateRecord or None
    unit: str
    references: list[ReferenceLine]
    generated_at: dt.datetime
    change: ChangeSince | None = None
    clinic_name: str = ""
    clinic_logo: str = ""


def gather_test(store: Any, test_id: int, preferences: Preferences) -> ReportData:
    """Read what a test report needs from the store."""
    test = store.tests.get(test_id)
    athlete = store.athletes.get(test.athlete_id)
    certificate = (
        None if test.certificate_id is None else store.certificates.get(test.certificate_id)
    )
    return ReportData(
        athlete=athlete,
        test=test,
        metrics=dict(test.result.metrics) if test.result is not None else {},
        curves=store.tests.curves(test.id, raw=False),  # plots the filtered forces only
        reps=store.tests.reps(test.id),
        certificate=certificate,
        unit=force_unit(preferences.display_unit).symbol,
        references=preferences.lines_for(athlete),
        generated_at=dt.datetime.now(dt.UTC),
        change=change_for_test(store, test, preferences.mdc_n),
        clinic_name=preferences.clinic_name,
        clinic_logo=preferences.clinic_logo,
    )


def kv(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td class='key'>{esc(k)}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<table cellspacing='0' cellpadding='2'>{cells}</table>"


def grid(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int] = ()) -> str:
    """A bordered table; ``widths`` (percent per column) share the page out; the first
    column (a date or a name) never wraps."""

    def width(i: int) -> str:
        return f" width='{widths[i]}%'" if i < len(widths) else ""

    head = "".join(f"<th{width(i)}>{h}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{width(i)} style='white-space: nowrap'>{c}</td>"
            if i == 0
            else f"<td{width(i)}>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        "<table class='grid' border='1' cellspacing='0' cellpadding='3' width='100%'>"
        f"<tr>{head}</tr>{body}</table>"
    )


def athlete_rows(athlete: Any, test: Any | None = None) -> list[tuple[str, str]]:
    rows = [
        (
            "Athlete",
            esc(athlete.name) + (f" ({esc(athlete.external_id)})" if athlete.external_id else ""),
        )
    ]
    rows.append(("Team / sport", f"{esc(athlete.team or '–')} / {esc(athlete.sport or '–')}"))
    if athlete.date_of_birth:
        rows.append(("Date of birth", athlete.date_of_birth.isoformat()))
    mass = test.body_mass_kg if test is not None else athlete.body_mass_kg
    lever = test.lever_arm_m if test is not None else athlete.lever_arm_m
    rows.append(("Body mass", f"{mass:g} kg" if mass else "not recorded"))
    rows.append(("Lever arm", f"{lever:g} m" if lever else "not recorded"))
    return rows


def certificate_rows(data: ReportData) -> list[tuple[str, str]]:
    record = data.certificate
    if record is None:
        return [("Calibration", "<span class='bad'>no certificate linked to this test</span>")]
    cert = as_certificate(record.data)
    if cert is None:
        return [("Calibration", "<span class='bad'>the linked certificate cannot be read</span>")]
    day = parse_instant(data.test.recorded_at).date()
    passed = {True: "passed", False: "FAILED", None: "not stated"}[cert.passed]
    rows = [
        (
            "Certificate",
            f"#{record.id} for rig {esc(cert.device_serial or 'not stated')}, "
            f"made {esc((record.created or '–')[:10])}",
        ),
        ("Validity", esc(validity_text(cert, day)) + " on the test day"),
        ("Acceptance", passed),
        ("Fingerprint", esc(cert.fingerprint()[:16])),
    ]
    warning = certificate_warning(cert, data.test.rig_serial, day)
    if warning:
        rows.append(("Warning", f"<span class='bad'>{esc(warning)}</span>"))
    return rows


def summary_table(summary: dict[str, Any], unit: str) -> str:
    symbol = force_unit(unit).symbol
    rows = []
    for leg in ("left", "right"):
        s = summary.get(leg) or {}
        extra = []
        if s.get("relative_max_force_n_per_kg") is not None:
            extra.append(f"{format_number(s['relative_max_force_n_per_kg'], 2)} N/kg")
        if s.get("max_torque_nm") is not None:
            extra.append(f"{format_number(s['max_torque_nm'])} N·m")
        rows.append(
            [
                f"<span class='{leg}'><b>{leg.capitalize()}</b></span>",
                f"<b>{format_value(s.get('max_force_n'), unit)}</b>",
                format_value(s.get("avg_force_n"), unit),
                str(s.get("max_rep") or "–"),
                ", ".join(extra) or "–",
            ]
        )
    table = grid(
        ["Leg", f"Max ({symbol})", f"Avg ({symbol})", "Max in rep", "Relative / torque (max)"], rows
    )
    formula = stored_formula(summary)
    signed = is_signed(formula)
    lines = []
    for basis in ("max", "avg"):
        pct = summary.get(f"imbalance_{basis}_pct")
        side = summary.get(f"stronger_{basis}") or summary.get("stronger")
        lines.append(
            f"Imbalance on {basis} force: <b>{format_percent(pct, signed=signed)}</b>"
            + (f" ({esc(side)} stronger)" if side in ("left", "right") else "")
        )
    lines.append(f"Imbalance as {esc(formula_label(formula))} = {esc(formula_text(formula))}")
    lines.append(
        f"L:R ratio {format_number(summary.get('l_r_ratio_max'), 2)} (max), "
        f"{format_number(summary.get('l_r_ratio_avg'), 2)} (avg)"
    )
    lines.append(
        f"Reps included {summary.get('reps_included', '–')} of "
        f"{summary.get('reps_detected', '–')} found"
    )
    return table + "<p>" + "<br>".join(lines) + "</p>"


def reps_table(data: ReportData) -> str:
    unit = data.unit
    symbol = force_unit(unit).symbol
    who = {r.number: r for r in data.reps}
    rows = []
    for rep in data.metrics.get("reps") or []:
        left, right = rep.get("left") or {}, rep.get("right") or {}
        notes = [str(f).replace("_", " ") for f in rep.get("flags") or [] if f != "excluded"]
        if rep.get("excluded"):
            stored = who.get(rep["number"])
            by = f" by {stored.excluded_by}" if stored is not None and stored.excluded_by else ""
            notes.insert(0, f"EXCLUDED{by}: {rep.get('exclusion_reason') or ''}")
        rows.append(
            [
                str(rep["number"]),
                format_value(left.get("peak_force_n"), unit),
                format_value(right.get("peak_force_n"), unit),
                format_number(rep.get("imbalance_pct"), 1),
                esc(rep.get("stronger") or "–"),
                f"{format_number(left.get('time_to_peak_s'), 2)} / "
                f"{format_number(right.get('time_to_peak_s'), 2)}",
                f"{format_number(left.get('impulse_ns'))} / "
                f"{format_number(right.get('impulse_ns'))}",
                esc("; ".join(notes)),
            ]
        )
    if not rows:
        return "<p>No repetitions were found in this recording.</p>"
    return grid(
        [
            "Rep",
            f"Left peak ({symbol})",
            f"Right peak ({symbol})",
            "Imbalance (%)",
            "Stronger",
            "Time to peak L / R (s)",
            "Impulse L / R (N·s)",
            "Notes",
        ],
        rows,
    )


def line_text(line: ReferenceLine | dict[str, Any], unit: str) -> str:
    """ "avg < 337 N" for a force line, "imbalance (avg) ≥ 15 %" for an imbalance line."""
    get = line.get if isinstance(line, dict) else lambda k, d=None: getattr(line, k, d)
    comparison = "<" if get("comparison") == "below" else "≥"
    basis = get("compared_with", "avg")
    value = float(get("value") or 0.0)
    if get("measure") == "force_n":
        shown = format_force(value, unit)
        if force_unit(unit).symbol != "N":
            shown += f" ({value:g} N)"
        return f"{basis} force {comparison} {shown}"
    return f"imbalance ({basis}) {comparison} {value:g} %"


def references_html(
    entries: Sequence[dict[str, Any]], chosen: Sequence[ReferenceLine], unit: str
) -> str:
    """Each chosen line: source, population, the line, the values compared and the outcome."""
    ids = {line.id for line in chosen}
    rows = []
    for entry in entries:
        if entry.get("id") not in ids:
            continue
        result = entry.get("result") or {}
        if entry.get("measure") == "force_n":
            parts = []
            for leg in ("left", "right"):
                r = result.get(leg) or {}
                mark = "below the line" if r.get("crossed") else "not below"
                css = "bad" if r.get("crossed") else "good"
                parts.append(
                    f"{leg} {format_force(r.get('value'), unit)}: <span class='{css}'>{mark}</span>"
                )
            outcome = "; ".join(parts)
        else:
            crossed = result.get("crossed")
            css = "bad" if crossed else "good"
            outcome = (
                f"{format_number(result.get('value'), 1)} %: <span class='{css}'>"
                f"{'at or above the line' if crossed else 'below the line'}</span>"
            )
        context = f", {esc(entry['context'])}" if entry.get("context") else ""
        risk = entry.get("relative_risk")
        rows.append(
            [
                esc(entry.get("source")),
                esc(entry.get("population")) + context,
                esc(line_text(entry, unit))
                + (f"<br><span class='note'>relative risk {risk:g}</span>" if risk else ""),
                outcome,
            ]
        )
    if not rows:
        return f"<p>No reference lines chosen in the settings.</p><p class='note'>{DISCLAIMER}</p>"
    return (
        grid(["Source", "Population", "Line", "This test"], rows)
        + f"<p class='note'>{DISCLAIMER}</p>"
    )


def flags_html(data: ReportData) -> str:
    metrics = data.metrics
    described = metrics.get("flag_descriptions") or {}
    items = [
        f"{esc(flag.replace('_', ' '))}: "
        f"{esc(described.get(flag) or FLAG_DESCRIPTIONS.get(flag, ''))}"
        for flag in metrics.get("flags") or []
    ]
    warnings = list(metrics.get("warnings") or []) + [
        w for w in data.test.warnings if w not in (metrics.get("warnings") or [])
    ]
    items += [esc(w) for w in warnings]
    if data.test.recovered:
        items.append("this test was recovered after a crash and may end early")
    if not items:
        return "<p>None: the recording and the analysis raised no flags.</p>"
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def analysis_rows(data: ReportData) -> list[tuple[str, str]]:
    result = data.test.result
    settings = result.settings if result is not None else {}
    flt = data.metrics.get("filter") or {}
    stream = data.metrics.get("stream") or {}
    return [
        (
            "Recorded",
            when_text(data.test.recorded_at)
            + (f" by {esc(data.test.operator)}" if data.test.operator else ""),
        ),
        ("Protocol", esc(label_of(data.test))),
        (
            "Rig",
            f"{esc(data.test.rig_serial or 'unknown')}, "
            f"{format_number(stream.get('sample_rate_hz'))} Hz, "
            f"{format_number(stream.get('duration_s'), 1)} s recorded",
        ),
        (
            "Analysis",
            f"{esc(result.analysis_version if result else '–')}; low-pass "
            f"{format_number(flt.get('cutoff_hz'), 1)} Hz "
            f"(order {flt.get('order', '–')}, zero-phase); "
            f"rep threshold {format_number(settings.get('rep_threshold_n'))} N; impulse threshold "
            f"{format_number(settings.get('impulse_threshold_n'))} N",
        ),
        (
            "Data quality",
            f"{count(stream.get('dropped_samples', 0), 'sample')} dropped, "
            f"{stream.get('frames_corrupt', 0)} corrupt frames",
        ),
    ]


def clinic_header(name: str, logo: bool, image_width_px: int) -> str:
    """The clinic's logo and name above a report (nothing when neither is set)."""
    if not name and not logo:
        return ""
    cells = ""
    if logo:
        cells += f"<td width='{image_width_px // 6}'><img src='logo' height='48'></td>"
    cells += f"<td valign='middle'><span class='clinic'>{esc(name)}</span></td>"
    return f"<table cellspacing='0' cellpadding='0'><tr>{cells}</tr></table>"


def _leg_words(summary: dict[str, Any], leg: str, unit: str) -> str:
    s = summary.get(leg) or {}
    per_kg = s.get("relative_max_force_n_per_kg")
    text = f"{leg} {format_force(s.get('max_force_n'), unit)}"
    return text + (f" ({format_number(per_kg, 2)} N/kg)" if per_kg is not None else "")


def cut_off_text(data: ReportData) -> tuple[str, bool | None]:
    """The athlete's applicable cut-offs and where this test stands (or that none applies)."""
    entries = applicable_entries(data.metrics.get("references") or [], data.references)
    if not entries:
        group = group_text(data.athlete.sport, data.athlete.sex)
        return f"{NO_CUT_OFF} ({group}).", None
    parts, crossed_any = [], False
    for entry in entries:
        result = entry.get("result") or {}
        if entry.get("measure") == "force_n":
            below = [leg for leg in ("left", "right") if (result.get(leg) or {}).get("crossed")]
            crossed_any = crossed_any or bool(below)
            where = f"{' and '.join(below)} below it" if below else "both legs above it"
        else:
            crossed = bool(result.get("crossed"))
            crossed_any = crossed_any or crossed
            where = "at or above it" if crossed else "below it"
        source = esc(str(entry.get("source", "")).split(",")[0])
        parts.append(
            f"{source} ({esc(entry.get('population'))}): {esc(line_text(entry, data.unit))}"
            f" — {where}"
        )
    return "; ".join(parts) + ".", crossed_any


def plain_summary(data: ReportData) -> str:
    """One sentence a clinician can read aloud."""
    summary = data.metrics.get("summary") or {}
    if not summary.get("reps_included"):
        return "No repetition was found in this test: there is no result to judge."
    sentence = (
        f"Max force {_leg_words(summary, 'left', data.unit)}, "
        f"{_leg_words(summary, 'right', data.unit)}"
    )
    pct, side = summary.get("imbalance_max_pct"), summary.get("stronger_max")
    if pct is not None:
        sentence += f"; imbalance {format_percent(pct, signed=is_signed(test_formula(data)))}"
        sentence += f" ({side} stronger)" if side in ("left", "right") else ""
    change = data.change
    if change is not None and change.changes:
        real = [leg for leg, c in change.changes.items() if c.real]
        sentence += (
            "; a real change since the previous test in the " + " and ".join(real) + " leg"
            if real
            else "; no change beyond the MDC since the previous test"
        )
    text, crossed = cut_off_text(data)
    if crossed is True:
        sentence += "; below the published cut-off for this group"
    elif crossed is False:
        sentence += "; above the published cut-off for this group"
    return sentence + "."


def test_formula(data: ReportData) -> str:
    """The asymmetry formula the reported test was analysed in (metrics.md)."""
    result = data.test.result
    return stored_formula(result.settings if result is not None else None)


def decision_rows(data: ReportData) -> list[tuple[str, str]]:
    summary = data.metrics.get("summary") or {}
    pct, side = summary.get("imbalance_max_pct"), summary.get("stronger_max")
    formula = test_formula(data)
    rows = [
        (
            "Imbalance (max)",
            f"<b>{format_percent(pct, signed=is_signed(formula))}</b>"
            + (f" ({esc(side)} stronger)" if side in ("left", "right") else "")
            + f" <span class='note'>{esc(formula_label(formula))} = "
            f"{esc(formula_text(formula))}</span>",
        )
    ]
    change = data.change
    if change is not None and change.previous is not None:
        verdicts = "<br>".join(
            f"{esc(leg.capitalize())} {format_force(c.delta_n, data.unit, signed=True)}: "
            + (f"<b>{c.label}</b>" if c.real else c.label)
            for leg, c in change.changes.items()
        )
        rows.append(
            (
                f"Change since {day_text(change.previous.when)}",
                verdicts + f"<br><span class='note'>real only beyond the MDC of "
                f"{format_force(change.mdc_n, data.unit)}</span>",
            )
        )
    elif change is not None:
        rows.append(("Change", esc(change.reason)))
    text, crossed = cut_off_text(data)
    css = "bad" if crossed else "good" if crossed is False else ""
    rows.append(("Cut-off for this athlete", f"<span class='{css}'>{text}</span>"))
    return rows


def report_html_for_test(
    data: ReportData,
    images: Sequence[str] = ("bars", "curves", "session"),
    image_width_px: int = 2000,
) -> str:
    """The HTML of one test's report: page 1 the decision, page 2 the technical appendix;
    ``images`` are the names of its plot resources."""
    summary = data.metrics.get("summary") or {}
    first = [name for name in ("bars", "curves") if name in images]
    later = [name for name in images if name not in first and name != "logo"]
    parts = [
        clinic_header(data.clinic_name, "logo" in images, image_width_px),
        "<h1>Nordic hamstring strength test</h1>"
        if label_of(data.test) == "Nordic"
        else f"<h1>Hamstring strength test: {esc(label_of(data.test))}</h1>",
        f"<p class='sub'>{esc(data.athlete.name)} · {when_text(data.test.recorded_at)}"
        + (f" · {esc(data.athlete.sport)}" if data.athlete.sport else "")
        + "</p>",
        f"<p class='headline'>{esc(plain_summary(data))}</p>",
    ]
    if "bars" in first:
        parts.append(f"<p><img src='bars' width='{image_width_px}'></p>")
    parts.append(kv(decision_rows(data)))
    if "curves" in first:
        parts.append(f"<p><img src='curves' width='{image_width_px}'></p>")
    parts += [
        f"<p class='note'>{DISCLAIMER} Technical details are on the next page.</p>",
        "<h1 style='page-break-before: always'>Technical appendix</h1>",
        f"<p class='sub'>Forces in {esc(force_unit(data.unit).name)}</p>",
        kv(athlete_rows(data.athlete, data.test) + analysis_rows(data) + certificate_rows(data)),
        "<h2>Result</h2>",
        summary_table(summary, data.unit),
    ]
    for name in later:
        parts.append(f"<p><img src='{name}' width='{image_width_px}'></p>")
    parts += [
        "<h2>Repetitions</h2>",
        reps_table(data),
        "<h2>Reference lines</h2>",
        references_html(data.metrics.get("references") or [], data.references, data.unit),
        "<h2>Flags and warnings</h2>",
        flags_html(data),
        "<h2>Notes</h2>",
        f"<p>{esc(data.test.notes) or 'No notes.'}</p>",
        f"<p class='note'>Report made {when_text(data.generated_at)} by Nordic "
        f"Station from test {data.test.id} "
        f"(analysis run {data.test.result.id if data.test.result else '–'}). "
        "Definitions: peak = highest zero-phase filtered force in a rep; max = highest rep peak; "
        "avg = mean of the included reps' peaks; "
        f"imbalance as {esc(formula_label(test_formula(data)))} = "
        f"{esc(formula_text(test_formula(data)))}.</p>",
    ]
    return "\n".join(parts)


def short_line_label(line: ReferenceLine, unit: str) -> str:
    """ "Timmins et al. 2016 (soccer): avg < 337 N" for a plot."""
    return f"{short_source(line)} ({line.population}): {line_text(line, unit)}"
