"""Small reusable widgets: big numbers readable at arm's length, banners, bands.

A clinician glances at the screen from the rig, two metres away, while the
athlete works: the numbers that matter are large, always carry their unit, and
an imbalance is shown as colour *and* words.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from station.app.shell import theme
from station.present.numbers import format_number, format_percent


class ElidedLabel(QLabel):
    """One line of plain text that never widens its window: when too long for its width it
    ends in "…" and the whole text is in the tooltip (an 80-character name fits a laptop)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API)
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(
            self.fontMetrics().horizontalAdvance("…") * 4, super().minimumSizeHint().height()
        )

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        width = self.fontMetrics().horizontalAdvance(self._full) + 4
        return QSize(width, super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._full, Qt.TextElideMode.ElideRight, max(0, self.width())
        )
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")


class BigNumber(QFrame):
    """A caption over a large value and its unit, e.g. "Left peak / 312 N"."""

    def __init__(
        self,
        caption: str,
        unit: str,
        colour: str = "#1F1F1F",
        point_size: int = theme.BIG_NUMBER_POINT_SIZE,
        decimals: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.decimals = decimals
        self.unit = unit
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            f"BigNumber {{ border: 2px solid {colour}; border-radius: 8px; background: #FFFFFF; }}"
        )
        self.caption = QLabel(caption)
        self.caption.setFont(theme.font(13, bold=True))
        self.caption.setStyleSheet(f"color: {colour};")
        self.value = QLabel("–")
        self.value.setFont(theme.font(point_size, bold=True))
        self.value.setStyleSheet(f"color: {colour};")
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.unit_label = QLabel(unit)
        self.unit_label.setFont(theme.font(max(12, point_size // 2)))
        self.unit_label.setStyleSheet(f"color: {colour};")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.value)
        row.addWidget(self.unit_label, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.caption)
        layout.addLayout(row)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_value(self, value: float | None) -> None:
        self.value.setText(format_number(value, self.decimals))

    def set_unit(self, unit: str, decimals: int | None = None) -> None:
        """Show values in another unit (the caller converts them: see station.present.units)."""
        self.unit = unit
        self.unit_label.setText(unit)
        if decimals is not None:
            self.decimals = decimals

    def text(self) -> str:
        """What is shown, with its unit (for tests and accessibility)."""
        return f"{self.value.text()} {self.unit}"


class BandLabel(QLabel):
    """An imbalance figure on its colour band, with the band's word."""

    def __init__(
        self,
        point_size: int = theme.MEDIUM_NUMBER_POINT_SIZE,
        caption: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.caption = caption  # e.g. "Imbalance", where nothing nearby says what the figure is
        self.setFont(theme.font(point_size, bold=True))
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.set_imbalance(None)

    def set_imbalance(
        self,
        percent: float | None,
        stronger: str | None = None,
        *,
        band: float | None = None,
        signed: bool = False,
    ) -> None:
        """The figure large, then the stronger side and the band's word on a second line.
        ``band`` is the percentage difference the colour is judged on when the figure is in
        another formula (``signed``: shown with its sign); by default the figure itself."""
        judged = theme.imbalance_band(percent if band is None else band)
        if percent is None or not math.isfinite(percent):
            self.plain_text = f"{self.caption} –".strip()
            self.setText(self.plain_text)
        else:
            side = f"{stronger} stronger · " if stronger in ("left", "right") else ""
            words = f"{side}{judged.label}"
            small = max(10, int(self.font().pointSize() * 0.6))
            figure = f"{self.caption} {format_percent(percent, signed=signed)}".strip()
            self.setText(f"{figure}<br><span style='font-size:{small}pt'>{words}</span>")
            self.plain_text = f"{figure} ({words})"
        self.band = judged
        self.setStyleSheet(
            f"background: {judged.colour}; color: white; border-radius: 6px; padding: 6px 12px;"
        )


class Banner(QLabel):
    """A one-line message across a screen: information, warning or error."""

    STYLES = {
        "info": ("#E8F0FE", "#174EA6"),
        "warning": (theme.WARNING_BACKGROUND, "#7A4F01"),
        "error": (theme.ERROR_BACKGROUND, "#8C1D18"),
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.hide()

    def show_message(self, text: str, level: str = "info") -> None:
        background, colour = self.STYLES.get(level, self.STYLES["info"])
        self.setStyleSheet(
            f"background: {background}; color: {colour}; padding: 8px 12px; border-radius: 4px;"
        )
        self.setText(text)
        self.level = level
        self.show()

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


def screen_title(text: str) -> QLabel:
    """The large title at the top of a screen."""
    label = QLabel(text)
    label.setObjectName("screenTitle")
    return label
