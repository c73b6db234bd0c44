from decimal import Decimal

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tenancy import IsOrganizationAdmin, TenantAutoSchema
from core.documents import PdfHeading, PdfSpacer, PdfTable, PdfText, pdf_build
from core.errors import InvalidInput
from core.exports import csv_bytes
from core.filters import query_filters
from core.idempotency import idempotent
from core.money import to_money
from core.pagination import PagePagination
from kyc.permissions import IsKycReviewer
from trading.servicing import selectors, services
from trading.servicing.enums import DeclarationForm, DeclarationStatus

MONEY = {"max_digits": 18, "decimal_places": 2}


def _rate(value: float | None) -> str | None:
    return None if value is None else f"{value:.6f}"


# --- Staff: repayments and default -----------------------------------------------------------

class DistributionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    offering = serializers.IntegerField(source="offering_id")
    reference = serializers.CharField()
    status = serializers.CharField()
    source = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    interest_topup = serializers.DecimalField(**MONEY)
    received_on = serializers.DateField()
    record_date = serializers.DateField(allow_null=True)
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    tds = serializers.DecimalField(**MONEY)
    spread = serializers.DecimalField(**MONEY)
    shortfall = serializers.DecimalField(**MONEY)
    matured = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


class OfferingRepaymentApi(APIView):
    """Cash received for an offering → a distribution job (runs through the outbox)."""
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema

    permission_classes = (IsAuthenticated, IsOrganizationAdmin)
    schema = TenantAutoSchema()

    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
        received_on = serializers.DateField()
        reference = serializers.CharField(max_length=100)

    @extend_schema(responses={200: DistributionOutputSerializer(many=True)})
    def get(self, request, offering_id: int):
        paginator = PagePagination()
        rows = selectors.distribution_list_for_offering(organization=request.tenant.organization,
                                                        offering_id=offering_id)
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(DistributionOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: DistributionOutputSerializer,
                                                       200: DistributionOutputSerializer})
    @idempotent
    def post(self, request, offering_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        recorded = services.distribution_record(
            organization=request.tenant.organization, offering_id=offering_id, amount=values["amount"],
            received_on=values["received_on"], reference=values["reference"], actor=request.user,
        )
        distribution = recorded.distribution
        distribution.refresh_from_db()  # eager mode has run it already; a worker may not have
        return Response(DistributionOutputSerializer(distribution).data,
                        status=status.HTTP_202_ACCEPTED if recorded.created else status.HTTP_200_OK)


class DistributionDetailApi(APIView):
    permission_classes = (IsAuthenticated, IsOrganizationAdmin)
    schema = TenantAutoSchema()

    @extend_schema(responses={200: DistributionOutputSerializer})
    def get(self, request, distribution_id: int):
        distribution = selectors.distribution_get_for_organization(organization=request.tenant.organization,
                                                                   distribution_id=distribution_id)
        return Response(DistributionOutputSerializer(distribution).data)


class OfferingDefaultApi(APIView):
    permission_classes = (IsAuthenticated, IsOrganizationAdmin)
    schema = TenantAutoSchema()

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=255)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        status_reason = serializers.CharField()
        days_past_due = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    @idempotent
    def post(self, request, offering_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offering = services.offering_default(organization=request.tenant.organization, offering_id=offering_id,
                                             reason=data.validated_data["reason"], actor=request.user)
        return Response(self.OutputSerializer(offering).data)


# --- Investor: cash flows, portfolio, tax statement ------------------------------------------

class CashFlowListApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["received", "upcoming"], default="received")

    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField()
        date = serializers.DateField()
        offering = serializers.IntegerField()
        offering_title = serializers.CharField()
        units = serializers.IntegerField()
        principal = serializers.DecimalField(**MONEY)
        interest = serializers.DecimalField(**MONEY)
        gross = serializers.DecimalField(**MONEY)
        tds = serializers.DecimalField(**MONEY, allow_null=True)
        net = serializers.DecimalField(**MONEY, allow_null=True)
        tds_section = serializers.CharField(allow_null=True)
        is_overdue = serializers.BooleanField()
        distribution = serializers.IntegerField(allow_null=True)

    @staticmethod
    def _received(line) -> dict:
        deduction = getattr(line, "deduction", None)
        return {"status": "received", "date": line.paid_on, "offering": line.offering_id,
                "offering_title": line.offering.title, "units": line.units, "principal": line.principal,
                "interest": line.interest, "gross": line.gross, "tds": line.tds, "net": line.net,
                "tds_section": deduction.section if deduction is not None and line.tds else None,
                "is_overdue": False, "distribution": line.distribution_id}

    @staticmethod
    def _upcoming(flow) -> dict:
        return {"status": "upcoming", "date": flow.date, "offering": flow.offering_id,
                "offering_title": flow.offering_title, "units": flow.units, "principal": flow.principal,
                "interest": flow.interest, "gross": flow.amount, "tds": None, "net": None, "tds_section": None,
                "is_overdue": flow.is_overdue, "distribution": None}

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True)},
                   description="received: what was paid to you, with TDS; upcoming: what the schedule still owes "
                               "on the units you hold (arrears marked overdue), before TDS.")
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = PagePagination()
        if filters.validated_data["status"] == "upcoming":
            page = paginator.paginate_queryset(selectors.cash_flows_upcoming_for_user(user=request.user), request,
                                               view=self)
            rows = [self._upcoming(flow) for flow in page]
        else:
            page = paginator.paginate_queryset(selectors.cash_flows_received_for_user(user=request.user), request,
                                               view=self)
            rows = [self._received(line) for line in page]
        return paginator.get_paginated_response(self.OutputSerializer(rows, many=True).data)


class PortfolioApi(APIView):
    class OutputSerializer(serializers.Serializer):
        invested = serializers.DecimalField(**MONEY)
        received = serializers.DecimalField(**MONEY, help_text="Gross: principal and interest, before TDS.")
        tds = serializers.DecimalField(**MONEY)
        net_received = serializers.DecimalField(**MONEY)
        outstanding_principal = serializers.DecimalField(**MONEY)
        xirr = serializers.SerializerMethodField()
        holdings_count = serializers.IntegerField()

        def get_xirr(self, portfolio) -> str | None:
            return _rate(portfolio.xirr)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(selectors.portfolio_for_user(user=request.user)).data)


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
            offering = serializers.IntegerField(source="offering_id")
            offering_title = serializers.CharField()
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
    rows = [[statement.financial_year, row.offering_id, row.offering_title, to_money(row.interest),
             to_money(row.tds), to_money(row.net), to_money(row.principal)] for row in statement.rows]
    rows.append([statement.financial_year, "", "Total", to_money(statement.interest), to_money(statement.tds),
                 to_money(statement.net), ""])
    return csv_bytes(["financial_year", "offering", "offering_title", "interest", "tds", "net", "principal"], rows)


def _statement_pdf(statement) -> bytes:
    """A one-table A4 statement, through core.documents (the name and titles are user text)."""
    rows = [[row.offering_title, f"{row.interest:.2f}", f"{row.tds:.2f}", f"{row.net:.2f}"] for row in statement.rows]
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
