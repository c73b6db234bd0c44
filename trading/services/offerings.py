"""Offerings: a financed invoice cut into units, and every change of an offering's status.

Invoices hands over a disbursed invoice through `invoices.selectors.finance_request_lock_for_offering`
(the finance request, locked); trading writes the offering, its per-unit schedule and the
units issued to the platform's inventory. An offering's status changes here only, one
function per change (servicing calls the last two under its own locks):

    configured ──offering_mark_posted──► posted ──offering_mark_sold_out_if_done──► sold_out
        │                                  │                                        │
        └──────────── offering_mark_matured / offering_mark_defaulted ◄────────────┘

(On PostgreSQL the buy's database function marks `sold_out` in its own statement, by the same
rule: `trading/settlement/`.) Cash received against the schedule is recorded on its rows by
`offering_cash_flows_mark_paid`, and the days past due by `offering_days_past_due_set`.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

import irr
from core.audit import audit_record
from core.errors import DomainError, InvalidInput, InvalidState
from core.money import ZERO, fit_decimal, to_money
from core.retry import retry_on_deadlock
from invoices.selectors import finance_request_lock_for_offering
from trading.enums import ListingStatus, OfferingStatus, ScheduleKind, UnitTransferKind
from trading.models import Holding, Offering, OfferingCashFlow, UnitTransfer

RATE_PLACES = Decimal("0.000001")
TRADABLE = (OfferingStatus.POSTED, OfferingStatus.SOLD_OUT)


class UnitsDoNotDivide(DomainError):
    code = "units_do_not_divide"
    default_detail = "The financed principal does not divide into that many units of whole paise."


class ScheduleRefused(DomainError):
    code = "schedule_invalid"


def _irr_error(exc: irr.IrrError, attr: str | None = None) -> DomainError:
    return ScheduleRefused(str(exc), code=getattr(exc, "code", "schedule_invalid"), attr=attr)


def offering_configure(*, organization, invoice_id: int, total_units: int, schedule_kind: str,
                       annual_rate: Decimal | None = None, frequency: str = "", balloon_share: Decimal | None = None,
                       price_per_unit: Decimal | None = None, target_xirr: Decimal | None = None,
                       created_by=None, today: dt.date | None = None) -> Offering:
    """Create an offering from a disbursed finance request of the caller's organization.

    The unit face value is the financed principal / `total_units` and must be whole paise
    (else 422 `units_do_not_divide`, naming unit counts that work). The schedule is generated
    per unit by `irr.unit_schedule` from the finance request's start (disbursal) to the
    invoice's due date at `annual_rate` (default: the request's rate). The issue price is
    `price_per_unit`, or the price that yields `target_xirr` today.
    """
    today = today or timezone.localdate()
    if schedule_kind not in ScheduleKind.values:
        raise InvalidInput(f"Schedule kind must be one of {', '.join(ScheduleKind.values)}.", attr="schedule_kind")
    if (price_per_unit is None) == (target_xirr is None):
        raise InvalidInput("Give either price_per_unit or target_xirr.", attr="price_per_unit")
    if total_units < 1:
        raise InvalidInput("Create at least one unit.", attr="total_units")

    with transaction.atomic():
        request = finance_request_lock_for_offering(organization=organization, invoice_id=invoice_id)
        if Offering.objects.filter(organization=organization, invoice_id=invoice_id).exists():
            raise InvalidState("This invoice already has an offering.")
        principal = request.finance_amount
        paise = int(principal * 100)
        if paise % total_units:
            suggestions = irr.divisible_unit_counts(principal, near=total_units)
            raise UnitsDoNotDivide(
                f"{principal} does not divide into {total_units} units of whole paise; "
                f"unit counts that work: {', '.join(map(str, suggestions))}.",
                attr="total_units",
            )
        face = to_money(principal / total_units)
        rate = Decimal(annual_rate) if annual_rate is not None else (request.interest_rate / 100)
        rate = rate.quantize(RATE_PLACES)
        start = request.disbursed_on or today
        maturity = request.invoice.due_date
        if maturity <= start:
            raise InvalidState("The invoice is already due; it cannot be offered.")
        try:
            unit = irr.unit_schedule(schedule_kind, face, rate, start, maturity, frequency or None,
                                     balloon_share=balloon_share)
        except irr.IrrError as exc:
            raise _irr_error(exc, attr="schedule_kind") from exc

        settle = max(today, start)
        flows = [(row.date, row.amount) for row in unit.rows if row.date > settle]
        if not flows:
            raise InvalidState("No cash flow remains after today; nothing to offer.")
        try:
            if target_xirr is not None:
                price = irr.price_for_xirr(flows, settle, Decimal(target_xirr))
            else:
                price = to_money(price_per_unit)
            if price <= 0:
                raise InvalidInput("The price must be positive.", attr="price_per_unit")
            implied = irr.xirr_at_price(flows, settle, price)
        except irr.IrrError as exc:
            raise _irr_error(exc, attr="target_xirr" if target_xirr is not None else "price_per_unit") from exc
        implied_xirr = fit_decimal(Decimal(repr(round(implied, 8))), max_digits=12, decimal_places=8)
        if implied_xirr is None:  # bounded before it is stored: the column holds ±9,999.99999999
            raise InvalidInput("The price implies a yield beyond what an offering can carry.",
                               code="xirr_out_of_range", attr="price_per_unit")

        offering = Offering.objects.create(
            organization=organization, invoice=request.invoice, finance_request=request,
            title=f"{request.invoice.seller} · invoice {request.invoice.number}"[:200],
            total_units=total_units, unit_face_value=face, issue_price=price, schedule_kind=schedule_kind,
            frequency=frequency, annual_rate=rate, balloon_share=balloon_share, start_date=start,
            maturity_date=unit.maturity, implied_xirr=implied_xirr,
            status=OfferingStatus.CONFIGURED, created_by=created_by,
        )
        OfferingCashFlow.objects.bulk_create([
            OfferingCashFlow(offering=offering, sequence=number, due_date=row.date, principal=row.principal,
                             interest=row.interest)
            for number, row in enumerate(unit.rows, start=1)
        ])
    return offering


@retry_on_deadlock
def offering_fractionalize(*, organization, invoice_id: int, total_units: int, schedule_kind: str,
                           annual_rate: Decimal | None = None, frequency: str = "", balloon_share=None,
                           price_per_unit: Decimal | None = None, target_xirr: Decimal | None = None,
                           created_by) -> Offering:
    """Configure the offering and issue all its units to the platform's inventory, in one
    transaction."""
    with transaction.atomic():
        offering = offering_configure(
            organization=organization, invoice_id=invoice_id, total_units=total_units, schedule_kind=schedule_kind,
            annual_rate=annual_rate, frequency=frequency, balloon_share=balloon_share,
            price_per_unit=price_per_unit, target_xirr=target_xirr, created_by=created_by,
        )
        inventory = Holding.objects.create(owner=None, offering=offering, units=total_units)
        UnitTransfer.objects.create(offering=offering, to_holding=inventory, units=total_units,
                                    kind=UnitTransferKind.ISSUE, reference=f"offering:{offering.pk}")
        audit_record(action="offering.fractionalized", actor=created_by, target=offering,
                     data={"total_units": total_units, "unit_face_value": offering.unit_face_value,
                           "issue_price": offering.issue_price})
    return offering


# --- Status changes -------------------------------------------------------------------------

def offering_mark_posted(*, offering: Offering) -> None:
    """The first primary listing of a configured offering puts it on sale. Caller holds the
    offering's lock."""
    if offering.status == OfferingStatus.CONFIGURED:
        offering.status = OfferingStatus.POSTED
        offering.save(update_fields=["status"])


def offering_mark_sold_out_if_done(*, offering_id: int) -> None:
    """When the platform's inventory is empty, a posted offering is sold out. Runs in the
    caller's transaction after a primary fill."""
    inventory_units = Holding.objects.filter(offering_id=offering_id, owner__isnull=True).values_list(
        "units", flat=True).first()
    if not inventory_units:
        Offering.objects.filter(pk=offering_id, status=OfferingStatus.POSTED).update(status=OfferingStatus.SOLD_OUT)


def offering_mark_matured(*, offering: Offering, holdings: list[Holding], reference: str) -> None:
    """The final cash flow is paid: every open listing closes (bidding releases its bids),
    every unit retires and the offering matures. The caller (servicing) holds the offering's
    lock, then its open listings' and its holdings' (`holdings`, the ones with units)."""
    from trading.services.listings import listing_close_for_offering

    listing_close_for_offering(offering_id=offering.pk, status=ListingStatus.CANCELLED)
    for holding in holdings:
        UnitTransfer.objects.create(offering=offering, from_holding=holding, to_holding=None, units=holding.units,
                                    kind=UnitTransferKind.RETIRE, reference=reference)
    Holding.objects.filter(pk__in=[h.pk for h in holdings]).update(units=0, cost_basis=ZERO)
    offering.status = OfferingStatus.MATURED
    offering.days_past_due = 0
    offering.save(update_fields=["status", "days_past_due"])


DEFAULTABLE = (OfferingStatus.CONFIGURED, OfferingStatus.POSTED, OfferingStatus.SOLD_OUT)


def offering_mark_defaulted(*, offering: Offering, reason: str, actor) -> None:
    """The obligor has defaulted: every open listing closes (bidding releases its bids) and
    the offering is marked with the reason. Caller holds the offering's lock and has checked
    `offering.status in DEFAULTABLE`."""
    from trading.services.listings import listing_close_for_offering

    if offering.status not in DEFAULTABLE:
        raise InvalidState(f"The offering is {offering.get_status_display().lower()}.")
    listing_close_for_offering(offering_id=offering.pk, status=ListingStatus.CANCELLED, actor=actor)
    offering.status = OfferingStatus.DEFAULTED
    offering.status_reason = reason[:255]
    offering.save(update_fields=["status", "status_reason"])


def offering_cash_flows_mark_paid(*, paid_per_unit: dict[int, tuple[Decimal, Decimal]]) -> None:
    """Record what each scheduled cash flow has received so far, per unit:
    `{cash_flow_id: (paid_principal, paid_interest)}`. Caller holds the offering's lock."""
    for flow_id, (principal, interest) in paid_per_unit.items():
        OfferingCashFlow.objects.filter(pk=flow_id).update(paid_principal=principal, paid_interest=interest)


def offering_days_past_due_set(*, offering: Offering, days: int) -> None:
    """Caller holds the offering's lock (or skipped it when locked: a running distribution
    sets the value itself)."""
    if offering.days_past_due != days:
        Offering.objects.filter(pk=offering.pk).update(days_past_due=days)
        offering.days_past_due = days
