"""The shape every report shares (DESIGN.md §2: reports are read-only queries over all apps).

A `Report` names its columns (key, human header, kind) and builds one ordered queryset of
`values()` rows for a set of validated filters. From that one queryset come:

- the JSON page (`page`): page-number pagination, a COUNT and one SELECT, whatever the
  page size; a report over an append-only table with millions of rows (`transactions`)
  uses keyset pagination instead (`?cursor=`), no COUNT and one SELECT (two for a date
  range: the page's keys, then its rows);
- the CSV and XLSX exports (`reports.rendering`), streamed from a server-side cursor;
- for some reports a PNG chart.

Values are formatted in one place: money as strings with two decimals in JSON and CSV
(quantized half up here, never implicitly by the database or a float), real numbers in XLSX.
CSV and XLSX are written by `core.exports`, which keeps a user's text from becoming a formula.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import serializers

from core.errors import InvalidInput
from core.pagination import PagePagination

MONEY = "money"
INT = "int"
TEXT = "text"
DATE = "date"
DATETIME = "datetime"
RATE = "rate"
BOOL = "bool"
HOURS = "hours"  # a duration, shown as hours with two decimals


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = TEXT


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _hours(value: dt.timedelta) -> Decimal:
    seconds = Decimal(value.days * 86400 + value.seconds) + Decimal(value.microseconds) / 1_000_000
    return (seconds / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def json_value(kind: str, value: Any):
    """The JSON (and CSV) form of one cell."""
    if value is None:
        return None
    if kind == MONEY:
        return f"{_money(value):.2f}"
    if kind == RATE:
        return format(Decimal(value).normalize(), "f")
    if kind == INT:
        return int(value)
    if kind == HOURS:
        return f"{_hours(value):.2f}"
    if kind == DATETIME:  # to the second in every format (Excel keeps no more than milliseconds)
        return timezone.localtime(value).replace(microsecond=0).isoformat()
    if kind == DATE:
        return value.isoformat()
    if kind == BOOL:
        return bool(value)
    return str(value)


def csv_value(kind: str, value: Any):
    """The CSV form of one cell, typed for `core.exports` (numbers stay numbers; text is
    neutralised there): the JSON's value, as a Decimal or int for the numeric kinds."""
    shown = json_value(kind, value)
    if shown is None:
        return None
    if kind == BOOL:
        return "Yes" if shown else "No"
    if kind in (MONEY, RATE, HOURS):
        return Decimal(shown)
    return shown


def xlsx_value(kind: str, value: Any):
    """Excel has no time zones: datetimes are shown in the platform's zone (Asia/Kolkata)."""
    if value is None:
        return None
    if kind == MONEY:
        return _money(value)
    if kind == RATE:
        return Decimal(value)
    if kind == HOURS:
        return _hours(value)
    if kind == INT:
        return int(value)
    if kind == DATETIME:
        return timezone.localtime(value).replace(tzinfo=None, microsecond=0)
    if kind == BOOL:
        return "Yes" if value else "No"
    if kind == DATE:
        return value
    return str(value)


class DateRangeFilter(serializers.Serializer):
    """`from` and `to` (inclusive dates, in the platform's time zone). Subclasses add the
    report's dimensions."""

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, help_text="First day (inclusive).")
        fields["to"] = serializers.DateField(required=False, help_text="Last day (inclusive).")
        return fields

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": "`to` must not be before `from`."})
        return attrs


def day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def datetime_range(filters: dict, field: str) -> dict:
    """ORM lookups for `from`/`to` on a datetime column: [from 00:00, to+1 00:00) local time,
    so an index on the column is usable (no per-row date conversion)."""
    lookups = {}
    if filters.get("from"):
        lookups[f"{field}__gte"] = day_start(filters["from"])
    if filters.get("to"):
        lookups[f"{field}__lt"] = day_start(filters["to"] + dt.timedelta(days=1))
    return lookups


class Report:
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    FilterSerializer: ClassVar[type[serializers.Serializer]] = DateRangeFilter
    has_chart: ClassVar[bool] = False
    keyset: ClassVar[bool] = False  # True: `?cursor=` pagination, no COUNT

    def columns(self, filters: dict) -> tuple[Column, ...]:
        raise NotImplementedError

    def rows(self, filters: dict) -> QuerySet:
        """One ordered queryset of `values()` dicts keyed by the column keys."""
        raise NotImplementedError

    # --- keyset reports override these two ------------------------------------------------
    def rows_after(self, filters: dict, cursor: str | None, limit: int | None = None) -> QuerySet:
        """Rows after `cursor`; `limit` (a page's worth) lets the query stop early."""
        raise NotImplementedError

    def cursor_of(self, row: dict) -> str:
        raise NotImplementedError

    def chart_png(self, filters: dict) -> bytes:
        raise NotImplementedError

    # --- shared -----------------------------------------------------------------------------
    def parse_filters(self, params) -> dict:
        serializer = self.FilterSerializer(data={key: params.get(key) for key in params
                                                 if key not in ("format", "page", "page_size", "cursor")})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def count(self, filters: dict) -> int:
        return self.rows(filters).count()

    def prepare(self, row: dict) -> dict:
        """A last per-row step in Python (every format goes through it), e.g. decrypting."""
        return row

    def format_row(self, row: dict, columns) -> dict:
        row = self.prepare(row)
        return {column.key: json_value(column.kind, row.get(column.key)) for column in columns}

    def page(self, filters: dict, request, view) -> dict:
        columns = self.columns(filters)
        header = [{"key": column.key, "header": column.header, "kind": column.kind} for column in columns]
        if self.keyset:
            return self._keyset_page(filters, request, columns, header)
        paginator = PagePagination()
        page = paginator.paginate_queryset(self.rows(filters), request, view=view)
        return {
            "report": self.name, "columns": header, "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(), "previous": paginator.get_previous_link(),
            "results": [self.format_row(row, columns) for row in page],
        }

    def _keyset_page(self, filters, request, columns, header) -> dict:
        from rest_framework.utils.urls import replace_query_param

        paginator = PagePagination()
        size = paginator.get_page_size(request) or paginator.page_size
        cursor = request.query_params.get("cursor") or None
        fetched = list(self.rows_after(filters, cursor, limit=size + 1)[: size + 1])
        rows, more = fetched[:size], len(fetched) > size
        next_link = None
        if more:
            next_link = replace_query_param(request.build_absolute_uri(), "cursor", self.cursor_of(rows[-1]))
        return {"report": self.name, "columns": header, "next": next_link, "previous": None,
                "results": [self.format_row(row, columns) for row in rows]}


def bad_cursor() -> InvalidInput:
    return InvalidInput("The cursor is not valid; start again without it.", code="invalid_cursor", attr="cursor")
