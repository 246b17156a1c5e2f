"""HTML (with images) to a paginated A4 PDF, with Qt's own PDF output.

Reports are written as HTML into a :class:`QTextDocument` (it lays out
text, tables and images and breaks pages), then painted page by page on a
:class:`QPdfWriter` with a running footer.  Keeping the document separate
from the painting lets tests read exactly the text that went into the PDF.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

RESOLUTION_DPI = 300
MARGIN_MM = 15.0
FOOTER_MM = 8.0
BASE_FONT_PT = 9.5


def build_document(html: str, images: Mapping[str, QImage], css: str = "") -> QTextDocument:
    """A document of ``html`` whose ``<img src="NAME">`` come from ``images``."""
    document = QTextDocument()
    font = QFont("DejaVu Sans")
    font.setPointSizeF(BASE_FONT_PT)
    document.setDefaultFont(font)
    if css:
        document.setDefaultStyleSheet(css)
    for name, image in images.items():
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
    document.setHtml(html)
    return document


def text_width_px() -> int:
    """The width of the text area in HTML pixels (1/96 inch): the document scales HTML
    lengths to the PDF's resolution, so ``<img width=...>`` takes this unit."""
    return int((210.0 - 2 * MARGIN_MM) / 25.4 * 96)


def write_pdf(
    path: str | Path,
    html: str,
    images: Mapping[str, QImage],
    *,
    title: str,
    footer: str,
    css: str = "",
) -> int:
    """Write the PDF; returns the number of pages.  OSError if the file cannot be written."""
    target = Path(path)
    if not target.parent.is_dir():
        raise OSError(f"folder {target.parent} does not exist: choose another place")
    writer = QPdfWriter(str(target))
    writer.setResolution(RESOLUTION_DPI)
    writer.setTitle(title)
    writer.setCreator("Nordic Station")
    layout = QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4),
        QPageLayout.Orientation.Portrait,
        QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
        QPageLayout.Unit.Millimeter,
    )
    writer.setPageLayout(layout)
    document = build_document(html, images, css)
    document.documentLayout().setPaintDevice(writer)
    page = writer.pageLayout().paintRectPixels(RESOLUTION_DPI)
    footer_px = FOOTER_MM / 25.4 * RESOLUTION_DPI
    body = QSizeF(page.width(), page.height() - footer_px)
    document.setPageSize(body)
    document.setDocumentMargin(0)
    pages = max(1, document.pageCount())
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write {target}: is it open in another program?")
    try:
        footer_font = QFont("DejaVu Sans")
        footer_font.setPointSizeF(7.5)
        for number in range(pages):
            if number:
                writer.newPage()
            painter.save()
            painter.translate(0, -number * body.height())
            clip = QRectF(0, number * body.height(), body.width(), body.height())
            document.drawContents(painter, clip)
            painter.restore()
            painter.setFont(footer_font)
            painter.setPen(Qt.GlobalColor.darkGray)
            area = QRectF(0, body.height() + footer_px * 0.25, body.width(), footer_px * 0.75)
            painter.drawText(
                area, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, footer
            )
            painter.drawText(
                area,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"page {number + 1} of {pages}",
            )
    finally:
        painter.end()
    return pages
