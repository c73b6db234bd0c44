"""Pulling financed invoices and repayments from an external primary platform.

Each invoice is imported in its own transaction (invoice, an approved request made and
signed on the primary platform, and its disbursal dated as there), so one bad record does
not hold up the rest; every problem is reported. Idempotent: an invoice already imported
(same `external_id`) is skipped, and repayments are idempotent by reference. Outside calls
happen between transactions, never inside one (the adapter fetches pages lazily)."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from rest_framework.exceptions import APIException

from accounts.models import Organization, User
from core.crypto import blind_index
from integrations.primary import FinancedInvoiceRecord, PartyRecord, PrimaryPlatform
from integrations.registry import get_adapter
from invoices.enums import RepaymentSource
from invoices.models import Invoice, Party, Program
from invoices.services.financing import finance_request_create, finance_request_disburse, repayment_record
from invoices.services.invoices import invoice_create


@dataclass
class ImportReport:
    invoices_created: int = 0
    invoices_skipped: int = 0
    repayments_created: int = 0
    repayments_skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _party(*, organization: Organization, record: PartyRecord) -> Party | None:
    match = Q(pan_index=blind_index(record.pan))
    if record.gstin:
        match |= Q(gstin_index=blind_index(record.gstin))
    return Party.objects.filter(match, organization=organization).first()


def _import_invoice(*, organization: Organization, program: Program, record: FinancedInvoiceRecord,
                    actor: User | None) -> bool:
    if Invoice.objects.filter(organization=organization, external_id=record.external_id).exists():
        return False
    seller = _party(organization=organization, record=record.seller)
    buyer = _party(organization=organization, record=record.buyer)
    if seller is None or buyer is None:
        missing = record.seller if seller is None else record.buyer
        raise LookupError(f"no party with PAN {missing.pan} in the organization")
    with transaction.atomic():
        invoice = invoice_create(organization=organization, actor=actor, seller=seller, buyer=buyer,
                                 program=program, number=record.number, amount=record.amount,
                                 issue_date=record.issue_date, due_date=record.due_date,
                                 external_id=record.external_id)
        finance_request = finance_request_create(invoice=invoice, actor=actor, today=record.disbursed_on,
                                                 finance_amount=record.finance_amount, signatures_required=0,
                                                 check_signatory=False)
        finance_request_disburse(finance_request=finance_request, actor=actor, on=record.disbursed_on)
    return True


def primary_import(*, organization: Organization, program: Program, actor: User | None = None,
                   since: datetime | None = None, adapter: PrimaryPlatform | None = None) -> ImportReport:
    """Import financed invoices into `program` (which mirrors the external one: its anchor
    and counterparties must already be set up here), then repayments."""
    if program.organization_id != organization.pk:
        raise ValueError("The program belongs to another organization.")
    adapter = adapter or get_adapter("primary")
    report = ImportReport()
    for record in adapter.financed_invoices(since=since):
        try:
            if _import_invoice(organization=organization, program=program, record=record, actor=actor):
                report.invoices_created += 1
            else:
                report.invoices_skipped += 1
        except (APIException, DjangoValidationError, LookupError) as exc:
            report.errors.append(f"invoice {record.external_id}: {_message(exc)}")
    for repayment in adapter.repayments(since=since):
        invoice = Invoice.objects.filter(organization=organization, external_id=repayment.invoice_external_id).first()
        if invoice is None:
            report.errors.append(f"repayment {repayment.reference}: unknown invoice {repayment.invoice_external_id}")
            continue
        try:
            recorded = repayment_record(invoice=invoice, amount=repayment.amount, received_on=repayment.received_on,
                                        reference=repayment.reference, actor=actor, source=RepaymentSource.PRIMARY)
        except APIException as exc:
            report.errors.append(f"repayment {repayment.reference}: {_message(exc)}")
            continue
        if recorded.created:
            report.repayments_created += 1
        else:
            report.repayments_skipped += 1
    return report


def _message(exc: Exception) -> str:
    code = getattr(exc, "code", None) or getattr(exc, "default_code", None)
    detail = getattr(exc, "detail", None) or str(exc)
    return f"{code}: {detail}" if code else str(detail)
