"""Report output other than JSON: CSV (streamed), XLSX and PNG charts.

CSV is produced row by row from a server-side cursor (`QuerySet.iterator(chunk_size=…)`),
so memory stays flat whatever the size; the same generator feeds the HTTP response and the
Celery export job. XLSX under the inline limit is built in memory; the export job, which may
see far more rows, writes with openpyxl's write-only workbook, row by row. Both go through
`core.exports`, so a user's text never becomes a formula. Charts use matplotlib's object
API on the Agg canvas (no pyplot global state, no display), which is safe in a web worker's
threads.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from core import exports
from reports.base import DATETIME, MONEY, Column, Report, csv_value, xlsx_value

CHUNK_ROWS = 2000


def report_rows(report: Report, filters: dict) -> Iterator[dict]:
    """Rows from a server-side cursor, `CHUNK_ROWS` at a time, each through `prepare`."""
    return map(report.prepare, report.rows(filters).iterator(chunk_size=CHUNK_ROWS))


def csv_lines(report: Report, filters: dict, rows: Iterable[dict] | None = None) -> Iterator[str]:
    columns = report.columns(filters)
    rows = rows if rows is not None else report_rows(report, filters)
    values = ([csv_value(column.kind, row.get(column.key)) for column in columns] for row in rows)
    return exports.csv_lines([column.header for column in columns], values, bom=True)  # BOM: Excel reads UTF-8


def csv_stream_bytes(report: Report, filters: dict) -> Iterator[bytes]:
    """CSV in blocks of about 64 KB (one `yield` per line would make the response slow)."""
    buffer: list[str] = []
    size = 0
    for line in csv_lines(report, filters):
        buffer.append(line)
        size += len(line)
        if size >= 65536:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def _xlsx_formats(columns: tuple[Column, ...]) -> dict[int, str]:
    return {index: ("#,##0.00" if column.kind == MONEY else "yyyy-mm-dd hh:mm:ss")
            for index, column in enumerate(columns, start=1) if column.kind in (MONEY, DATETIME)}


def _xlsx_write(report: Report, filters: dict, target, *, streaming: bool) -> int:
    columns = report.columns(filters)
    rows = ([xlsx_value(column.kind, row.get(column.key)) for column in columns]
            for row in report_rows(report, filters))
    return exports.xlsx_write(
        target, sheet_title=report.title, header=[column.header for column in columns], rows=rows,
        number_formats=_xlsx_formats(columns), streaming=streaming,
        column_widths={index: max(12, min(40, len(column.header) + 4)) for index, column in enumerate(columns, 1)},
    )


def xlsx_bytes(report: Report, filters: dict) -> bytes:
    """The whole report as an XLSX workbook (inline exports, under the row limit)."""
    output = io.BytesIO()
    _xlsx_write(report, filters, output, streaming=False)
    return output.getvalue()


def xlsx_write_streaming(report: Report, filters: dict, target) -> int:
    """Write the report to `target` (a binary file) with openpyxl's write-only workbook,
    one row at a time; returns the number of data rows. For the export job."""
    return _xlsx_write(report, filters, target, streaming=True)


# --- Charts --------------------------------------------------------------------------------

def _figure():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.5), dpi=100)
    return figure, figure.add_subplot(1, 1, 1)


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    output = io.BytesIO()
    figure.tight_layout()
    canvas.print_png(output)
    return output.getvalue()


def _empty(axes) -> None:
    axes.text(0.5, 0.5, "No data for these filters", ha="center", va="center", transform=axes.transAxes)


def line_chart(*, title: str, x: list, series: dict[str, list], y_label: str) -> bytes:
    figure, axes = _figure()
    axes.set_title(title)
    if not x:
        _empty(axes)
    for label, values in series.items():
        axes.plot(x, values, marker="o", label=label)
    axes.set_ylabel(y_label)
    if x:
        axes.legend(loc="upper left")
        figure.autofmt_xdate()
    axes.grid(alpha=0.3)
    return _png(figure)


def bar_line_chart(*, title: str, x: list, bars: list, bar_label: str, line: list, line_label: str) -> bytes:
    figure, axes = _figure()
    axes.set_title(title)
    if not x:
        _empty(axes)
    else:
        # A chart is a picture: plotting needs floats, and nothing computed here is money.
        axes.bar(x, [float(value or 0) for value in bars], color="#4C72B0", label=bar_label)
        axes.set_ylabel(bar_label)
        other = axes.twinx()
        other.plot(x, line, color="#DD8452", marker="o", label=line_label)
        other.set_ylabel(line_label)
        figure.autofmt_xdate()
    axes.grid(alpha=0.3)
    return _png(figure)
