"""Servicing writes: record a repayment, run its distribution, default an offering, days
past due. Money moves only through `wallet.services`; the TDS of each line is decided by
`tax.rules` and recorded by `tax.services`.

Recording (`distribution_record`, `distribution_record_for_invoice`) is quick: it books the
cash into the offering's `escrow` account, writes a pending `Distribution` (unique per
offering and reference) and an outbox event, in one transaction. The outbox handler runs
`distribution_run` (a worker in production; right after commit in tests and the embedded
default).

`distribution_run` is one transaction. Locks, in the global order of DESIGN.md §3: the
distribution row (a second run waits, then sees it paid and does nothing), the offering,
the offering's open listings by id, then all of its holdings by id (so no buy, bid or sale
can move units while holders are read), then ledger accounts inside `ledger_post`. What is
owed comes from the per-unit schedule: cash flows due by the date received, arrears (the
oldest) first; if none is due yet the next unpaid one is being paid early. A full payment
pays each holder exactly units × per-unit amount; a short one is split principal/interest in
proportion to what is owed on the flow and shared by units with largest remainder; anything
beyond what is owed is the platform's spread (`fees`). One journal entry empties the escrow:
holders' net to their `available`, TDS to `tds_payable`, the inventory's share to
`platform_proceeds`, spread to `fees`. The final cash flow paid in full retires every unit,
closes the offering's open listings (bidding releases their bids) and matures the offering.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from core.money import PAISA, ZERO, allocate, to_money
from core.outbox import outbox_publish
from core.retry import retry_on_deadlock
from servicing.enums import DistributionSource, DistributionStatus
from servicing.errors import OfferingNotServiceable, RepaymentReferenceReused
from servicing.models import Distribution, DistributionCashFlow, DistributionLine
from tax import rules as tax_rules
from tax.selectors import tax_context
from tax.services import tds_deduction_record
from trading.enums import ListingStatus, OfferingStatus
from trading.models import Holding, Listing, Offering, OfferingCashFlow
from trading.services import (
    offering_cash_flows_mark_paid,
    offering_days_past_due_set,
    offering_mark_defaulted,
    offering_mark_matured,
)
from wallet.enums import AccountKind
from wallet.services import ledger_post, wallet_open, wallet_system_account

RECORDED_TOPIC = "distribution.recorded"
PAID_TOPIC = "distribution.paid"
DEFAULTED_TOPIC = "offering.defaulted"
# How a distribution line is named on its TDS deduction (tax.models.TDSDeduction.source_type).
DEDUCTION_SOURCE = "servicing.distributionline"
SERVICEABLE = (OfferingStatus.CONFIGURED, OfferingStatus.POSTED, OfferingStatus.SOLD_OUT, OfferingStatus.DEFAULTED)


# --- Recording a repayment -------------------------------------------------------------------

def _receipt_key(offering_id: int, reference: str) -> str:
    digest = hashlib.sha256(reference.encode()).hexdigest()[:32]
    return f"servicing:receipt:{offering_id}:{digest}"


def _existing_or_refuse(offering: Offering, *, reference: str, amount: Decimal, received_on: dt.date):
    existing = Distribution.objects.filter(offering=offering, reference=reference).first()
    if existing is None:
        return None
    if (existing.amount - existing.interest_topup, existing.received_on) != (amount, received_on):
        raise RepaymentReferenceReused(attr="reference")
    return existing


def _distribution_create(*, offering: Offering, reference: str, amount: Decimal, received_on: dt.date, source: str,
                         receipt_legs: list, interest_topup: Decimal = ZERO, actor=None) -> Distribution:
    """With the offering locked: book the cash into escrow, write the pending distribution,
    publish the event that runs it."""
    entry = ledger_post(kind="distribution.receipt", transfers=receipt_legs, reference=f"offering:{offering.pk}",
                        memo=f"Repayment {reference} for offering {offering.pk}"[:255], created_by=actor,
                        idempotency_key=_receipt_key(offering.pk, reference))
    distribution = Distribution.objects.create(
        offering=offering, reference=reference, amount=amount + interest_topup, received_on=received_on,
        source=source, interest_topup=interest_topup, created_by=actor if getattr(actor, "pk", None) else None,
        receipt_entry=entry,
    )
    audit_record(action="distribution.recorded", actor=actor, target=distribution,
                 data={"offering_id": offering.pk, "amount": str(amount), "interest_topup": str(interest_topup),
                       "received_on": received_on.isoformat(), "reference": reference, "source": source})
    outbox_publish(topic=RECORDED_TOPIC, payload={"distribution_id": distribution.pk, "offering_id": offering.pk})
    return distribution


def _clean_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput("A reference is required.", attr="reference")
    if len(reference) > 100:
        raise InvalidInput("The reference is longer than 100 characters.", attr="reference")
    return reference


@dataclass(frozen=True)
class Recorded:
    distribution: Distribution
    created: bool


@retry_on_deadlock
def distribution_record(*, organization, offering_id: int, amount: Decimal, received_on: dt.date, reference: str,
                        actor) -> Recorded:
    """An admin of the offering's organization records cash received for the offering
    (another organization's offering is a 404). Books `bank → escrow`; idempotent per
    (offering, reference): the same reference, amount and date returns the first; anything
    else is refused with `repayment_reference_reused`."""
    amount = to_money(amount)
    reference = _clean_reference(reference)
    if amount <= 0:
        raise InvalidInput("The amount must be more than zero.", attr="amount")
    if received_on > timezone.localdate():
        raise InvalidInput("The money cannot be received in the future.", attr="received_on")
    with transaction.atomic():
        offering = Offering.objects.select_for_update().filter(pk=offering_id, organization=organization).first()
        if offering is None:
            raise NotFound("No such offering.")
        existing = _existing_or_refuse(offering, reference=reference, amount=amount, received_on=received_on)
        if existing is not None:
            return Recorded(distribution=existing, created=False)
        if offering.status not in SERVICEABLE:
            raise OfferingNotServiceable(f"The offering is {offering.get_status_display().lower()}.")
        escrow = wallet_system_account(AccountKind.ESCROW, offering.pk)
        distribution = _distribution_create(
            offering=offering, reference=reference, amount=amount, received_on=received_on,
            source=DistributionSource.ADMIN, actor=actor,
            receipt_legs=[(wallet_system_account(AccountKind.BANK), escrow, amount)],
        )
    return Recorded(distribution=distribution, created=True)


def distribution_record_for_invoice(*, organization_id: int, invoice_id: int, amount: Decimal, received_on: dt.date,
                                    reference: str) -> Distribution | None:
    """The `invoice.repaid` event: if the invoice has an offering, distribute the repayment.

    The invoices app has already booked the cash (`bank → loan_book`) and took the finance's
    interest upfront into `fees` (ADR 0006), so the repayment covers principal only. Holders
    are owed principal and interest: the receipt moves the repayment `platform_proceeds →
    escrow` and the holders' interest on the principal repaid `fees → escrow` (the interest
    the platform earned upfront pays it). See docs/adr/0007-servicing.md."""
    amount = to_money(amount)
    reference = f"invoice:{reference}"[:100]
    with transaction.atomic():
        offering = (Offering.objects.select_for_update()
                    .filter(organization_id=organization_id, invoice_id=invoice_id).first())
        if offering is None or amount <= 0:
            return None
        existing = Distribution.objects.filter(offering=offering, reference=reference).first()
        if existing is not None:
            return existing
        if offering.status not in SERVICEABLE:
            return None
        owed_principal, owed_interest = _owed_totals(offering)
        principal_part = min(amount, owed_principal)
        topup = ZERO
        if owed_principal > 0 and principal_part > 0:
            topup = (owed_interest * principal_part / owed_principal).quantize(PAISA, rounding=ROUND_HALF_UP)
        escrow = wallet_system_account(AccountKind.ESCROW, offering.pk)
        legs = [(wallet_system_account(AccountKind.PLATFORM_PROCEEDS), escrow, amount)]
        if topup > 0:
            legs.append((wallet_system_account(AccountKind.FEES), escrow, topup))
        return _distribution_create(offering=offering, reference=reference, amount=amount, received_on=received_on,
                                    source=DistributionSource.INVOICE, receipt_legs=legs, interest_topup=topup)


# --- Running a distribution ------------------------------------------------------------------

def _paid_totals(offering_id: int) -> dict[int, tuple[Decimal, Decimal]]:
    rows = (DistributionCashFlow.objects.filter(cash_flow__offering_id=offering_id).values("cash_flow_id")
            .annotate(principal=Sum("principal"), interest=Sum("interest")))
    return {row["cash_flow_id"]: (row["principal"], row["interest"]) for row in rows}


@dataclass
class Owed:
    flow: OfferingCashFlow
    principal: Decimal  # over all units
    interest: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


def _owed(offering: Offering, flows: list[OfferingCashFlow], paid: dict) -> list[Owed]:
    owed = []
    for flow in flows:
        paid_principal, paid_interest = paid.get(flow.pk, (ZERO, ZERO))
        row = Owed(flow=flow, principal=flow.principal * offering.total_units - paid_principal,
                   interest=flow.interest * offering.total_units - paid_interest)
        if row.total > 0:
            owed.append(row)
    return owed


def _owed_totals(offering: Offering) -> tuple[Decimal, Decimal]:
    flows = list(OfferingCashFlow.objects.filter(offering=offering).order_by("sequence"))
    owed = _owed(offering, flows, _paid_totals(offering.pk))
    return sum((o.principal for o in owed), ZERO), sum((o.interest for o in owed), ZERO)


def _per_unit_paid(total: Decimal, scheduled: Decimal, units: int) -> Decimal:
    """Per-unit view of a total paid: exact when paid in full, else rounded down."""
    if total == scheduled * units:
        return scheduled
    return (total / units).quantize(PAISA, rounding=ROUND_DOWN)


def days_past_due(flows, *, paid: dict, units: int, today: dt.date) -> int:
    """Days since the oldest cash flow that fell due before today and is not paid in full."""
    for flow in sorted(flows, key=lambda f: f.sequence):
        paid_principal, paid_interest = paid.get(flow.pk, (ZERO, ZERO))
        if flow.due_date < today and paid_principal + paid_interest < (flow.principal + flow.interest) * units:
            return (today - flow.due_date).days
    return 0


def _write_line(**fields) -> DistributionLine:
    """One holder's line (a seam for the crash test: everything is in one transaction)."""
    return DistributionLine.objects.create(**fields)


def _interest_so_far(user_ids: list[int], *, financial_year: str) -> dict[int, Decimal]:
    """Interest credited to each investor earlier in the financial year (the TDS threshold
    counts it)."""
    start, end = tax_rules.financial_year_bounds(financial_year)
    return dict(DistributionLine.objects.filter(user_id__in=user_ids, paid_on__range=(start, end))
                .values_list("user_id").annotate(total=Sum("interest")))


Part = tuple[Owed, Decimal, Decimal]


def _pay_flows(amount: Decimal, owed: list[Owed], *, received_on: dt.date) -> tuple[list[Part], Decimal]:
    """Which flows this cash pays, arrears first: [(owed, principal, interest)] and the rest."""
    due = [o for o in owed if o.flow.due_date <= received_on] or owed[:1]
    parts, remaining = [], amount
    for row in due:
        if remaining <= 0:
            break
        if remaining >= row.total:
            parts.append((row, row.principal, row.interest))
            remaining -= row.total
        else:
            principal, interest = allocate(remaining, [row.principal, row.interest])
            parts.append((row, principal, interest))
            remaining = ZERO
    return parts, remaining


@retry_on_deadlock
def distribution_run(*, distribution_id: int, now=None) -> Distribution:
    """Pay a recorded distribution to the holders on the record date (now). Idempotent: a
    paid distribution is returned untouched. See the module docstring for locks and rules."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        distribution = Distribution.objects.select_for_update().filter(pk=distribution_id).first()
        if distribution is None:
            raise NotFound("No such distribution.")
        if distribution.status == DistributionStatus.PAID:
            return distribution
        offering = Offering.objects.select_for_update().get(pk=distribution.offering_id)
        list(Listing.objects.select_for_update(of=("self",)).filter(offering=offering, status=ListingStatus.OPEN)
             .order_by("pk").values_list("pk", flat=True))
        holdings = [h for h in Holding.objects.select_for_update(of=("self",)).select_related("owner")
                    .filter(offering=offering).order_by("pk") if h.units > 0]
        flows = list(OfferingCashFlow.objects.filter(offering=offering).order_by("sequence"))
        paid = _paid_totals(offering.pk)
        units_total = offering.total_units

        owed = _owed(offering, flows, paid) if holdings else []
        if holdings and sum(h.units for h in holdings) != units_total:
            raise OfferingNotServiceable("The offering's holdings do not add up to its units; run reconcile.")
        parts, spread = _pay_flows(distribution.amount, owed, received_on=distribution.received_on)
        principal = sum((p for _o, p, _i in parts), ZERO)
        interest = sum((i for _o, _p, i in parts), ZERO)

        # Holders on the record date, pro rata by units (largest remainder: lines add up).
        weights = [h.units for h in holdings]
        principal_shares = allocate(principal, weights) if holdings else []
        interest_shares = allocate(interest, weights) if holdings else []
        user_ids = [h.owner_id for h in holdings if h.owner_id is not None]
        financial_year = tax_rules.financial_year(today)
        context = tax_context(user_ids=user_ids, financial_year=financial_year, now=now)
        interest_so_far = _interest_so_far(user_ids, financial_year=financial_year)
        rule = tax_rules.tax_rule_in_force(day=today) if interest > 0 and user_ids else None

        escrow = wallet_system_account(AccountKind.ESCROW, offering.pk)
        legs, tds_total, platform_share, event_lines = [], ZERO, ZERO, []
        for holding, line_principal, line_interest in zip(holdings, principal_shares, interest_shares, strict=True):
            gross = line_principal + line_interest
            if gross <= 0:
                continue
            decision = None
            if holding.owner_id is not None and rule is not None:
                info = tax_rules.pan_info(context.profiles.get(holding.owner_id))
                decision = tax_rules.tds_for_line(
                    rule=rule, interest=line_interest, line_cash=gross,
                    interest_so_far=interest_so_far.get(holding.owner_id, ZERO),
                    brought_to_tax=context.brought_to_tax.get(holding.owner_id, ZERO),
                    pan_valid=info.valid, declared=holding.owner_id in context.declared,
                )
            line_tds = decision.tds if decision else ZERO
            line = _write_line(distribution=distribution, offering=offering, holding=holding,
                               user_id=holding.owner_id, units=holding.units, principal=line_principal,
                               interest=line_interest, gross=gross, tds=line_tds, net=gross - line_tds, paid_on=today)
            if decision is not None:
                tds_deduction_record(user_id=holding.owner_id, source_type=DEDUCTION_SOURCE, source_id=line.pk,
                                     rule=rule, financial_year=financial_year, pan=info, decision=decision, day=today)
            tds_total += line_tds
            if holding.owner_id is None:
                platform_share += gross
            else:
                if line.net > 0:
                    legs.append((escrow, wallet_open(user=holding.owner).available, line.net))
                event_lines.append({"user_id": holding.owner_id, "gross": str(gross), "tds": str(line_tds),
                                    "net": str(line.net)})
        if tds_total:
            legs.append((escrow, wallet_system_account(AccountKind.TDS_PAYABLE), tds_total))
        if platform_share:
            legs.append((escrow, wallet_system_account(AccountKind.PLATFORM_PROCEEDS), platform_share))
        if spread:
            legs.append((escrow, wallet_system_account(AccountKind.FEES), spread))
        entry = ledger_post(kind="distribution", transfers=legs, reference=f"distribution:{distribution.pk}",
                            memo=f"Repayment {distribution.reference} to holders of offering {offering.pk}"[:255],
                            idempotency_key=f"servicing:distribution:{distribution.pk}")

        # The schedule: what each flow has now received, in total and per unit.
        for row, part_principal, part_interest in parts:
            DistributionCashFlow.objects.create(distribution=distribution, cash_flow=row.flow,
                                                principal=part_principal, interest=part_interest)
            before_principal, before_interest = paid.get(row.flow.pk, (ZERO, ZERO))
            paid[row.flow.pk] = (before_principal + part_principal, before_interest + part_interest)
        offering_cash_flows_mark_paid(paid_per_unit={
            row.flow.pk: (_per_unit_paid(paid[row.flow.pk][0], row.flow.principal, units_total),
                          _per_unit_paid(paid[row.flow.pk][1], row.flow.interest, units_total))
            for row, _principal, _interest in parts})
        paid_parts = {row.flow.pk: (p, i) for row, p, i in parts}
        shortfall = sum((o.total - sum(paid_parts.get(o.flow.pk, (ZERO, ZERO)), ZERO) for o in owed
                         if o.flow.due_date <= distribution.received_on), ZERO)
        matured = bool(holdings) and all(sum(paid.get(f.pk, (ZERO, ZERO)), ZERO) == f.amount * units_total
                                         for f in flows)
        if matured:
            offering_mark_matured(offering=offering, holdings=holdings, reference=f"distribution:{distribution.pk}")
        else:
            offering_days_past_due_set(offering=offering,
                                       days=days_past_due(flows, paid=paid, units=units_total, today=today))

        distribution.status = DistributionStatus.PAID
        distribution.journal_entry = entry
        distribution.record_date = today
        distribution.paid_at = now
        distribution.principal, distribution.interest = principal, interest
        distribution.tds, distribution.spread, distribution.shortfall = tds_total, spread, shortfall
        distribution.matured = matured
        distribution.save()
        audit_record(action="distribution.paid", target=distribution, data={
            "offering_id": offering.pk, "amount": str(distribution.amount), "principal": str(principal),
            "interest": str(interest), "tds": str(tds_total), "spread": str(spread), "shortfall": str(shortfall),
            "platform_share": str(platform_share), "holders": len(event_lines), "matured": matured,
        })
        outbox_publish(topic=PAID_TOPIC, payload={"distribution_id": distribution.pk, "offering_id": offering.pk,
                                                  "lines": event_lines})
    return distribution


# --- Default and days past due ---------------------------------------------------------------

@retry_on_deadlock
def offering_default(*, organization, offering_id: int, reason: str, actor) -> Offering:
    """An admin of the offering's organization marks it defaulted: its open listings close
    (bidding releases their bids) and holders are told (`offering.defaulted`). Later
    recoveries are still recorded and distributed as repayments."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give the reason for the default.", attr="reason")
    with transaction.atomic():
        offering = Offering.objects.select_for_update().filter(pk=offering_id, organization=organization).first()
        if offering is None:
            raise NotFound("No such offering.")
        if offering.status not in (OfferingStatus.POSTED, OfferingStatus.SOLD_OUT, OfferingStatus.CONFIGURED):
            raise OfferingNotServiceable(f"The offering is {offering.get_status_display().lower()}.")
        offering_mark_defaulted(offering=offering, reason=reason, actor=actor)
        holder_ids = list(Holding.objects.filter(offering=offering, owner__isnull=False, units__gt=0)
                          .order_by("owner_id").values_list("owner_id", flat=True))
        audit_record(action="offering.defaulted", actor=actor, target=offering,
                     data={"reason": reason, "holders": len(holder_ids)})
        outbox_publish(topic=DEFAULTED_TOPIC, payload={"offering_id": offering.pk, "holder_ids": holder_ids,
                                                       "reason": reason})
    return offering


def offering_days_past_due_refresh(*, today: dt.date | None = None) -> int:
    """Beat job (daily): recompute `days_past_due` of every live offering; returns how many
    changed. Each offering in its own short transaction, skipping rows that are locked (a
    distribution running sets the value itself)."""
    today = today or timezone.localdate()
    changed = 0
    live = Offering.objects.filter(status__in=SERVICEABLE).values_list("pk", flat=True)
    for offering_id in list(live):
        with transaction.atomic():
            offering = Offering.objects.select_for_update(skip_locked=True).filter(pk=offering_id).first()
            if offering is None:
                continue
            flows = list(OfferingCashFlow.objects.filter(offering=offering))
            value = days_past_due(flows, paid=_paid_totals(offering.pk), units=offering.total_units, today=today)
            if value != offering.days_past_due:
                offering_days_past_due_set(offering=offering, days=value)
                changed += 1
    return changed
