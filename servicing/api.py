from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tenancy import IsOrganizationAdmin, TenantAutoSchema
from core.idempotency import idempotent
from core.pagination import PagePagination
from servicing import selectors, services
from tax.selectors import tds_sections
from trading.selectors import holding_list_for_user, holding_views

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


# --- Investor: holdings, cash flows, portfolio ----------------------------------------------

class HoldingListApi(APIView):
    """The caller's holdings (trading's) with what each has received (servicing's) and its XIRR."""

    pagination_class = PagePagination  # the GET answers a page; documents it in the schema

    class OutputSerializer(serializers.Serializer):
        offering = serializers.IntegerField(source="holding.offering_id")
        offering_title = serializers.CharField(source="holding.offering.title")
        units = serializers.IntegerField(source="holding.units")
        units_listed = serializers.IntegerField(source="holding.units_listed")
        average_price = serializers.DecimalField(**MONEY)
        invested = serializers.DecimalField(**MONEY)
        received = serializers.DecimalField(**MONEY)
        xirr = serializers.SerializerMethodField()
        next_cash_flow = serializers.SerializerMethodField()
        maturity_date = serializers.DateField(source="holding.offering.maturity_date")

        def get_xirr(self, view) -> str | None:
            return _rate(view.xirr)

        def get_next_cash_flow(self, view) -> dict | None:
            flow = view.next_cash_flow
            return None if flow is None else {"date": flow["date"].isoformat(), "amount": str(flow["amount"])}

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        paginator = PagePagination()
        page = paginator.paginate_queryset(holding_list_for_user(user=request.user), request, view=self)
        received = selectors.received_by_offering(user=request.user, offering_ids=[h.offering_id for h in page])
        views = holding_views(user=request.user, holdings=page, received_by_offering=received)
        return paginator.get_paginated_response(self.OutputSerializer(views, many=True).data)


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
    def _received(line, sections: dict[int, str]) -> dict:
        return {"status": "received", "date": line.paid_on, "offering": line.offering_id,
                "offering_title": line.offering.title, "units": line.units, "principal": line.principal,
                "interest": line.interest, "gross": line.gross, "tds": line.tds, "net": line.net,
                "tds_section": sections.get(line.pk) if line.tds else None,
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
            sections = tds_sections(source_type=services.DEDUCTION_SOURCE, source_ids=[line.pk for line in page])
            rows = [self._received(line, sections) for line in page]
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
