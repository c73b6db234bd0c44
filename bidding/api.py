"""Bids over HTTP (API.md, Secondary platform). Thin views: validate, call one service or
selector, serialize.

Who may do what: a bid is visible to its bidder and to the listing's seller. Anyone else
gets a 404 for it (API.md: another user's object is a 404). The other party of a bid gets a
403 `permission_denied` for an action that is not theirs (a bidder accepting or rejecting
their own bid, a seller modifying or withdrawing a bid they received)."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from bidding import selectors, services
from bidding.enums import BidSide, BidStatus
from core.idempotency import idempotent
from core.openapi import DomainErrorResponseSerializer
from core.pagination import PagePagination
from kyc.permissions import CanTrade
from trading.api import TradeOutputSerializer

MONEY = {"max_digits": 18, "decimal_places": 2}
ERRORS = OpenApiResponse(DomainErrorResponseSerializer, description="A business rule refused the request.")
MAX_UNITS = 10_000_000


class BidOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    listing = serializers.IntegerField(source="listing_id")
    offering = serializers.IntegerField(source="listing.offering_id")
    side = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=BidStatus.choices)
    units = serializers.IntegerField(help_text="Units the bid still wants.")
    units_filled = serializers.IntegerField(help_text="Units bought through accepted parts.")
    price_per_unit = serializers.DecimalField(**MONEY)
    ask_price_per_unit = serializers.DecimalField(source="listing.price_per_unit", **MONEY)
    held_amount = serializers.SerializerMethodField(help_text="What the wallet holds for the bid (bidder only).")
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    def _is_bidder(self, bid) -> bool:
        viewer = self.context.get("viewer")
        return viewer is None or bid.bidder_id == viewer.pk

    def get_side(self, bid) -> str:
        return BidSide.PLACED if self._is_bidder(bid) else BidSide.RECEIVED

    def get_held_amount(self, bid) -> str | None:
        return f"{bid.held_amount:.2f}" if self._is_bidder(bid) else None


class BidEventOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    status = serializers.CharField()
    units = serializers.IntegerField()
    units_filled = serializers.IntegerField()
    price_per_unit = serializers.DecimalField(**MONEY)
    trade = serializers.IntegerField(source="trade_id", allow_null=True)
    at = serializers.DateTimeField(source="created_at")


class BidDetailOutputSerializer(BidOutputSerializer):
    history = serializers.SerializerMethodField()

    def get_history(self, bid) -> list[dict]:
        return BidEventOutputSerializer(selectors.bid_history(bid=bid), many=True).data


class BidPlacedOutputSerializer(BidOutputSerializer):
    trade = serializers.SerializerMethodField(help_text="The trade, when the bid met the ask and bought at it.")

    def get_trade(self, bid) -> dict | None:
        trade = getattr(bid, "trade", None)
        return None if trade is None else TradeOutputSerializer(trade, context=self.context).data


class BidCheckBalanceApi(APIView):
    class InputSerializer(serializers.Serializer):
        listing = serializers.IntegerField()
        units = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
        price_per_unit = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))

    class OutputSerializer(serializers.Serializer):
        listing = serializers.IntegerField(source="listing_id")
        units = serializers.IntegerField()
        price_per_unit = serializers.DecimalField(**MONEY, help_text="The bid price, or the ask if it is lower.")
        required = serializers.DecimalField(**MONEY, help_text="units × price + buyer fee")
        available = serializers.DecimalField(**MONEY)
        sufficient = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, 404: ERRORS})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        check = services.bid_check_balance(user=request.user, listing_id=values["listing"], units=values["units"],
                                           price_per_unit=values["price_per_unit"])
        return Response(self.OutputSerializer(check).data)


class BidListCreateApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    class FilterSerializer(serializers.Serializer):
        side = serializers.ChoiceField(choices=BidSide.choices, default=BidSide.PLACED)
        status = serializers.ChoiceField(choices=BidStatus.choices, required=False)
        listing = serializers.IntegerField(required=False)

    class InputSerializer(serializers.Serializer):
        listing = serializers.IntegerField()
        units = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
        price_per_unit = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), CanTrade()]
        return [IsAuthenticated()]

    @extend_schema(parameters=[FilterSerializer], responses={200: BidOutputSerializer(many=True)})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        bids = selectors.bid_list_for_user(user=request.user, side=values["side"], status=values.get("status"),
                                           listing_id=values.get("listing"))
        paginator = PagePagination()
        page = paginator.paginate_queryset(bids, request, view=self)
        return paginator.get_paginated_response(
            BidOutputSerializer(page, many=True, context={"viewer": request.user}).data)

    @extend_schema(request=InputSerializer,
                   responses={201: BidPlacedOutputSerializer, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        bid = services.bid_place(bidder=request.user, listing_id=values["listing"], units=values["units"],
                                 price_per_unit=values["price_per_unit"], expires_at=values.get("expires_at"))
        body = BidPlacedOutputSerializer(bid, context={"viewer": request.user}).data
        return Response(body, status=status.HTTP_201_CREATED)


class BidDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        units = serializers.IntegerField(min_value=1, max_value=MAX_UNITS, required=False)
        price_per_unit = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"), required=False)

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError("Give units, price_per_unit or both.")
            return attrs

    def get_permissions(self):
        if self.request.method == "PATCH":
            return [IsAuthenticated(), CanTrade()]
        return [IsAuthenticated()]

    @extend_schema(responses={200: BidDetailOutputSerializer, 404: ERRORS})
    def get(self, request, bid_id: int):
        bid = selectors.bid_get_for_user(user=request.user, bid_id=bid_id)
        return Response(BidDetailOutputSerializer(bid, context={"viewer": request.user}).data)

    @extend_schema(request=InputSerializer,
                   responses={200: BidPlacedOutputSerializer, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS})
    @idempotent  # a modification can cross the ask and trade, and moves the held money
    def patch(self, request, bid_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        bid = services.bid_modify(bidder=request.user, bid_id=bid_id, units=values.get("units"),
                                  price_per_unit=values.get("price_per_unit"))
        return Response(BidPlacedOutputSerializer(bid, context={"viewer": request.user}).data)


class BidWithdrawApi(APIView):
    @extend_schema(request=None, responses={200: BidOutputSerializer, 403: ERRORS, 404: ERRORS, 409: ERRORS})
    @idempotent
    def post(self, request, bid_id: int):
        bid = services.bid_withdraw(bidder=request.user, bid_id=bid_id)
        return Response(BidOutputSerializer(bid, context={"viewer": request.user}).data)


class BidRejectApi(APIView):
    @extend_schema(request=None, responses={200: BidOutputSerializer, 403: ERRORS, 404: ERRORS, 409: ERRORS})
    @idempotent
    def post(self, request, bid_id: int):
        bid = services.bid_reject(seller=request.user, bid_id=bid_id)
        return Response(BidOutputSerializer(bid, context={"viewer": request.user}).data)


class BidAcceptApi(APIView):
    class InputSerializer(serializers.Serializer):
        units = serializers.IntegerField(min_value=1, max_value=MAX_UNITS, required=False)

    @extend_schema(request=InputSerializer,
                   responses={201: TradeOutputSerializer, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS})
    @idempotent
    def post(self, request, bid_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fill = services.bid_accept(seller=request.user, bid_id=bid_id, units=data.validated_data.get("units"))
        body = TradeOutputSerializer(fill.trade, context={"viewer": request.user}).data
        return Response(body, status=status.HTTP_201_CREATED)
