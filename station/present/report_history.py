"""What an athlete's history report says: the trend, the change table, the injuries.

The test report's parts it shares (the athlete's rows, tables, the clinic's
header) come from :mod:`station.present.report_content`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from station.analysis import ReferenceLine
from station.present.history_data import (
    TrendPoint,
    change_between,
    dated_injuries,
    has_result,
    injury_text,
    last_change,
    no_change_text,
    previous_valid,
    trend_points,
)
from station.present.numbers import count, format_number
from station.present.preferences import Preferences
from station.present.protocols import NORDIC, ProtocolKey, key_label
from station.present.report_content import (
    DISCLAIMER,
    athlete_rows,
    clinic_header,
    esc,
    grid,
    kv,
    line_text,
)
from station.present.side_switches import side_switches, stored_formulas_text
from station.present.times import day_text, when_text
from station.present.units import force_unit, format_force, format_value

NORDIC_KEY: ProtocolKey = (NORDIC, None)


@dataclass(frozen=True)
class HistoryReportData:
    athlete: Any
    points: list[TrendPoint]
    injuries: list[Any]
    unit: str
    mdc_n: float
    references: list[ReferenceLine]
    generated_at: dt.datetime
    clinic_name: str = ""
    clinic_logo: str = ""
    protocol: ProtocolKey = NORDIC_KEY  # the one protocol group the report covers
    asymmetry_formula: str = "pct_difference"  # of the stronger-side line's imbalance


def gather_history(
    store: Any, athlete_id: int, preferences: Preferences, key: ProtocolKey = NORDIC_KEY
) -> HistoryReportData:
    """An athlete's history in one protocol group (default Nordic): tests of another
    protocol or knee angle are never on the same trend."""
    athlete = store.athletes.get(athlete_id)
    return HistoryReportData(
        athlete=athlete,
        points=trend_points(store.tests.of_athlete(athlete.id), key),
        protocol=key,
        injuries=store.athletes.injuries(athlete.id),
        unit=force_unit(preferences.display_unit).symbol,
        mdc_n=preferences.mdc_n,
        references=preferences.lines_for(athlete),
        generated_at=dt.datetime.now(dt.UTC),
        clinic_name=preferences.clinic_name,
        clinic_logo=preferences.clinic_logo,
        asymmetry_formula=preferences.asymmetry_formula,
    )


def side_switch_html(points: Sequence[TrendPoint], formula: str) -> list[str]:
    """The stronger-side section: the History screen's line, with what it judges."""
    result = side_switches(points, formula)
    if result is None:
        return []
    return [
        "<h2>Stronger side and imbalance noise</h2>",
        f"<p>{esc(result.text())}</p>",
        f"<p class='note'>{esc(result.explanation())}</p>",
    ]


def history_report_html(
    data: HistoryReportData,
    image: str = "trend",
    image_width_px: int = 2000,
    extra_images: Sequence[str] = (),
) -> str:
    unit = data.unit
    symbol = force_unit(unit).symbol
    parts = [
        clinic_header(data.clinic_name, "logo" in extra_images, image_width_px),
        "<h1>Nordic hamstring strength: history</h1>",
        f"<p class='sub'>{esc(data.athlete.name)} · {esc(key_label(data.protocol))} · "
        f"{count(len(data.points), 'test')} · forces in "
        f"{esc(force_unit(unit).name)}</p>",
        kv(athlete_rows(data.athlete)),
    ]
    change = last_change(data.points, data.mdc_n)
    parts.append("<h2>Last change (max force)</h2>")
    if change:
        items = []
        for leg, c in change.items():
            css = "bad" if c.real and c.delta_n < 0 else "good" if c.real else ""
            items.append(
                f"<span class='{leg}'><b>{leg.capitalize()}</b></span> "
                f"{format_force(c.before_n, unit)} → {format_force(c.after_n, unit)}: "
                f"{format_force(c.delta_n, unit, signed=True)}, "
                f"<span class='{css}'>{c.label}</span>"
            )
        parts.append("<p>" + "<br>".join(items) + "</p>")
    else:
        parts.append(f"<p>{esc(no_change_text(data.points))}</p>")
    parts.append(
        "<p class='note'>A change is called real only when it is larger than the minimal "
        f"detectable "
        f"change in use, {format_force(data.mdc_n, unit)} (Opar et al. 2013, JOSPT: MDC95 of "
        f"bilateral Nordic peak force 60.1–76.2 N).</p>"
    )
    parts.extend(side_switch_html(data.points, data.asymmetry_formula))
    if data.points:
        parts.append(f"<p><img src='{image}' width='{image_width_px}'></p>")
        for name in extra_images:
            if name != "logo":
                parts.append(f"<p><img src='{name}' width='{image_width_px}'></p>")
    rows = []
    before = previous_valid(data.points)
    for p in data.points:
        delta = ""
        previous = before.get(p.test_id)
        if previous is not None:
            changes = change_between(previous, p, data.mdc_n)
            delta = "<br>".join(
                f"{leg[0].upper()} {format_force(c.delta_n, unit, signed=True)}: "
                + (f"<b>{c.label}</b>" if c.real else c.label)
                for leg, c in changes.items()
            )
        rows.append(
            [
                day_text(p.when),
                str(p.reps - p.excluded_reps),
                format_value(p.left_max_n, unit),
                format_value(p.right_max_n, unit),
                format_value(p.left_avg_n, unit),
                format_value(p.right_avg_n, unit),
                format_number(p.imbalance_max_pct, 1),
                esc(p.stronger_max or "–"),
                delta or ("first test with a result" if has_result(p) else "no reps"),
            ]
        )
    parts.append("<h2>Tests</h2>")
    parts.append(
        grid(
            [
                "Date",
                "Reps",
                f"L max ({symbol})",
                f"R max ({symbol})",
                f"L avg ({symbol})",
                f"R avg ({symbol})",
                "Imbalance<br>(%)",
                "Stronger",
                "Change in max since the previous valid test",
            ],
            rows,
            (12, 7, 8, 8, 8, 8, 13, 11, 25),
        )
        if rows
        else "<p>No tests yet.</p>"
    )
    if rows:
        parts.append(
            f"<p class='note'>Imbalance (%) of the max force in the table: "
            f"{esc(stored_formulas_text(data.points))}, as each test was analysed.</p>"
        )
    dated, undated = dated_injuries(data.injuries)
    parts.append("<h2>Injuries</h2>")
    if data.injuries:
        items = [
            f"{i.occurred_on.isoformat()}: {esc(injury_text(i, with_date=False))}"
            + (f" — {esc(i.note)}" if i.note else "")
            for i in dated
        ]
        items += [
            f"date unknown: {esc(injury_text(i, with_date=False))}"
            + (f" — {esc(i.note)}" if i.note else "")
            for i in data.injuries
            if i.occurred_on is None
        ]
        parts.append("<ul>" + "".join(f"<li>{t}</li>" for t in items) + "</ul>")
        if undated:
            parts.append(
                f"<p class='note'>{count(undated, 'injury', 'injuries')} without a date: "
                "not marked on the plot.</p>"
            )
    else:
        parts.append("<p>None recorded.</p>")
    parts.append("<h2>Reference lines drawn</h2>")
    if data.references:
        parts.append(
            grid(
                ["Source", "Population", "Line", "Relative risk"],
                [
                    [
                        esc(line.source),
                        esc(line.population) + (f", {esc(line.context)}" if line.context else ""),
                        esc(line_text(line, unit)),
                        f"{line.relative_risk:g}" if line.relative_risk else "–",
                    ]
                    for line in data.references
                ],
            )
        )
    parts.append(f"<p class='note'>{DISCLAIMER}</p>")
    parts.append(
        f"<p class='note'>Report made {when_text(data.generated_at)} by Nordic Station.</p>"
    )
    return "\n".join(parts)
