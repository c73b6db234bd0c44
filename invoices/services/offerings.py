"""Offerings: cut a financed invoice into units with a generated per-unit schedule.

`offering_configure` only writes the offering and its schedule; issuing the units to the
platform's inventory is the trading app's step (`trading.services.offering_fractionalize`
calls this inside its own transaction), since trading builds on invoices, not the reverse.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

import irr
from core.errors import DomainError, InvalidInput, InvalidState, NotFound
from core.money import fit_decimal, to_money
from invoices.enums import FinanceRequestStatus, OfferingStatus, ScheduleKind
from invoices.models import FinanceRequest
from invoices.offering_models import Offering, OfferingCashFlow

RATE_PLACES = Decimal("0.000001")


class UnitsDoNotDivide(DomainError):
    code = "units_do_not_divide"
    default_detail = "The financed principal does not divide into that many units of whole paise."


class ScheduleRefused(DomainError):
    code = "schedule_invalid"


def _irr_error(exc: irr.IrrError, attr: str | None = None) -> DomainError:
    return ScheduleRefused(str(exc), code=getattr(exc, "code", "schedule_invalid"), attr=attr)


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
        request = (
            FinanceRequest.objects.select_for_update(of=("self",))
            .select_related("invoice")
            .filter(organization=organization, invoice_id=invoice_id)
            .order_by("-id")
            .first()
        )
        if request is None:
            raise NotFound("No such invoice.")
        if request.status != FinanceRequestStatus.DISBURSED:
            raise InvalidState("Only an invoice whose finance has been disbursed can be fractionalized.")
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
