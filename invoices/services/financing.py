"""Finance requests: request (reserving limits), sign, reject, disburse; repayments; overdue.

Locks, in this app's global order (and before the wallet's ledger accounts, which
`ledger_post` locks last): Program → Counterparty (by id) → Invoice → FinanceRequest.
- Creating a request locks the program, then the counterparty, then the invoice, and only
  then checks and raises the used limits, so concurrent requests against the last of a limit
  queue on the program row and the second sees the first one's usage.
- Signing locks only the FinanceRequest row: the next step is read and written under that
  lock, so two concurrent signatures can neither take the same step nor skip one.
- Rejecting and repaying change used limits, so they take the full order.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, InvalidState
from core.money import ZERO, to_money
from core.outbox import outbox_publish
from core.retry import retry_on_deadlock
from invoices import ledger, terms
from invoices.enums import (
    OUTSTANDING_STATUSES,
    SIGNATURE_STEP_LABELS,
    FinanceRequestStatus,
    InvoiceStatus,
    PartyRole,
    ProgramStatus,
    RepaymentSource,
    WorkflowAction,
)
from invoices.errors import (
    AlreadySigned,
    InvoiceInvalid,
    LimitExceeded,
    NotASignatory,
    ProgramNotActive,
    RepaymentReferenceReused,
    RepaymentTooLarge,
)
from invoices.models import (
    Counterparty,
    FinanceRequest,
    FinanceRequestSignature,
    Invoice,
    PartyMembership,
    Program,
    Repayment,
    WorkflowEvent,
)
from invoices.services.invoices import counterparty_for

SIGNER_ROLES = (PartyRole.ADMINISTRATOR, PartyRole.SUPERVISOR)
REPAID_TOPIC = "invoice.repaid"


def party_signatory(*, organization_id: int, party_id: int, user: User) -> PartyMembership | None:
    """The user's membership of the party if it lets them request and sign, else None."""
    return PartyMembership.objects.filter(organization_id=organization_id, party_id=party_id, user=user,
                                          role__in=SIGNER_ROLES).first()


def _event(finance_request: FinanceRequest, *, actor: User | None, action: str, from_status: str,
           data: dict | None = None) -> WorkflowEvent:
    return WorkflowEvent.objects.create(
        organization_id=finance_request.organization_id, finance_request=finance_request,
        actor=actor if getattr(actor, "pk", None) else None, action=action, from_status=from_status,
        to_status=finance_request.status, data=data or {},
    )


def _lock_for_limits(*, program_id: int, counterparty_id: int, invoice_id: int,
                     finance_request_id: int | None = None):
    """Take the app's locks in the global order; returns the locked rows."""
    program = Program.objects.select_for_update().get(pk=program_id)
    counterparty = Counterparty.objects.select_for_update().get(pk=counterparty_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    finance_request = (
        FinanceRequest.objects.select_for_update().get(pk=finance_request_id) if finance_request_id else None
    )
    return program, counterparty, invoice, finance_request


def _change_used(*, program: Program, counterparty: Counterparty, delta: Decimal) -> None:
    """Move both used limits by `delta` (caller holds both row locks)."""
    Program.objects.filter(pk=program.pk).update(used_limit=F("used_limit") + delta)
    Counterparty.objects.filter(pk=counterparty.pk).update(used_limit=F("used_limit") + delta)
    program.used_limit += delta
    counterparty.used_limit += delta


# --- Request ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Terms:
    finance_amount: Decimal
    finance_percentage: Decimal
    tenor_days: int
    interest_amount: Decimal
    net_disbursal_amount: Decimal


def finance_terms(*, program: Program, invoice: Invoice, start: date, finance_amount: Decimal | None = None,
                  interest_rate: Decimal | None = None) -> Terms:
    """The formulas of DESIGN.md §5 for this invoice under this program, from `start` (the
    request or disbursal date) to the invoice's due date. `finance_amount` and
    `interest_rate` override the program's (terms already agreed on a request)."""
    if finance_amount is None:
        finance_amount = terms.finance_amount_for(invoice_amount=invoice.amount,
                                                  max_invoice_amount=program.max_invoice_amount,
                                                  max_invoice_percent=program.max_invoice_percent)
    rate = program.interest_rate if interest_rate is None else interest_rate
    days = terms.tenor_days(start=start, end=invoice.due_date)
    interest = terms.interest_for(principal=finance_amount, annual_rate_percent=rate, days=days)
    return Terms(
        finance_amount=finance_amount,
        finance_percentage=terms.finance_percentage_for(finance_amount=finance_amount, invoice_amount=invoice.amount),
        tenor_days=days, interest_amount=interest, net_disbursal_amount=finance_amount - interest,
    )


def finance_request_create(*, invoice: Invoice, actor: User | None, today: date | None = None,
                           finance_amount: Decimal | None = None, signatures_required: int | None = None,
                           check_signatory: bool = True) -> FinanceRequest:
    """Ask to finance an invoice. The actor must be an administrator or supervisor of the
    invoice's seller. Reserves the finance amount against the program's and the
    counterparty's limits (`limit_exceeded` if either would be exceeded).

    `finance_amount` / `signatures_required` / `check_signatory=False` are for the
    primary-platform import only, where the request was made and signed elsewhere."""
    if check_signatory and party_signatory(organization_id=invoice.organization_id, party_id=invoice.seller_id,
                                           user=actor) is None:
        raise NotASignatory("Only the seller's administrators and supervisors may request finance.")
    today = today or timezone.localdate()
    counterparty = counterparty_for(program=invoice.program, seller=invoice.seller, buyer=invoice.buyer)
    if counterparty is None:
        raise InvoiceInvalid("The invoice's parties are no longer an active counterparty pair of the program.",
                             code="not_a_counterparty")
    with transaction.atomic():
        program, counterparty, invoice, _ = _lock_for_limits(program_id=invoice.program_id,
                                                             counterparty_id=counterparty.pk, invoice_id=invoice.pk)
        if invoice.status != InvoiceStatus.UPLOADED:
            raise InvalidState(f"The invoice is {invoice.status}; only an uploaded invoice can be financed.")
        if program.status != ProgramStatus.ACTIVE:
            raise ProgramNotActive()
        if not counterparty.is_active:
            raise InvoiceInvalid("The counterparty is not active in this program.", code="not_a_counterparty")
        if invoice.due_date <= today:
            raise InvoiceInvalid("The invoice is due; it can no longer be financed.", code="invoice_past_due")
        fixed = finance_terms(program=program, invoice=invoice, start=today,
                              finance_amount=to_money(finance_amount) if finance_amount is not None else None)
        if fixed.net_disbursal_amount <= 0:
            raise InvoiceInvalid("The interest would take the whole finance amount.", code="nothing_to_disburse")
        amount = fixed.finance_amount
        if program.used_limit + amount > program.max_limit_amount:
            raise LimitExceeded(f"The program has {program.available_limit} available; this request needs {amount}.")
        if counterparty.used_limit + amount > counterparty.limit_amount:
            raise LimitExceeded(
                f"The counterparty has {counterparty.available_limit} available; this request needs {amount}."
            )
        _change_used(program=program, counterparty=counterparty, delta=amount)
        finance_request = FinanceRequest.objects.create(
            organization_id=invoice.organization_id, invoice=invoice, program=program, counterparty=counterparty,
            party_id=invoice.seller_id, requested_by=actor if getattr(actor, "pk", None) else None,
            finance_amount=amount, finance_percentage=fixed.finance_percentage, interest_rate=program.interest_rate,
            overdue_rate=program.overdue_rate, grace_days=program.grace_days, due_date=invoice.due_date,
            tenor_days=fixed.tenor_days, interest_amount=fixed.interest_amount,
            net_disbursal_amount=fixed.net_disbursal_amount,
            signatures_required=invoice.seller.signatures_required if signatures_required is None
            else signatures_required,
            status=FinanceRequestStatus.AWAITING_SIGNATURES,
        )
        if finance_request.signatures_required == 0:
            finance_request.status = FinanceRequestStatus.APPROVED
            finance_request.save(update_fields=["status"])
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.FINANCE_REQUESTED)
        _event(finance_request, actor=actor,
               action=WorkflowAction.REQUESTED if check_signatory else WorkflowAction.IMPORTED, from_status="",
               data={"finance_amount": str(amount), "signatures_required": finance_request.signatures_required})
        audit_record(action="invoices.finance_requested", actor=actor, target=finance_request,
                     data={"organization_id": invoice.organization_id, "invoice_id": invoice.pk,
                           "finance_amount": str(amount)})
    return finance_request


# --- Signatures -------------------------------------------------------------------------

def finance_request_sign(*, finance_request: FinanceRequest, actor: User, step: int | None = None) -> FinanceRequest:
    """Add the next signature. Signatures come in order (initial → A → B → C) from distinct
    administrators/supervisors of the requesting party; the last one approves the request.
    `step`, if given, must be the next step (a client's guard against signing twice).
    Holds the FinanceRequest row lock while it reads and writes the step."""
    with transaction.atomic():
        locked = FinanceRequest.objects.select_for_update().get(pk=finance_request.pk)
        if locked.status != FinanceRequestStatus.AWAITING_SIGNATURES:
            raise InvalidState(f"The request is {locked.status}; it takes no more signatures.")
        membership = party_signatory(organization_id=locked.organization_id, party_id=locked.party_id, user=actor)
        if membership is None:
            raise NotASignatory()
        if FinanceRequestSignature.objects.filter(finance_request=locked, signer=actor).exists():
            raise AlreadySigned()
        next_step = locked.signatures_count + 1
        if step is not None and step != next_step:
            raise Conflict(f"The next step is {next_step}, not {step}.", code="step_mismatch", attr="step")
        FinanceRequestSignature.objects.create(organization_id=locked.organization_id, finance_request=locked,
                                               step=next_step, signer=actor, role=membership.role)
        previous = locked.status
        locked.signatures_count = next_step
        if next_step == locked.signatures_required:
            locked.status = FinanceRequestStatus.APPROVED
        locked.save(update_fields=["signatures_count", "status", "updated_at"])
        _event(locked, actor=actor, action=WorkflowAction.SIGNED, from_status=previous,
               data={"step": next_step, "label": SIGNATURE_STEP_LABELS[next_step], "role": membership.role})
        audit_record(action="invoices.finance_request_signed", actor=actor, target=locked,
                     data={"step": next_step})
    return locked


def finance_request_reject(*, finance_request: FinanceRequest, actor: User, reason: str = "",
                           as_admin: bool = False) -> FinanceRequest:
    """End a request: a signatory of the party while it awaits signatures, or an organization
    admin (`as_admin`, checked by the caller) at any step before disbursal. Releases the
    limits it held; the invoice can be financed again."""
    with transaction.atomic():
        program, counterparty, invoice, locked = _lock_for_limits(
            program_id=finance_request.program_id, counterparty_id=finance_request.counterparty_id,
            invoice_id=finance_request.invoice_id, finance_request_id=finance_request.pk,
        )
        allowed = (FinanceRequestStatus.AWAITING_SIGNATURES, FinanceRequestStatus.APPROVED) if as_admin else (
            FinanceRequestStatus.AWAITING_SIGNATURES,)
        if not as_admin and party_signatory(organization_id=locked.organization_id, party_id=locked.party_id,
                                            user=actor) is None:
            raise NotASignatory()
        if locked.status not in allowed:
            raise InvalidState(f"The request is {locked.status}; it can no longer be rejected.")
        _change_used(program=program, counterparty=counterparty, delta=-locked.finance_amount)
        previous = locked.status
        locked.status = FinanceRequestStatus.REJECTED
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.UPLOADED)
        _event(locked, actor=actor, action=WorkflowAction.REJECTED, from_status=previous,
               data={"reason": reason, "by": "admin" if as_admin else "party"})
        audit_record(action="invoices.finance_request_rejected", actor=actor, target=locked, data={"reason": reason})
    return locked


# --- Disbursal --------------------------------------------------------------------------

@retry_on_deadlock
def finance_request_disburse(*, finance_request: FinanceRequest, actor: User | None,
                             on: date | None = None) -> FinanceRequest:
    """Pay an approved request: the interest and net disbursal are re-fixed for the tenor
    from `on` (default today) to the due date, and the ledger moves the money (see
    `invoices.ledger`). Locks the invoice, then the request."""
    on = on or timezone.localdate()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=finance_request.invoice_id)
        locked = FinanceRequest.objects.select_for_update().get(pk=finance_request.pk)
        if locked.status != FinanceRequestStatus.APPROVED:
            raise InvalidState(f"The request is {locked.status}; only an approved request can be disbursed.")
        fixed = finance_terms(program=locked.program, invoice=invoice, start=on, finance_amount=locked.finance_amount,
                              interest_rate=locked.interest_rate)
        if fixed.tenor_days < 1:
            raise InvalidState("The invoice is due; it can no longer be disbursed.", code="invoice_past_due")
        locked.tenor_days = fixed.tenor_days
        locked.interest_amount = fixed.interest_amount
        locked.net_disbursal_amount = fixed.net_disbursal_amount
        locked.disbursed_on = on
        locked.disbursed_at = timezone.now()
        locked.status = FinanceRequestStatus.DISBURSED
        locked.save(update_fields=["tenor_days", "interest_amount", "net_disbursal_amount", "disbursed_on",
                                   "disbursed_at", "status", "updated_at"])
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.FINANCED)
        ledger.post_disbursal(organization_id=locked.organization_id, finance_request_id=locked.pk,
                              net_amount=fixed.net_disbursal_amount, interest_amount=fixed.interest_amount,
                              actor=actor)
        _event(locked, actor=actor, action=WorkflowAction.DISBURSED, from_status=FinanceRequestStatus.APPROVED,
               data={"net_disbursal_amount": str(fixed.net_disbursal_amount),
                     "interest_amount": str(fixed.interest_amount), "tenor_days": fixed.tenor_days,
                     "disbursed_on": on.isoformat()})
        audit_record(action="invoices.finance_disbursed", actor=actor, target=locked,
                     data={"finance_amount": str(locked.finance_amount),
                           "net_disbursal_amount": str(fixed.net_disbursal_amount),
                           "interest_amount": str(fixed.interest_amount)})
    return locked


# --- Overdue ----------------------------------------------------------------------------

def _accrue_overdue_interest(locked: FinanceRequest, *, through: date, actor: User | None) -> Decimal:
    """Accrue overdue interest on the outstanding principal for the days after
    `overdue_interest_through` up to `through` (caller holds the request's lock)."""
    start = locked.overdue_interest_through or locked.due_date
    days = (through - start).days
    if days <= 0:
        return ZERO
    amount = terms.interest_for(principal=locked.outstanding_principal, annual_rate_percent=locked.overdue_rate,
                                days=days)
    locked.overdue_interest_through = through
    locked.overdue_interest += amount
    locked.save(update_fields=["overdue_interest_through", "overdue_interest", "updated_at"])
    if amount > 0:
        ledger.post_overdue_interest(organization_id=locked.organization_id, finance_request_id=locked.pk,
                                     amount=amount, through=through.isoformat(), actor=actor)
        _event(locked, actor=actor, action=WorkflowAction.OVERDUE_INTEREST, from_status=locked.status,
               data={"amount": str(amount), "days": days, "principal": str(locked.outstanding_principal),
                     "from": start.isoformat(), "through": through.isoformat()})
    return amount


def overdue_mark(*, organization_id: int, today: date | None = None) -> int:
    """The beat job's work for one organization: requests disbursed and unpaid past their
    due date plus grace days become `overdue` (and their invoices too), and every overdue
    request accrues overdue interest at its rate, counted from the due date, up to today.
    Idempotent: a second run on the same day accrues nothing. Returns how many requests
    became overdue."""
    today = today or timezone.localdate()
    candidate_ids = list(
        FinanceRequest.objects.filter(organization_id=organization_id, status__in=OUTSTANDING_STATUSES,
                                      due_date__lt=today).order_by("id").values_list("id", "invoice_id")
    )
    marked = 0
    for finance_request_id, invoice_id in candidate_ids:
        with transaction.atomic():
            Invoice.objects.select_for_update().filter(pk=invoice_id).first()
            locked = FinanceRequest.objects.select_for_update().get(pk=finance_request_id)
            if locked.status == FinanceRequestStatus.DISBURSED:
                if (today - locked.due_date).days <= locked.grace_days:
                    continue
                locked.status = FinanceRequestStatus.OVERDUE
                locked.overdue_since = today
                locked.save(update_fields=["status", "overdue_since", "updated_at"])
                Invoice.objects.filter(pk=invoice_id).update(status=InvoiceStatus.OVERDUE)
                _event(locked, actor=None, action=WorkflowAction.OVERDUE, from_status=FinanceRequestStatus.DISBURSED,
                       data={"due_date": locked.due_date.isoformat(), "grace_days": locked.grace_days})
                marked += 1
            if locked.status == FinanceRequestStatus.OVERDUE:
                _accrue_overdue_interest(locked, through=today, actor=None)
    return marked


# --- Repayments -------------------------------------------------------------------------

@dataclass(frozen=True)
class RepaymentRecorded:
    repayment: Repayment
    finance_request: FinanceRequest
    created: bool


def _live_request(invoice: Invoice) -> FinanceRequest:
    finance_request = (
        FinanceRequest.objects.filter(invoice=invoice).exclude(status=FinanceRequestStatus.REJECTED).first()
    )
    if finance_request is None or finance_request.disbursed_on is None:
        raise InvalidState("The invoice has not been financed; there is nothing to repay.")
    return finance_request


@retry_on_deadlock
def repayment_record(*, invoice: Invoice, amount: Decimal, received_on: date, reference: str, actor: User | None,
                     source: str = RepaymentSource.ADMIN) -> RepaymentRecorded:
    """Record money received against a financed invoice (full or partial, any number).

    Idempotent by `reference` within the organization: the same reference with the same
    invoice, amount and date returns the first repayment and moves nothing; with anything
    else it is refused (`repayment_reference_reused`). The amount pays overdue interest
    first (accrued up to `received_on`), then principal; the principal part releases the
    program's and counterparty's limits. In the same transaction: ledger `bank → loan_book`
    and an `invoice.repaid` outbox event for servicing."""
    amount = to_money(amount)
    reference = reference.strip()
    if amount <= 0:
        raise InvalidInput("The amount must be more than zero.", attr="amount")
    if not reference:
        raise InvalidInput("A reference is required.", attr="reference")
    finance_request = _live_request(invoice)
    with transaction.atomic():
        program, counterparty, invoice, locked = _lock_for_limits(
            program_id=finance_request.program_id, counterparty_id=finance_request.counterparty_id,
            invoice_id=invoice.pk, finance_request_id=finance_request.pk,
        )
        existing = Repayment.objects.filter(organization_id=locked.organization_id, reference=reference).first()
        if existing is not None:
            if (existing.finance_request_id, existing.amount, existing.received_on) == (locked.pk, amount, received_on):
                return RepaymentRecorded(repayment=existing, finance_request=locked, created=False)
            raise RepaymentReferenceReused(attr="reference")
        if locked.status not in OUTSTANDING_STATUSES:
            raise InvalidState(f"The request is {locked.status}; nothing is outstanding.")
        if received_on < locked.disbursed_on:
            raise InvalidInput("The money cannot be received before the disbursal.", attr="received_on")
        if locked.status == FinanceRequestStatus.OVERDUE:
            _accrue_overdue_interest(locked, through=received_on, actor=actor)
        if amount > locked.outstanding_amount:
            raise RepaymentTooLarge(f"Only {locked.outstanding_amount} is outstanding.", attr="amount")
        interest_part = min(amount, locked.outstanding_interest)
        principal_part = amount - interest_part
        repayment = Repayment.objects.create(
            organization_id=locked.organization_id, finance_request=locked, invoice=invoice, amount=amount,
            principal_amount=principal_part, interest_amount=interest_part, received_on=received_on,
            reference=reference, source=source, recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        if principal_part:
            _change_used(program=program, counterparty=counterparty, delta=-principal_part)
        previous = locked.status
        locked.principal_repaid += principal_part
        locked.overdue_interest_repaid += interest_part
        if locked.outstanding_amount == 0:
            locked.status = FinanceRequestStatus.REPAID
            locked.closed_at = timezone.now()
            invoice_status = InvoiceStatus.SETTLED
        else:
            invoice_status = InvoiceStatus.OVERDUE if previous == FinanceRequestStatus.OVERDUE \
                else InvoiceStatus.PARTIALLY_SETTLED
        locked.save(update_fields=["principal_repaid", "overdue_interest_repaid", "status", "closed_at",
                                   "updated_at"])
        Invoice.objects.filter(pk=invoice.pk).update(status=invoice_status)
        ledger.post_repayment(organization_id=locked.organization_id, repayment_id=repayment.pk,
                              finance_request_id=locked.pk, amount=amount, reference=reference, actor=actor)
        _event(locked, actor=actor, action=WorkflowAction.REPAYMENT, from_status=previous,
               data={"amount": str(amount), "principal": str(principal_part), "interest": str(interest_part),
                     "received_on": received_on.isoformat(), "reference": reference,
                     "outstanding": str(locked.outstanding_amount)})
        audit_record(action="invoices.repayment_recorded", actor=actor, target=repayment,
                     data={"finance_request_id": locked.pk, "amount": str(amount), "reference": reference})
        outbox_publish(topic=REPAID_TOPIC, payload={
            "organization_id": locked.organization_id, "invoice_id": invoice.pk, "finance_request_id": locked.pk,
            "amount": str(amount), "received_on": received_on.isoformat(), "reference": reference,
        })
    return RepaymentRecorded(repayment=repayment, finance_request=locked, created=True)

