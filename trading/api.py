from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

import irr
from accounts.tenancy import IsOrganizationAdmin
from core.errors import DomainError
from core.filters import query_filters
from core.idempotency import idempotent
from core.pagination import PagePagination
from kyc.permissions import CanTrade
from trading import selectors, services
from trading.enums import ListingStatus, ScheduleKind, SellerKind

MONEY = {"max_digits": 18, "decimal_places": 2}
RATE = {"max_digits": 12, "decimal_places": 8}


class IrrRefused(DomainError):
    code = "xirr_unavailable"


def _rate(value: float | None) -> str | None:
    return None if value is None else f"{value:.6f}"


class TradeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    listing = serializers.IntegerField(source="listing_id")
    offering = serializers.IntegerField(source="offering_id")
    side = serializers.SerializerMethodField()
    units = serializers.IntegerField()
    price_per_unit = serializers.DecimalField(**MONEY)
    amount = serializers.DecimalField(**MONEY)
    fee = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def _is_buyer(self, trade) -> bool:
        viewer = self.context.get("viewer")
        return viewer is None or trade.buyer_id == viewer.pk

    def get_side(self, trade) -> str:
        return "buy" if self._is_buyer(trade) else "sell"

    def get_fee(self, trade) -> str:
        return str(trade.buyer_fee if self._is_buyer(trade) else trade.seller_fee)

    def get_total(self, trade) -> str:
        """What the caller paid (buyer) or received (seller)."""
        if self._is_buyer(trade):
            return str(trade.amount + trade.buyer_fee)
        return str(trade.amount - trade.seller_fee)


class ListingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    offering = serializers.IntegerField(source="offering_id")
    offering_title = serializers.CharField(source="offering.title")
    seller_kind = serializers.SerializerMethodField()
    status = serializers.CharField()
    units_offered = serializers.IntegerField()
    units_remaining = serializers.IntegerField()
    price_per_unit = serializers.DecimalField(**MONEY)
    min_units = serializers.IntegerField()
    xirr = serializers.DecimalField(**RATE, allow_null=True)
    schedule_kind = serializers.CharField(source="offering.schedule_kind")
    maturity_date = serializers.DateField(source="offering.maturity_date")
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField(allow_null=True)

    def get_seller_kind(self, listing) -> str:
        return SellerKind.PLATFORM if listing.seller_id is None else SellerKind.INVESTOR


class MarketplaceApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    class FilterSerializer(serializers.Serializer):
        min_xirr = serializers.DecimalField(**RATE, required=False)
        max_xirr = serializers.DecimalField(**RATE, required=False)
        # Bounded: a date more than a century away overflows (was a 500).
        min_tenor_days = serializers.IntegerField(min_value=0, max_value=36500, required=False)
        max_tenor_days = serializers.IntegerField(min_value=0, max_value=36500, required=False)
        schedule_kind = serializers.ChoiceField(choices=ScheduleKind.choices, required=False)
        offering = serializers.IntegerField(required=False)
        ordering = serializers.ChoiceField(choices=sorted(selectors.ORDERINGS), required=False, default="newest")

    @extend_schema(parameters=[FilterSerializer], responses={200: ListingOutputSerializer(many=True)})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        if "offering" in data:
            data["offering_id"] = data.pop("offering")
        listings = selectors.marketplace_list(**data)
        paginator = PagePagination()
        page = paginator.paginate_queryset(listings, request, view=self)
        return paginator.get_paginated_response(ListingOutputSerializer(page, many=True).data)


class ListingBuyApi(APIView):
    # The onboarding gate (kyc_required / bank_account_required) is enforced by the service,
    # so the hot path reads it once.

    class InputSerializer(serializers.Serializer):
        units = serializers.IntegerField(min_value=1, max_value=10_000_000)

    @extend_schema(request=InputSerializer, responses={201: TradeOutputSerializer})
    @idempotent
    def post(self, request, listing_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trade = services.listing_buy(buyer=request.user, listing_id=listing_id, units=data.validated_data["units"])
        body = TradeOutputSerializer(trade, context={"viewer": request.user}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ListingListCreateApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    class InputSerializer(serializers.Serializer):
        offering = serializers.IntegerField()
        units = serializers.IntegerField(min_value=1)
        price_per_unit = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
        min_units = serializers.IntegerField(min_value=1, required=False, default=1)
        closes_at = serializers.DateTimeField(required=False, allow_null=True)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), CanTrade()]
        return [IsAuthenticated()]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ListingStatus.choices, required=False, allow_blank=True)

    @extend_schema(responses={200: ListingOutputSerializer(many=True)}, parameters=[FilterSerializer])
    def get(self, request):
        filters = query_filters(self.FilterSerializer, request)
        listings = selectors.listing_list_for_seller(seller=request.user, status=filters.get("status"))
        paginator = PagePagination()
        page = paginator.paginate_queryset(listings.order_by("-id"), request, view=self)
        return paginator.get_paginated_response(ListingOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ListingOutputSerializer})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        listing = services.listing_post_secondary(
            seller=request.user, offering_id=values["offering"], units=values["units"],
            price_per_unit=values["price_per_unit"], min_units=values["min_units"],
            closes_at=values.get("closes_at"),
        )
        return Response(ListingOutputSerializer(listing).data, status=status.HTTP_201_CREATED)


class ListingCancelApi(APIView):
    @extend_schema(request=None, responses={200: ListingOutputSerializer})
    @idempotent
    def post(self, request, listing_id: int):
        listing = services.listing_cancel(user=request.user, listing_id=listing_id)
        return Response(ListingOutputSerializer(listing).data)


class TradeListApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    @extend_schema(responses={200: TradeOutputSerializer(many=True)})
    def get(self, request):
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.trade_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(
            TradeOutputSerializer(page, many=True, context={"viewer": request.user}).data)


class OfferingQuoteApi(APIView):
    class InputSerializer(serializers.Serializer):
        price = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"), required=False)
        target_xirr = serializers.DecimalField(**RATE, min_value=Decimal("-0.99"), max_value=Decimal("100"),
                                               required=False)

        def validate(self, attrs):
            if ("price" in attrs) == ("target_xirr" in attrs):
                raise serializers.ValidationError("Give either price or target_xirr.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        price_per_unit = serializers.DecimalField(**MONEY)
        xirr = serializers.SerializerMethodField()
        as_of = serializers.DateField()

        def get_xirr(self, quote) -> str:
            return _rate(quote.xirr)

    @extend_schema(parameters=[InputSerializer], responses={200: OutputSerializer})
    def get(self, request, offering_id: int):
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        try:
            quote = selectors.offering_quote(offering_id=offering_id, price=data.validated_data.get("price"),
                                             target_xirr=data.validated_data.get("target_xirr"))
        except irr.IrrError as exc:
            raise IrrRefused(str(exc), code=exc.code) from exc
        return Response(self.OutputSerializer(quote).data)


# --- Staff -----------------------------------------------------------------------------------

class OfferingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    invoice = serializers.IntegerField(source="invoice_id")
    title = serializers.CharField()
    status = serializers.CharField()
    total_units = serializers.IntegerField()
    unit_face_value = serializers.DecimalField(**MONEY)
    issue_price = serializers.DecimalField(**MONEY)
    schedule_kind = serializers.CharField()
    frequency = serializers.CharField()
    annual_rate = serializers.DecimalField(max_digits=9, decimal_places=6)
    implied_xirr = serializers.DecimalField(**RATE)
    start_date = serializers.DateField()
    maturity_date = serializers.DateField()
    schedule = serializers.SerializerMethodField()

    def get_schedule(self, offering) -> list[dict]:
        return [
            {"sequence": row.sequence, "date": row.due_date.isoformat(), "principal": str(row.principal),
             "interest": str(row.interest), "amount": str(row.amount)}
            for row in offering.cash_flows.all()
        ]


class OfferingCreateApi(APIView):
    permission_classes = (IsAuthenticated, IsOrganizationAdmin)

    class InputSerializer(serializers.Serializer):
        invoice = serializers.IntegerField()
        total_units = serializers.IntegerField(min_value=1, max_value=10_000_000)
        schedule_kind = serializers.ChoiceField(choices=ScheduleKind.choices, default="bullet")
        frequency = serializers.ChoiceField(choices=["", "monthly", "quarterly", "half_yearly", "annual"],
                                            default="", allow_blank=True)
        annual_rate = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=Decimal("0"),
                                               max_value=Decimal("5"), required=False)
        balloon_share = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=Decimal("0.01"),
                                                 max_value=Decimal("0.99"), required=False)
        price_per_unit = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"), required=False)
        target_xirr = serializers.DecimalField(**RATE, min_value=Decimal("-0.99"), max_value=Decimal("100"),
                                               required=False)

        def validate(self, attrs):
            if attrs["schedule_kind"] == "balloon" and "balloon_share" not in attrs:
                raise serializers.ValidationError({"balloon_share": "A balloon schedule needs balloon_share."})
            if attrs["schedule_kind"] != "bullet" and not attrs["frequency"]:
                raise serializers.ValidationError({"frequency": "This schedule needs a payment frequency."})
            if ("price_per_unit" in attrs) == ("target_xirr" in attrs):
                raise serializers.ValidationError({"price_per_unit": "Give either price_per_unit or target_xirr."})
            return attrs

    @extend_schema(request=InputSerializer, responses={201: OfferingOutputSerializer})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        offering = services.offering_fractionalize(
            organization=request.tenant.organization, invoice_id=values["invoice"], total_units=values["total_units"],
            schedule_kind=values["schedule_kind"], frequency=values["frequency"],
            annual_rate=values.get("annual_rate"), balloon_share=values.get("balloon_share"),
            price_per_unit=values.get("price_per_unit"), target_xirr=values.get("target_xirr"),
            created_by=request.user,
        )
        return Response(OfferingOutputSerializer(offering).data, status=status.HTTP_201_CREATED)


class OfferingPostApi(APIView):
    permission_classes = (IsAuthenticated, IsOrganizationAdmin)

    class InputSerializer(serializers.Serializer):
        units = serializers.IntegerField(min_value=1)
        price_per_unit = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
        min_units = serializers.IntegerField(min_value=1, default=1)
        opens_at = serializers.DateTimeField(required=False)
        closes_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: ListingOutputSerializer})
    @idempotent
    def post(self, request, offering_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        listing = services.listing_post_primary(
            organization=request.tenant.organization, offering_id=offering_id, units=values["units"],
            price_per_unit=values["price_per_unit"],
            min_units=values["min_units"], opens_at=values.get("opens_at"), closes_at=values.get("closes_at"),
            created_by=request.user,
        )
        return Response(ListingOutputSerializer(listing).data, status=status.HTTP_201_CREATED)


class AdminInvoiceListApi(APIView):
    """Invoices by fractionalization stage, for the caller's organization."""
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema

    permission_classes = (IsAuthenticated, IsOrganizationAdmin)

    class FilterSerializer(serializers.Serializer):
        category = serializers.ChoiceField(choices=selectors.INVOICE_CATEGORIES)

    class OutputSerializer(serializers.Serializer):
        invoice = serializers.IntegerField(source="invoice_id")
        number = serializers.CharField(source="invoice.number")
        seller = serializers.CharField(source="invoice.seller.legal_name")
        buyer = serializers.CharField(source="invoice.buyer.legal_name")
        invoice_amount = serializers.DecimalField(source="invoice.amount", **MONEY)
        finance_amount = serializers.DecimalField(**MONEY)
        due_date = serializers.DateField()
        finance_status = serializers.CharField(source="status")
        offering = serializers.IntegerField(source="offering_id", allow_null=True)
        offering_status = serializers.CharField(allow_null=True)
        total_units = serializers.IntegerField(source="offering_units", allow_null=True)
        issue_price = serializers.DecimalField(source="offering_price", allow_null=True, **MONEY)
        units_sold = serializers.SerializerMethodField()

        def get_units_sold(self, row) -> int | None:
            return None if row.offering_id is None else row.offering_units - row.inventory_units

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True)})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.admin_invoice_list(organization=request.tenant.organization,
                                            category=filters.validated_data["category"])
        paginator = PagePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
