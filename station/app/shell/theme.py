"""Colours, fonts and the imbalance colour band: one place, so every screen agrees.

Left and right legs use the Okabe–Ito palette (blue #0072B2, vermillion
#D55E00), which stays distinguishable for the common forms of colour-vision
deficiency; every trace also carries a text label, so colour is never the only
cue.  The imbalance band follows metrics.md (Bourne et al. 2015): below 10 %
green, 10–15 % amber, 15 % and above red.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from station.present.numbers import format_number, parse_number

LEFT_COLOUR = "#0072B2"  # Okabe–Ito blue
RIGHT_COLOUR = "#D55E00"  # Okabe–Ito vermillion
LEFT_COLOUR_LIGHT = "#56B4E9"  # Okabe–Ito sky blue: left curves of older reps
RIGHT_COLOUR_LIGHT = "#E69F00"  # Okabe–Ito orange: right curves of older reps
REFERENCE_COLOUR = "#555555"

GOOD = "#1B7F3B"  # green, dark enough for white text
CAUTION = "#B77800"  # amber
DANGER = "#B3261E"  # red
NEUTRAL = "#5F6368"
WARNING_BACKGROUND = "#FFF4CE"
ERROR_BACKGROUND = "#FDE7E9"

# Imbalance thresholds (percent), metrics.md: Bourne et al. 2015, AJSM.
IMBALANCE_AMBER_PCT = 10.0
IMBALANCE_RED_PCT = 15.0

BASE_POINT_SIZE = 11
BIG_NUMBER_POINT_SIZE = 40
MEDIUM_NUMBER_POINT_SIZE = 22


@dataclass(frozen=True)
class Band:
    """A colour band for one figure: the colour and the word that says the same."""

    colour: str
    label: str


def imbalance_band(percent: float | None) -> Band:
    """The band of an imbalance figure as shown (rounded to 0.1 %, so "10.0 %" is never
    called balanced); ``None`` (no data) is neutral."""
    if percent is None or percent != percent:  # NaN check without numpy
        return Band(NEUTRAL, "no data")
    percent = parse_number(format_number(percent, 1))
    if percent < IMBALANCE_AMBER_PCT:
        return Band(GOOD, "balanced")
    if percent < IMBALANCE_RED_PCT:
        return Band(CAUTION, "watch")
    return Band(DANGER, "imbalance")


def font(point_size: int = BASE_POINT_SIZE, bold: bool = False) -> QFont:
    """A font of the application's family at ``point_size``."""
    f = QFont(QApplication.font())
    f.setPointSize(point_size)
    f.setBold(bold)
    return f


STYLE_SHEET = f"""
QListWidget#navigation {{ font-size: 13pt; border: none; background: #F1F3F4; }}
QListWidget#navigation::item {{ padding: 12px 16px; }}
QListWidget#navigation::item:selected {{ background: #D2E3FC; color: #000000; }}
QListWidget#athleteList::item, QListWidget#portList::item {{ padding: 6px 4px; }}
QPushButton {{ padding: 6px 14px; }}
QPushButton#primary {{
    font-size: 14pt; font-weight: bold; padding: 10px 22px;
    background: #0B57D0; color: white; border-radius: 6px;
}}
QPushButton#primary:disabled {{ background: #A8C7FA; }}
QPushButton#danger {{
    font-size: 14pt; font-weight: bold; padding: 10px 22px;
    background: {DANGER}; color: white; border-radius: 6px;
}}
QLabel#screenTitle {{ font-size: 18pt; font-weight: bold; }}
QLabel#banner {{ padding: 8px 12px; border-radius: 4px; }}
QLabel#caption {{ color: #444444; }}
QStatusBar QLabel {{ padding: 0px 8px; }}
"""


def apply_theme(app: QApplication) -> None:
    """A light palette and the style sheet (screenshots and projectors prefer light)."""
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#F6F8FA"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#1F1F1F"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#1F1F1F"))
    palette.setColor(QPalette.ColorRole.Button, QColor("#F1F3F4"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#1F1F1F"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#0B57D0"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#FFFFFF"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#FFFFE1"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor("#1F1F1F"))
    app.setPalette(palette)
    base = QFont(app.font())
    base.setPointSize(BASE_POINT_SIZE)
    app.setFont(base)
    app.setStyleSheet(STYLE_SHEET)


def configure_pyqtgraph() -> None:
    """White plots with dark axes, antialiased lines; once, before any plot exists."""
    import pyqtgraph as pg

    pg.setConfigOptions(background="w", foreground="#202124", antialias=False)
