"""Tax over HTTP: an investor's tax statement (JSON, CSV or PDF) and Form 15G/15H; staff's
declaration queue."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.documents import PdfHeading, PdfSpacer, PdfTable, PdfText, pdf_build
from core.errors import InvalidInput
from core.exports import csv_bytes
from core.filters import query_filters
from core.money import to_money
from core.pagination import PagePagination
from kyc.permissions import IsKycReviewer
from tax import selectors, services
from tax.enums import DeclarationForm, DeclarationStatus

MONEY = {"max_digits": 18, "decimal_places": 2}


class CsvRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes | str) else b""


class PdfRenderer(renderers.BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


class TaxStatementApi(APIView):
    renderer_classes = (renderers.JSONRenderer, CsvRenderer, PdfRenderer)

    def handle_exception(self, exc):
        # Errors are JSON whatever `?format=` asked for: the file renderers would send them empty.
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = renderers.JSONRenderer.media_type
        return super().handle_exception(exc)

    class OutputSerializer(serializers.Serializer):
        class RowSerializer(serializers.Serializer):
            kind = serializers.CharField(help_text="What paid the income: `offering` (a marketplace offering).")
            offering = serializers.IntegerField(source="reference_id")
            offering_title = serializers.CharField(source="title")
            interest = serializers.DecimalField(**MONEY)
            tds = serializers.DecimalField(**MONEY)
            net = serializers.DecimalField(**MONEY)
            principal = serializers.DecimalField(**MONEY)

        financial_year = serializers.CharField()
        start = serializers.DateField()
        end = serializers.DateField()
        name = serializers.CharField()
        pan = serializers.CharField(source="pan_masked")
        sections = serializers.ListField(child=serializers.CharField())
        interest = serializers.DecimalField(**MONEY)
        tds = serializers.DecimalField(**MONEY)
        net = serializers.DecimalField(**MONEY)
        rows = RowSerializer(many=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("fy", OpenApiTypes.STR, required=True, description="Financial year, e.g. 2026-27."),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "pdf"]),
        ],
        responses={(200, "application/json"): OutputSerializer, (200, "text/csv"): OpenApiTypes.STR,
                   (200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        label = request.query_params.get("fy", "")
        try:
            statement = selectors.tax_statement_for_user(user=request.user, financial_year=label)
        except ValueError as exc:
            raise InvalidInput(str(exc), attr="fy") from None
        file_format = request.accepted_renderer.format
        if file_format == "csv":
            return self._download(_statement_csv(statement), "text/csv", f"tax-statement-{label}.csv")
        if file_format == "pdf":
            return self._download(_statement_pdf(statement), "application/pdf", f"tax-statement-{label}.pdf")
        return Response(self.OutputSerializer(statement).data)

    @staticmethod
    def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _statement_csv(statement) -> bytes:
    rows = [[statement.financial_year, row.reference_id, row.title, to_money(row.interest),
             to_money(row.tds), to_money(row.net), to_money(row.principal)] for row in statement.rows]
    rows.append([statement.financial_year, "", "Total", to_money(statement.interest), to_money(statement.tds),
                 to_money(statement.net), ""])
    return csv_bytes(["financial_year", "offering", "offering_title", "interest", "tds", "net", "principal"], rows)


def _statement_pdf(statement) -> bytes:
    """A one-table A4 statement, through core.documents (the name and titles are user text)."""
    rows = [[row.title, f"{row.interest:.2f}", f"{row.tds:.2f}", f"{row.net:.2f}"] for row in statement.rows]
    sections = ", ".join(statement.sections) or "none"
    return pdf_build(title=f"Tax statement {statement.financial_year}", blocks=[
        PdfHeading(f"Interest and TDS statement, financial year {statement.financial_year}"),
        PdfText(f"{statement.name} · PAN {statement.pan_masked or 'not on file'}"),
        PdfText(f"{statement.start.isoformat()} to {statement.end.isoformat()} · TDS sections: {sections}"),
        PdfSpacer(12),
        PdfTable(header=["Offering", "Interest (INR)", "TDS (INR)", "Net (INR)"], rows=rows,
                 total=["Total", f"{statement.interest:.2f}", f"{statement.tds:.2f}", f"{statement.net:.2f}"],
                 column_widths=[240, 80, 80, 80]),
    ])


# --- Form 15G/15H ----------------------------------------------------------------------------

class DeclarationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    financial_year = serializers.CharField()
    form = serializers.CharField()
    status = serializers.CharField()
    note = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class TaxDeclarationListCreateApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    parser_classes = (MultiPartParser,)

    class InputSerializer(serializers.Serializer):
        financial_year = serializers.CharField(max_length=7)
        form = serializers.ChoiceField(choices=DeclarationForm.choices)
        file = serializers.FileField()

    @extend_schema(responses={200: DeclarationOutputSerializer(many=True)})
    def get(self, request):
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.tax_declaration_list_for_user(user=request.user), request,
                                           view=self)
        return paginator.get_paginated_response(DeclarationOutputSerializer(page, many=True).data)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: DeclarationOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        declaration = services.tax_declaration_submit(user=request.user, financial_year=values["financial_year"],
                                                      form=values["form"], file=values["file"])
        return Response(DeclarationOutputSerializer(declaration).data, status=status.HTTP_201_CREATED)


class TaxDeclarationQueueApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    permission_classes = (IsAuthenticated, IsKycReviewer)

    class OutputSerializer(DeclarationOutputSerializer):
        user = serializers.IntegerField(source="user_id")

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=DeclarationStatus.choices, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True)})
    def get(self, request):
        paginator = PagePagination()
        filters = query_filters(self.FilterSerializer, request)
        rows = selectors.tax_declaration_queue(actor=request.user, status=filters.get("status"))
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class TaxDeclarationDecideApi(APIView):
    permission_classes = (IsAuthenticated, IsKycReviewer)
    accept = True

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: DeclarationOutputSerializer})
    def post(self, request, declaration_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        declaration = services.tax_declaration_decide(actor=request.user, declaration_id=declaration_id,
                                                      accept=self.accept, note=data.validated_data["note"])
        return Response(DeclarationOutputSerializer(declaration).data)


class TaxDeclarationAcceptApi(TaxDeclarationDecideApi):
    accept = True


class TaxDeclarationRejectApi(TaxDeclarationDecideApi):
    accept = False
