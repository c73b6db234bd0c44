"""Disbursal, repayments (partial, full, idempotent), overdue marking and interest: every
rupee in the ledger, and `reconcile` clean at the end."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core import outbox
from core.errors import DomainError
from invoices.enums import FinanceRequestStatus, InvoiceStatus, RepaymentSource, WorkflowAction
from invoices.models import Counterparty, FinanceRequest, Invoice, Program, Repayment, WorkflowEvent
from invoices.services import (
    REPAID_TOPIC,
    finance_request_create,
    finance_request_disburse,
    finance_request_sign,
    overdue_mark,
    repayment_record,
)
from invoices.tasks import overdue_sweep_task
from tests.invoices.factories import InvoiceFactory
from wallet.models import JournalEntry
from wallet.selectors import wallet_system_balance

pytestmark = pytest.mark.django_db

ISSUED = date(2026, 1, 1)
DUE = date(2026, 3, 2)  # 60 days


def _balances():
    return {kind: wallet_system_balance(kind=kind) for kind in ("bank", "loan_book", "fees")}


def _approved(world, amount="100000.00"):
    invoice = InvoiceFactory(counterparty=world.counterparty, amount=Decimal(amount), issue_date=ISSUED, due_date=DUE)
    request = finance_request_create(invoice=invoice, actor=world.signer_a, today=ISSUED)
    finance_request_sign(finance_request=request, actor=world.signer_a)
    finance_request_sign(finance_request=request, actor=world.signer_b)
    return invoice, request


def _disbursed(world, amount="100000.00"):
    invoice, request = _approved(world, amount)
    return invoice, finance_request_disburse(finance_request=request, actor=world.admin, on=ISSUED)


@pytest.fixture
def repaid_messages():
    """Register a handler for `invoice.repaid` for the test (none exists yet) so the event
    is stored and delivered; remove it afterwards."""
    received: list[dict] = []

    def handler(payload):
        received.append(payload)

    outbox._handlers.setdefault(REPAID_TOPIC, {})["tests.repaid"] = handler
    yield received
    outbox._handlers[REPAID_TOPIC].pop("tests.repaid")


def test_disbursal_pays_the_net_and_books_the_interest(world, assert_reconciled):
    invoice, request = _disbursed(world)
    assert request.status == FinanceRequestStatus.DISBURSED
    assert (request.tenor_days, request.interest_amount, request.net_disbursal_amount, request.disbursed_on) == (
        60, Decimal("1578.08"), Decimal("78421.92"), ISSUED)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.FINANCED
    # Money out of the bank: the net; earned upfront: the interest; owed: the finance amount.
    assert _balances() == {"bank": Decimal("78421.92"), "loan_book": Decimal("-80000.00"),
                           "fees": Decimal("1578.08")}
    assert set(JournalEntry.objects.values_list("kind", flat=True)) == {"invoice.disbursal", "invoice.interest"}
    assert WorkflowEvent.objects.filter(finance_request=request).last().action == WorkflowAction.DISBURSED
    assert_reconciled()


def test_disbursal_is_re_dated_to_the_day_it_happens(world, assert_reconciled):
    _invoice, request = _approved(world)
    request = finance_request_disburse(finance_request=request, actor=world.admin, on=DUE - timedelta(days=30))
    # 80000 * 12% * 30 / 365 = 789.04
    assert (request.tenor_days, request.interest_amount, request.net_disbursal_amount) == (
        30, Decimal("789.04"), Decimal("79210.96"))
    assert _balances() == {"bank": Decimal("79210.96"), "loan_book": Decimal("-80000.00"), "fees": Decimal("789.04")}
    assert_reconciled()


def test_only_an_approved_request_is_disbursed_and_only_once(world):
    invoice = InvoiceFactory(counterparty=world.counterparty, issue_date=ISSUED, due_date=DUE)
    request = finance_request_create(invoice=invoice, actor=world.signer_a, today=ISSUED)
    with pytest.raises(DomainError) as caught:
        finance_request_disburse(finance_request=request, actor=world.admin, on=ISSUED)
    assert caught.value.code == "invalid_state"
    _invoice, approved = _approved(world)
    finance_request_disburse(finance_request=approved, actor=world.admin, on=ISSUED)
    with pytest.raises(DomainError) as caught:
        finance_request_disburse(finance_request=approved, actor=world.admin, on=ISSUED)
    assert caught.value.code == "invalid_state"
    assert JournalEntry.objects.count() == 2
    assert _balances()["loan_book"] == Decimal("-80000.00")


def test_partial_then_full_repayment_settles_and_releases_the_limits(world, assert_reconciled, repaid_messages,
                                                                       django_capture_on_commit_callbacks):
    invoice, request = _disbursed(world)
    with django_capture_on_commit_callbacks(execute=True):
        first = repayment_record(invoice=invoice, amount=Decimal("30000.00"), received_on=DUE, reference="UTR-1",
                                 actor=world.admin)
    assert first.created
    request.refresh_from_db()
    invoice.refresh_from_db()
    assert (request.status, request.principal_repaid, request.outstanding_amount) == (
        FinanceRequestStatus.DISBURSED, Decimal("30000.00"), Decimal("50000.00"))
    assert invoice.status == InvoiceStatus.PARTIALLY_SETTLED
    assert Program.objects.get(pk=world.program.pk).used_limit == Decimal("50000.00")
    assert Counterparty.objects.get(pk=world.counterparty.pk).used_limit == Decimal("50000.00")
    assert _balances()["loan_book"] == Decimal("-50000.00")

    with django_capture_on_commit_callbacks(execute=True):
        repayment_record(invoice=invoice, amount=Decimal("50000.00"), received_on=DUE, reference="UTR-2",
                         actor=world.admin)
    request.refresh_from_db()
    invoice.refresh_from_db()
    assert (request.status, request.outstanding_amount) == (FinanceRequestStatus.REPAID, Decimal("0.00"))
    assert invoice.status == InvoiceStatus.SETTLED
    assert Program.objects.get(pk=world.program.pk).used_limit == Decimal("0.00")
    assert Counterparty.objects.get(pk=world.counterparty.pk).used_limit == Decimal("0.00")
    # The cycle closed: nothing owed, the interest earned, the bank up by the same.
    assert _balances() == {"bank": Decimal("-1578.08"), "loan_book": Decimal("0.00"), "fees": Decimal("1578.08")}
    assert repaid_messages == [
        {"organization_id": world.organization.pk, "invoice_id": invoice.pk, "finance_request_id": request.pk,
         "amount": "30000.00", "received_on": "2026-03-02", "reference": "UTR-1"},
        {"organization_id": world.organization.pk, "invoice_id": invoice.pk, "finance_request_id": request.pk,
         "amount": "50000.00", "received_on": "2026-03-02", "reference": "UTR-2"},
    ]
    with pytest.raises(DomainError) as caught:
        repayment_record(invoice=invoice, amount=Decimal("1.00"), received_on=DUE, reference="UTR-3",
                         actor=world.admin)
    assert caught.value.code == "invalid_state"
    assert_reconciled()


def test_a_repayment_is_idempotent_by_reference(world, assert_reconciled):
    invoice, _request = _disbursed(world)
    first = repayment_record(invoice=invoice, amount=Decimal("10000.00"), received_on=DUE, reference="UTR-9",
                             actor=world.admin)
    again = repayment_record(invoice=invoice, amount=Decimal("10000.00"), received_on=DUE, reference="UTR-9",
                             actor=world.admin)
    assert (again.created, again.repayment.pk) == (False, first.repayment.pk)
    with pytest.raises(DomainError) as caught:
        repayment_record(invoice=invoice, amount=Decimal("20000.00"), received_on=DUE, reference="UTR-9",
                         actor=world.admin)
    assert caught.value.code == "repayment_reference_reused"
    assert Repayment.objects.count() == 1
    assert _balances()["loan_book"] == Decimal("-70000.00")
    assert_reconciled()


def test_a_repayment_above_what_is_owed_is_refused(world):
    invoice, request = _disbursed(world)
    before = _balances()
    with pytest.raises(DomainError) as caught:
        repayment_record(invoice=invoice, amount=Decimal("80000.01"), received_on=DUE, reference="UTR-X",
                         actor=world.admin)
    assert caught.value.code == "repayment_exceeds_outstanding"
    assert _balances() == before
    assert not Repayment.objects.exists()
    request.refresh_from_db()
    assert request.principal_repaid == Decimal("0.00")


def test_an_undisbursed_invoice_takes_no_repayment(world):
    invoice, _request = _approved(world)
    with pytest.raises(DomainError) as caught:
        repayment_record(invoice=invoice, amount=Decimal("1.00"), received_on=DUE, reference="UTR-0",
                         actor=world.admin)
    assert caught.value.code == "invalid_state"


def test_overdue_after_grace_accrues_interest_and_repayment_pays_it_first(world, assert_reconciled):
    invoice, request = _disbursed(world)
    # Grace is 5 days: on due + 5 nothing happens.
    assert overdue_mark(organization_id=world.organization.pk, today=DUE + timedelta(days=5)) == 0
    request.refresh_from_db()
    assert request.status == FinanceRequestStatus.DISBURSED
    # On due + 6 it is overdue, with 6 days of interest: 80000 * 24% * 6 / 365 = 315.62.
    assert overdue_mark(organization_id=world.organization.pk, today=DUE + timedelta(days=6)) == 1
    request.refresh_from_db()
    invoice.refresh_from_db()
    assert (request.status, request.overdue_interest, request.overdue_since) == (
        FinanceRequestStatus.OVERDUE, Decimal("315.62"), DUE + timedelta(days=6))
    assert invoice.status == InvoiceStatus.OVERDUE
    # A second run the same day accrues nothing; the next day accrues one more day (52.60).
    assert overdue_mark(organization_id=world.organization.pk, today=DUE + timedelta(days=6)) == 0
    overdue_mark(organization_id=world.organization.pk, today=DUE + timedelta(days=7))
    request.refresh_from_db()
    assert request.overdue_interest == Decimal("368.22")
    assert _balances() == {"bank": Decimal("78421.92"), "loan_book": Decimal("-80368.22"),
                           "fees": Decimal("1946.30")}

    # Paid 10 days after the due date: 3 more days accrue first (80000 * 24% * 3 / 365 = 157.81),
    # then the money pays the interest (526.03) and the rest goes to principal.
    recorded = repayment_record(invoice=invoice, amount=Decimal("40526.03"), received_on=DUE + timedelta(days=10),
                                reference="LATE-1", actor=world.admin)
    assert (recorded.repayment.interest_amount, recorded.repayment.principal_amount) == (
        Decimal("526.03"), Decimal("40000.00"))
    request.refresh_from_db()
    invoice.refresh_from_db()
    assert (request.status, request.outstanding_amount) == (FinanceRequestStatus.OVERDUE, Decimal("40000.00"))
    assert invoice.status == InvoiceStatus.OVERDUE
    repayment_record(invoice=invoice, amount=Decimal("40000.00"), received_on=DUE + timedelta(days=10),
                     reference="LATE-2", actor=world.admin)
    request.refresh_from_db()
    assert request.status == FinanceRequestStatus.REPAID
    assert _balances() == {"bank": Decimal("-2104.11"), "loan_book": Decimal("0.00"), "fees": Decimal("2104.11")}
    assert_reconciled()


def test_the_beat_job_fans_out_per_organization(world, other_world, assert_reconciled):
    _disbursed(world)
    _disbursed(other_world)
    FinanceRequest.objects.update(due_date=date(2000, 1, 1))  # long overdue in both organizations
    assert overdue_sweep_task.apply().get() == 2
    assert set(FinanceRequest.objects.values_list("organization_id", "status")) == {
        (world.organization.pk, "overdue"), (other_world.organization.pk, "overdue")}
    assert Invoice.objects.filter(status=InvoiceStatus.OVERDUE).count() == 2
    assert_reconciled()


def test_repayment_source_is_recorded(world):
    invoice, _request = _disbursed(world)
    recorded = repayment_record(invoice=invoice, amount=Decimal("1.00"), received_on=DUE, reference="P-1",
                                actor=None, source=RepaymentSource.PRIMARY)
    assert recorded.repayment.source == RepaymentSource.PRIMARY
