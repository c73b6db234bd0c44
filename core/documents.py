"""PDFs: the one way the project makes them, so no user's text becomes ReportLab markup.

ReportLab's `Paragraph` parses its text as markup: a name like `<img src="http://…">` made
the server fetch a URL (SSRF), `<img src="/etc/…">` embedded a server file in the PDF, and
`<b>unclosed` raised (a 500 for everyone whose statement showed it). Here:

- callers describe a document with plain-text blocks (`PdfHeading`, `PdfText`, `PdfSpacer`,
  `PdfTable`); they never write markup, and every string is escaped before ReportLab sees it;
- ReportLab may open no outside resource at all: its trusted schemes and hosts are empty
  (set before every document is built, before ReportLab reads them), so even markup that
  slipped in could not fetch a URL. ReportLab itself is imported only then, not at start-up
  (tests/core/test_startup.py).

Use: `pdf_build(title=…, blocks=[PdfHeading(…), PdfText(…), PdfTable(header=…, rows=…)])`
returns the PDF's bytes. Add a block type here when a document needs one; do not build
`Paragraph`s elsewhere.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape


def _trust_nothing() -> None:
    """No scheme and no host is trusted: ReportLab refuses to open any URL (an empty host list
    is "trust nobody"; None would be "trust everybody")."""
    from reportlab import rl_config

    rl_config.trustedSchemes = []
    rl_config.trustedHosts = []


def pdf_text(value) -> str:
    """`value` as text ReportLab will print, never interpret (`&`, `<`, `>` escaped)."""
    return escape("" if value is None else str(value))


@dataclass(frozen=True)
class PdfHeading:
    text: str


@dataclass(frozen=True)
class PdfText:
    text: str


@dataclass(frozen=True)
class PdfSpacer:
    points: float = 12


@dataclass(frozen=True)
class PdfTable:
    """A grid with a header row; `total` is an optional last row in bold. Cells are text."""

    header: Sequence[str]
    rows: Sequence[Sequence]
    total: Sequence | None = None
    column_widths: Sequence[float] | None = None
    right_aligned_from: int = 1  # numbers from this column on
    wrap: Sequence[int] = (0,)  # columns whose long text wraps


def _flowables(block, styles):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    if isinstance(block, PdfHeading):
        return [Paragraph(pdf_text(block.text), styles["Title"])]
    if isinstance(block, PdfText):
        return [Paragraph(pdf_text(block.text), styles["Normal"])]
    if isinstance(block, PdfSpacer):
        return [Spacer(1, block.points)]
    if isinstance(block, PdfTable):
        def cells(row):
            # A wrapped cell is a Paragraph (markup: escaped); a plain string cell is drawn as it is.
            return [Paragraph(pdf_text(value), styles["BodyText"]) if index in block.wrap
                    else ("" if value is None else str(value)) for index, value in enumerate(row)]

        data = [[str(value) for value in block.header], *(cells(row) for row in block.rows)]
        style = [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ("ALIGN", (block.right_aligned_from, 0), (-1, -1), "RIGHT"),
        ]
        if block.total is not None:
            data.append(["" if value is None else str(value) for value in block.total])
            style.append(("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"))
        table = Table(data, colWidths=list(block.column_widths) if block.column_widths else None, repeatRows=1)
        table.setStyle(TableStyle(style))
        return [table]
    raise TypeError(f"Not a PDF block: {block!r}")


def pdf_build(*, title: str, blocks: Sequence, pagesize=None) -> bytes:
    """The PDF of `blocks`, A4 by default."""
    _trust_nothing()
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import SimpleDocTemplate

    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    document = SimpleDocTemplate(buffer, pagesize=pagesize or A4, title=str(title))
    story = []
    for block in blocks:
        story += _flowables(block, styles)
    document.build(story)
    return buffer.getvalue()
