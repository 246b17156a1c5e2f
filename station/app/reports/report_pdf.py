"""PDF reports: one test, or an athlete's history.

Gathers the data (:mod:`station.present.report_content`), draws the plots
(:mod:`station.app.reports.plot_images`, :class:`~station.app.history.trend_plot.TrendPlot`)
and writes the PDF (:mod:`station.app.reports.pdf_writer`).  Runs on the GUI thread:
plots are widgets, and a report takes well under a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QTextDocument

from station.app.history.trend_plot import TrendPlot
from station.app.reports import plot_images
from station.app.reports.pdf_writer import build_document, text_width_px, write_pdf
from station.present.preferences import Preferences
from station.present.protocols import ProtocolKey
from station.present.report_content import (
    CSS,
    ReportData,
    gather_test,
    report_html_for_test,
    short_line_label,
)
from station.present.report_history import (
    NORDIC_KEY,
    HistoryReportData,
    gather_history,
    history_report_html,
)
from station.present.times import when_text

FOOTER = "Nordic Station · reference lines are group cut-offs with their sources, never a diagnosis"


def _logo(path: str) -> dict[str, QImage]:
    """The clinic's logo as an image resource (none when unset or unreadable)."""
    if not path:
        return {}
    image = QImage(str(Path(path).expanduser()))
    if image.isNull():
        return {}
    return {"logo": image.scaledToHeight(192, Qt.TransformationMode.SmoothTransformation)}


def _test_images(data: ReportData) -> dict[str, Any]:
    lines = [
        (line.value, short_line_label(line, data.unit))
        for line in data.references
        if line.measure == "force_n"
    ]
    summary = data.metrics.get("summary") or {}
    legs = [
        (
            leg,
            (summary.get(leg) or {}).get("max_force_n"),
            (summary.get(leg) or {}).get("relative_max_force_n_per_kg"),
        )
        for leg in ("left", "right")
    ]
    return {
        **_logo(data.clinic_logo),
        "bars": plot_images.bars_image(legs, data.unit),
        "curves": plot_images.rep_curves_image(data.metrics, data.curves, data.unit, lines),
        "session": plot_images.session_image(data.metrics, data.curves, data.unit),
    }


def _history_images(data: HistoryReportData) -> dict[str, Any]:
    plot = TrendPlot(pen_scale=plot_images.PRINT_PEN, legend_columns=3, legend_size="9pt")
    plot.show_history(data.points, data.injuries, data.references, data.mdc_n, data.unit)
    images = {**_logo(data.clinic_logo), "trend": plot_images.render(plot, 700, 520)}
    if any(p.left_max_n_per_kg is not None for p in data.points):
        images["perkg"] = plot_images.per_kg_trend_image(data.points)
    return images


def _test_html(data: ReportData, images: dict[str, Any]) -> str:
    return report_html_for_test(data, tuple(images), image_width_px=text_width_px())


def _history_html(data: HistoryReportData, images: dict[str, Any]) -> str:
    extra = tuple(name for name in images if name != "trend")
    return history_report_html(data, image_width_px=text_width_px(), extra_images=extra)


def report_document_for_test(store: Any, test_id: int, preferences: Preferences) -> QTextDocument:
    """The laid-out document a test report prints (its text is what the PDF says)."""
    data = gather_test(store, test_id, preferences)
    images = _test_images(data)
    return build_document(_test_html(data, images), images, CSS)


def write_test_report(store: Any, test_id: int, path: str | Path, preferences: Preferences) -> int:
    """Write the PDF report of one test; returns its page count."""
    data = gather_test(store, test_id, preferences)
    images = _test_images(data)
    return write_pdf(
        path,
        _test_html(data, images),
        images,
        title=f"Nordic test — {data.athlete.name} — {when_text(data.test.recorded_at)}",
        footer=f"{data.athlete.name} · test {data.test.id} · {FOOTER}",
        css=CSS,
    )


def history_report_document(
    store: Any, athlete_id: int, preferences: Preferences, key: ProtocolKey = NORDIC_KEY
) -> QTextDocument:
    data = gather_history(store, athlete_id, preferences, key)
    images = _history_images(data)
    return build_document(_history_html(data, images), images, CSS)


def write_history_report(
    store: Any,
    athlete_id: int,
    path: str | Path,
    preferences: Preferences,
    key: ProtocolKey = NORDIC_KEY,
) -> int:
    """Write the PDF report of an athlete's history in one protocol group (default Nordic);
    returns its page count."""
    data = gather_history(store, athlete_id, preferences, key)
    images = _history_images(data)
    return write_pdf(
        path,
        _history_html(data, images),
        images,
        title=f"Nordic history — {data.athlete.name}",
        footer=f"{data.athlete.name} · history · {FOOTER}",
        css=CSS,
    )
