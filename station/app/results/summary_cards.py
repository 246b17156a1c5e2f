"""The figures at the top of the Results screen: a card per leg, the reference lines.

Kept apart from the screen so its layout code stays short; every figure goes
through :mod:`station.present` (one rounding, the display unit).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSizePolicy, QVBoxLayout

from station.app.shell import theme
from station.present.certificate_status import as_certificate
from station.present.numbers import count, format_number
from station.present.units import force_unit, format_force, format_value


def force_line_value(value_n: float, unit: str, published: bool = False) -> str:
    """A reference line's force in ``unit`` ("34.4 kgf"); with ``published``, the newtons
    the paper gives beside it ("34.4 kgf (337 N)").  In newtons just "337 N"."""
    if force_unit(unit).symbol == "N":
        return f"{value_n:g} N"
    shown = format_force(value_n, unit)
    return f"{shown} ({value_n:g} N)" if published else shown


def reference_text(entry: dict[str, Any], unit: str = "N") -> tuple[str, str, bool | None]:
    """(one line, tooltip, crossed?) for an evaluated reference line (analysis JSON);
    forces in the display ``unit``."""
    measure = entry.get("measure")
    comparison = "<" if entry.get("comparison") == "below" else "≥"
    basis = "avg" if entry.get("compared_with", "avg") == "avg" else "max"
    who = entry.get("source", "")
    population = entry.get("population", "")
    context = f", {entry['context']}" if entry.get("context") else ""
    value = float(entry.get("value") or 0.0)
    if measure == "force_n":
        line = f"{comparison} {force_line_value(value, unit)}"
        published = f"{comparison} {force_line_value(value, unit, published=True)}"
    else:
        line = published = f"{comparison} {value:g} %"
    result = entry.get("result") or {}
    if measure == "force_n":
        parts = []
        crossed_any: bool | None = None
        for leg in ("left", "right"):
            leg_result = result.get(leg) or {}
            crossed = leg_result.get("crossed")
            if crossed is not None:
                crossed_any = bool(crossed_any) or bool(crossed)
            mark = "below the line" if crossed else ("above" if crossed is False else "–")
            parts.append(f"{leg} {format_force(leg_result.get('value'), unit)} {mark}")
        text = f"{population}{context}: {basis} force {line} — " + "; ".join(parts)
    else:
        crossed_any = result.get("crossed")
        mark = "at or above the line" if crossed_any else ("below" if crossed_any is False else "–")
        shown = format_number(result.get("value"), 1)
        text = f"{population}: imbalance ({basis}) {line} — {shown} % {mark}"
    risk = entry.get("relative_risk")
    tooltip = f"{who}\nPopulation: {population}{context}\nLine: {published}"
    if risk:
        tooltip += f"\nRelative risk of hamstring injury beyond the line: {risk:g}"
    tooltip += "\nA reference line, never a diagnosis."
    return text, tooltip, crossed_any


MAX_POINT_SIZE = 30
REFERENCES_MAX_HEIGHT = 300  # px: the summary row never takes the plot's room
MAX_WORDS_POINT_SIZE = 20


class FittingScroll(QScrollArea):
    """A vertical scroll area as tall as its wrapped content at its current width, up
    to ``max_height``: every line shows when there is room, and none ever overlaps."""

    def __init__(self, max_height: int) -> None:
        super().__init__()
        self.max_height = max_height
        self._width = -1
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        hint = super().sizeHint()
        content = self.widget()
        layout = content.layout() if content is not None else None
        if layout is None:
            return hint
        width = self.viewport().width() if self._width > 0 else hint.width()
        height = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
        if height <= 0:
            height = content.sizeHint().height() if content is not None else hint.height()
        return QSize(hint.width(), min(self.max_height, height + 2))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if event.size().width() != self._width:
            self._width = event.size().width()
            self.updateGeometry()  # a new width wraps the lines anew: ask for a new height

    def content_changed(self) -> None:
        self.updateGeometry()


class LegCard(QFrame):
    """A leg's session max and avg, with N/kg and torque when known."""

    def __init__(self, leg: str, colour: str) -> None:
        super().__init__()
        self.setStyleSheet(
            f"LegCard {{ border: 2px solid {colour}; border-radius: 8px; background: white; }}"
        )
        self.title = QLabel(f"{leg.capitalize()} leg")
        self.title.setFont(theme.font(14, bold=True))
        self.title.setStyleSheet(f"color: {colour};")
        self.max_value = QLabel("–")
        self.max_value.setFont(theme.font(MAX_POINT_SIZE, bold=True))
        self.max_value.setStyleSheet(f"color: {colour};")
        self.max_value.setTextFormat(Qt.TextFormat.RichText)
        self.max_text = "–"  # what max_value shows, as plain text
        self.avg_value = QLabel("–")
        self.avg_value.setFont(theme.font(13, bold=True))
        self.avg_value.setStyleSheet(f"color: {colour};")
        self.per_kg = QLabel("")
        self.per_kg.setFont(theme.font(15, bold=True))
        self.per_kg.setStyleSheet(f"color: {colour};")
        self.per_kg.setToolTip("Max force ÷ body mass on the test day")
        self.extra = QLabel("")
        self.extra.setFont(theme.font(11))
        self.extra.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.max_value)
        layout.addWidget(self.per_kg)
        layout.addWidget(self.avg_value)
        layout.addWidget(self.extra)

    def set_summary(self, data: dict[str, Any], unit: str = "N") -> None:
        """The leg's session figures (newtons in ``data``), forces shown in ``unit``.

        The max figure is large and its words ("max", the unit) smaller, so "max 32.4 kgf"
        takes no more room than "max 318 N" and the card keeps its width in every unit.
        """
        max_n = data.get("max_force_n")
        self.max_text = f"max {format_force(max_n, unit)}"
        small = f"<span style='font-size:{MAX_WORDS_POINT_SIZE}pt'>"
        self.max_value.setText(
            f"{small}max</span> {format_value(max_n, unit)} {small}{force_unit(unit).symbol}</span>"
        )
        self.avg_value.setText(f"avg {format_force(data.get('avg_force_n'), unit)}")
        extra = []
        per_kg = data.get("relative_max_force_n_per_kg")
        self.per_kg.setText(
            f"max {format_number(per_kg, 2)} N/kg" if per_kg is not None else "N/kg: no body mass"
        )
        if per_kg is not None:
            extra.append(f"{format_number(data.get('relative_avg_force_n_per_kg'), 2)} N/kg avg")
        if data.get("max_torque_nm") is not None:
            extra.append(
                f"torque {format_number(data['max_torque_nm'])} / "
                f"{format_number(data.get('avg_torque_nm'))} N·m"
            )
        self.extra.setText(" · ".join(extra))
        self.extra.setToolTip("N/kg on avg force; torque on max / avg force")
        self.extra.setVisible(bool(extra))


def technical_details(store: Any, test: Any, metrics: dict[str, Any]) -> str:
    """Filter, certificate, counters: what a researcher checks, out of the clinician's way."""
    stream = metrics.get("stream") or {}
    flt = metrics.get("filter") or {}
    result = test.result
    settings = result.settings if result is not None else {}
    lines = [
        f"Rig {test.rig_serial or 'unknown'}, {format_number(stream.get('sample_rate_hz'))} Hz, "
        f"{format_number(stream.get('duration_s'), 1)} s recorded",
        f"Low-pass {format_number(flt.get('cutoff_hz'), 1)} Hz (order {flt.get('order', '–')}, "
        f"zero-phase); rep threshold {format_number(settings.get('rep_threshold_n'))} N",
        f"Analysis {result.analysis_version if result is not None else '–'}"
        + (f", run {result.id}" if result is not None else ""),
        f"{count(int(stream.get('dropped_samples') or 0), 'sample')} dropped, "
        f"{count(int(stream.get('frames_corrupt') or 0), 'corrupt frame')}",
    ]
    try:
        record = store.certificates.of_test(test)
    except Exception:  # noqa: BLE001 - a missing certificate is said below
        record = None
    cert = as_certificate(record) if record is not None else None
    if cert is None:
        lines.append("No calibration certificate linked")
    else:
        lines.append(
            f"Certificate #{test.certificate_id}, rig {cert.device_serial or '?'}, fingerprint "
            f"{cert.fingerprint()[:16]}"
        )
    return "\n".join(lines)
