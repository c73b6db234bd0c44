"""Servicing reads, each scoped to the caller and costing a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone

import irr
from core.errors import NotFound
from core.money import ZERO, to_money
from servicing.models import Distribution, DistributionCashFlow, DistributionLine
from tax.selectors import TaxIncome
from trading.models import Holding, OfferingCashFlow, Trade


def received_by_offering(*, user, offering_ids) -> dict[int, Decimal]:
    """Gross received (principal + interest, before TDS) per offering. One query."""
    return dict(DistributionLine.objects.filter(user=user, offering_id__in=list(offering_ids))
                .values_list("offering_id").annotate(total=Sum("gross")))


def cash_flows_received_for_user(*, user) -> QuerySet[DistributionLine]:
    return (DistributionLine.objects.filter(user=user).select_related("offering")
            .order_by("-paid_on", "-id"))


@dataclass(frozen=True)
class UpcomingFlow:
    date: dt.date
    offering_id: int
    offering_title: str
    sequence: int
    units: int
    principal: Decimal
    interest: Decimal
    is_overdue: bool

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


def _holdings_with_flows(user) -> list[Holding]:
    return list(Holding.objects.filter(owner=user, units__gt=0).select_related("offering")
                .prefetch_related(Prefetch("offering__cash_flows",
                                           queryset=OfferingCashFlow.objects.order_by("sequence")))
                .order_by("offering_id"))


def _paid_totals(offering_ids) -> dict[int, tuple[Decimal, Decimal]]:
    """What each cash flow of these offerings has paid over all units (exact). One query."""
    rows = (DistributionCashFlow.objects.filter(cash_flow__offering_id__in=list(offering_ids))
            .values("cash_flow_id").annotate(principal=Sum("principal"), interest=Sum("interest")))
    return {row["cash_flow_id"]: (row["principal"], row["interest"]) for row in rows}


def _still_owed(flow, holding: Holding, paid: dict) -> tuple[Decimal, Decimal]:
    """The holding's pro-rata share of what the flow still owes all units (exact totals,
    rounded half up once, so a short payment's paise are not lost to per-unit rounding)."""
    units_total = holding.offering.total_units
    paid_principal, paid_interest = paid.get(flow.pk, (ZERO, ZERO))
    principal = to_money((flow.principal * units_total - paid_principal) * holding.units / units_total)
    interest = to_money((flow.interest * units_total - paid_interest) * holding.units / units_total)
    return principal, interest


def cash_flows_upcoming_for_user(*, user, today: dt.date | None = None) -> list[UpcomingFlow]:
    """What the schedule still owes on the units the caller holds (arrears included,
    marked overdue), soonest first, before TDS. Three queries."""
    today = today or timezone.localdate()
    rows = []
    holdings = _holdings_with_flows(user)
    paid = _paid_totals({h.offering_id for h in holdings})
    for holding in holdings:
        for flow in holding.offering.cash_flows.all():
            principal, interest = _still_owed(flow, holding, paid)
            if principal + interest > 0:
                rows.append(UpcomingFlow(date=flow.due_date, offering_id=holding.offering_id,
                                         offering_title=holding.offering.title, sequence=flow.sequence,
                                         units=holding.units, principal=principal, interest=interest,
                                         is_overdue=flow.due_date < today))
    return sorted(rows, key=lambda row: (row.date, row.offering_id, row.sequence))


@dataclass
class Portfolio:
    invested: Decimal = ZERO
    received: Decimal = ZERO
    tds: Decimal = ZERO
    net_received: Decimal = ZERO
    outstanding_principal: Decimal = ZERO
    holdings_count: int = 0
    xirr: float | None = None
    flows: list = field(default_factory=list, repr=False)


def portfolio_for_user(*, user, today: dt.date | None = None) -> Portfolio:
    """Totals over everything the caller did: money put in (buys with fees), received
    (gross, with TDS and net), principal still outstanding on the units held, and the XIRR
    of all those flows with the outstanding principal as today's value. Five queries."""
    today = today or timezone.localdate()
    result = Portfolio()
    flows: list[tuple[dt.date, Decimal]] = []
    for trade in Trade.objects.filter(Q(buyer=user) | Q(seller=user)).only(
            "buyer_id", "amount", "buyer_fee", "seller_fee", "created_at"):
        day = timezone.localdate(trade.created_at)
        if trade.buyer_id == user.pk:
            paid = trade.amount + trade.buyer_fee
            result.invested += paid
            flows.append((day, -paid))
        else:
            flows.append((day, trade.amount - trade.seller_fee))
    for paid_on, gross, tds in (DistributionLine.objects.filter(user=user).values_list("paid_on")
                                .annotate(gross=Sum("gross"), tds=Sum("tds")).order_by("paid_on")):
        result.received += gross
        result.tds += tds
        flows.append((paid_on, gross))
    result.net_received = result.received - result.tds
    holdings = _holdings_with_flows(user)
    result.holdings_count = len(holdings)
    paid = _paid_totals({h.offering_id for h in holdings})
    for holding in holdings:
        for flow in holding.offering.cash_flows.all():
            result.outstanding_principal += _still_owed(flow, holding, paid)[0]
    if result.outstanding_principal:
        flows.append((today, result.outstanding_principal))
    result.flows = flows
    try:
        result.xirr = irr.xirr(flows) if flows else None
    except irr.IrrError:
        result.xirr = None
    return result


def tax_income_for_user(*, user, start: dt.date, end: dt.date) -> list[TaxIncome]:
    """Servicing's part of a tax statement (settings.TAX_INCOME_SOURCES): the interest and
    principal credited by offering between two days (by the day credited), with its TDS.
    One query."""
    totals = (DistributionLine.objects.filter(user=user, paid_on__range=(start, end))
              .values("offering_id", "offering__title")
              .annotate(principal=Sum("principal"), interest=Sum("interest"), tds=Sum("tds"))
              .order_by("offering_id"))
    return [TaxIncome(kind="offering", reference_id=row["offering_id"], title=row["offering__title"],
                      principal=to_money(row["principal"]), interest=to_money(row["interest"]),
                      tds=to_money(row["tds"]))
            for row in totals]


def distribution_get_for_organization(*, organization, distribution_id: int) -> Distribution:
    distribution = (Distribution.objects.filter(pk=distribution_id, offering__organization=organization)
                    .select_related("offering").first())
    if distribution is None:
        raise NotFound("No such distribution.")
    return distribution


def distribution_list_for_offering(*, organization, offering_id: int) -> QuerySet[Distribution]:
    """Another organization's offering (or none) is a 404, never an empty list."""
    from trading.models import Offering

    if not Offering.objects.filter(pk=offering_id, organization=organization).exists():
        raise NotFound("No such offering.")
    return Distribution.objects.filter(offering_id=offering_id, offering__organization=organization).order_by("-id")
