"""Reads for trading, each scoped to the caller and costing a fixed number of queries."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

import irr
from core.errors import NotFound
from core.money import ZERO
from trading.enums import ListingStatus
from trading.models import Holding, Listing, Offering, OfferingCashFlow, Trade

ORDERINGS = {
    "xirr": ("xirr", "id"), "-xirr": ("-xirr", "-id"),
    "price": ("price_per_unit", "id"), "-price": ("-price_per_unit", "-id"),
    "maturity": ("offering__maturity_date", "id"), "-maturity": ("-offering__maturity_date", "-id"),
    "closes_at": ("closes_at", "id"), "newest": ("-id",),
}


def offering_remaining_flows(*, offering: Offering, after: dt.date,
                             cash_flows=None) -> list[tuple[dt.date, Decimal]]:
    """The per-unit flows still to come strictly after `after` (unpaid parts only)."""
    rows = cash_flows if cash_flows is not None else offering.cash_flows.all()
    flows = []
    for row in rows:
        remaining = row.principal + row.interest - row.paid_principal - row.paid_interest
        if row.due_date > after and remaining > 0:
            flows.append((row.due_date, remaining))
    return flows


def marketplace_list(*, min_xirr: Decimal | None = None, max_xirr: Decimal | None = None,
                     min_tenor_days: int | None = None, max_tenor_days: int | None = None,
                     schedule_kind: str | None = None, offering_id: int | None = None,
                     ordering: str = "newest", now=None) -> QuerySet[Listing]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    listings = (
        Listing.objects.filter(status=ListingStatus.OPEN, opens_at__lte=now)
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
        .select_related("offering")
    )
    if min_xirr is not None:
        listings = listings.filter(xirr__gte=min_xirr)
    if max_xirr is not None:
        listings = listings.filter(xirr__lte=max_xirr)
    if min_tenor_days is not None:
        listings = listings.filter(offering__maturity_date__gte=today + dt.timedelta(days=min_tenor_days))
    if max_tenor_days is not None:
        listings = listings.filter(offering__maturity_date__lte=today + dt.timedelta(days=max_tenor_days))
    if schedule_kind:
        listings = listings.filter(offering__schedule_kind=schedule_kind)
    if offering_id:
        listings = listings.filter(offering_id=offering_id)
    return listings.order_by(*ORDERINGS.get(ordering, ORDERINGS["newest"]))


def listing_get(*, listing_id: int) -> Listing:
    listing = Listing.objects.select_related("offering").filter(pk=listing_id).first()
    if listing is None:
        raise NotFound("No such listing.")
    return listing


def listing_list_for_seller(*, seller, status: str | None = None) -> QuerySet[Listing]:
    listings = Listing.objects.filter(seller=seller).select_related("offering")
    return listings.filter(status=status) if status else listings


def trade_list_for_user(*, user) -> QuerySet[Trade]:
    return Trade.objects.filter(Q(buyer=user) | Q(seller=user)).select_related("offering").order_by("-id")


def offering_get(*, offering_id: int) -> Offering:
    offering = Offering.objects.prefetch_related("cash_flows").filter(pk=offering_id).first()
    if offering is None:
        raise NotFound("No such offering.")
    return offering


@dataclass(frozen=True)
class Quote:
    price_per_unit: Decimal
    xirr: float
    as_of: dt.date


def offering_quote(*, offering_id: int, price: Decimal | None = None, target_xirr: Decimal | None = None,
                   as_of: dt.date | None = None) -> Quote:
    """Price ↔ XIRR on one unit's remaining flows, as of today."""
    offering = offering_get(offering_id=offering_id)
    as_of = as_of or timezone.localdate()
    flows = offering_remaining_flows(offering=offering, after=as_of)
    if not flows:
        raise irr.TooFewFlows("No cash flow of this offering remains.")
    if target_xirr is not None:
        price = irr.price_for_xirr(flows, as_of, target_xirr)
    rate = irr.xirr_at_price(flows, as_of, price)
    return Quote(price_per_unit=price, xirr=rate, as_of=as_of)


@dataclass
class HoldingView:
    holding: Holding
    average_price: Decimal
    invested: Decimal
    received: Decimal
    xirr: float | None
    next_cash_flow: dict | None


def holding_list_for_user(*, user) -> QuerySet[Holding]:
    return (
        Holding.objects.filter(owner=user)
        .filter(Q(units__gt=0) | Q(units_listed__gt=0))
        .select_related("offering")
        .prefetch_related(Prefetch("offering__cash_flows", queryset=OfferingCashFlow.objects.order_by("sequence")))
        .order_by("offering__maturity_date", "id")
    )


def holding_views(*, user, holdings: list[Holding], today: dt.date | None = None,
                  received_by_offering: dict[int, Decimal] | None = None) -> list[HoldingView]:
    """Figures for a page of holdings: average price, money put in, money received, and the
    XIRR of the holding's own flows (buys, sales, receipts, then the remaining schedule for
    the units still held). Two queries for the whole page, whatever its size."""
    today = today or timezone.localdate()
    offering_ids = [h.offering_id for h in holdings]
    flows: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    invested: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for trade in Trade.objects.filter(offering_id__in=offering_ids).filter(Q(buyer=user) | Q(seller=user)).only(
        "offering_id", "buyer_id", "amount", "buyer_fee", "seller_fee", "created_at"
    ):
        day = timezone.localdate(trade.created_at)
        if trade.buyer_id == user.pk:
            paid = trade.amount + trade.buyer_fee
            flows[trade.offering_id].append((day, -paid))
            invested[trade.offering_id] += paid
        else:
            flows[trade.offering_id].append((day, trade.amount - trade.seller_fee))
    received_by_offering = received_by_offering or {}
    views, series, positions = [], [], []
    for holding in holdings:
        remaining = offering_remaining_flows(offering=holding.offering, after=today,
                                             cash_flows=holding.offering.cash_flows.all())
        own = list(flows[holding.offering_id])
        own += [(date, amount * holding.units) for date, amount in remaining]
        upcoming = next(iter(remaining), None)
        average = (holding.cost_basis / holding.units).quantize(Decimal("0.01")) if holding.units else ZERO
        views.append(HoldingView(
            holding=holding, average_price=average, invested=invested[holding.offering_id],
            received=received_by_offering.get(holding.offering_id, ZERO), xirr=None,
            next_cash_flow=({"date": upcoming[0], "amount": (upcoming[1] * holding.units)} if upcoming else None),
        ))
        series.append(own)
        positions.append(len(views) - 1)
    if series:
        batch = irr.xirr_many(series)
        for position, rate in zip(positions, batch.rates.tolist(), strict=True):
            views[position].xirr = None if rate != rate else rate  # NaN → None
    return views


INVOICE_CATEGORIES = ("unfractionalized", "configured", "posted")


def admin_invoice_list(*, organization, category: str) -> QuerySet:
    """The admin's invoice management: disbursed invoices of the caller's organization not
    yet cut into units, those with a configured offering, and those posted for sale — each
    with its offering and how many units the platform has sold (one query)."""
    from django.db.models import IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from invoices.enums import FinanceRequestStatus
    from invoices.models import FinanceRequest
    from trading.enums import OfferingStatus

    requests = (
        FinanceRequest.objects.filter(organization=organization, status__in=(
            FinanceRequestStatus.DISBURSED, FinanceRequestStatus.OVERDUE, FinanceRequestStatus.REPAID))
        .select_related("invoice", "invoice__seller", "invoice__buyer")
    )
    offerings = Offering.objects.filter(finance_request=OuterRef("pk"))
    inventory = Holding.objects.filter(offering__finance_request=OuterRef("pk"), owner__isnull=True)
    requests = requests.annotate(
        offering_id=Subquery(offerings.values("id")[:1]),
        offering_status=Subquery(offerings.values("status")[:1]),
        offering_units=Subquery(offerings.values("total_units")[:1]),
        offering_price=Subquery(offerings.values("issue_price")[:1]),
        inventory_units=Coalesce(Subquery(inventory.values("units")[:1]), Value(0), output_field=IntegerField()),
    )
    if category == "unfractionalized":
        requests = requests.filter(offering_id__isnull=True, status=FinanceRequestStatus.DISBURSED)
    elif category == "configured":
        requests = requests.filter(offering_status=OfferingStatus.CONFIGURED)
    else:
        requests = requests.filter(offering_status__in=(OfferingStatus.POSTED, OfferingStatus.SOLD_OUT,
                                                        OfferingStatus.MATURED, OfferingStatus.DEFAULTED))
    return requests.order_by("invoice__due_date", "id")
