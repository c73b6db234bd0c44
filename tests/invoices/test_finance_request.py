"""Requesting finance: terms, limits under row locks, state and permission rules."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import DomainError
from invoices.enums import FinanceRequestStatus, InvoiceStatus, ProgramStatus, WorkflowAction
from invoices.models import Counterparty, FinanceRequest, Program, WorkflowEvent
from invoices.services import finance_request_create, finance_request_reject
from tests.conftest import requires_postgres
from tests.invoices.conftest import build_world
from tests.invoices.factories import InvoiceFactory

pytestmark = pytest.mark.django_db


def _invoice(world, amount="100000.00", days=60, **kwargs):
    today = timezone.localdate()
    return InvoiceFactory(counterparty=world.counterparty, amount=Decimal(amount), issue_date=today,
                          due_date=today + timedelta(days=days), **kwargs)


def _used(world):
    return (Program.objects.get(pk=world.program.pk).used_limit,
            Counterparty.objects.get(pk=world.counterparty.pk).used_limit)


def test_request_fixes_the_terms_and_reserves_the_limits(world):
    invoice = _invoice(world)
    request = finance_request_create(invoice=invoice, actor=world.signer_a)
    assert request.status == FinanceRequestStatus.AWAITING_SIGNATURES
    assert (request.finance_amount, request.finance_percentage) == (Decimal("80000.00"), Decimal("80.00"))
    assert (request.tenor_days, request.interest_amount, request.net_disbursal_amount) == (
        60, Decimal("1578.08"), Decimal("78421.92"))
    assert request.signatures_required == 2
    assert _used(world) == (Decimal("80000.00"), Decimal("80000.00"))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.FINANCE_REQUESTED
    event = WorkflowEvent.objects.get(finance_request=request)
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        WorkflowAction.REQUESTED, "", FinanceRequestStatus.AWAITING_SIGNATURES, world.signer_a)


def test_only_the_sellers_signatories_may_request(world):
    invoice = _invoice(world)
    for outsider in (world.buyer_user, world.admin):
        with pytest.raises(DomainError) as caught:
            finance_request_create(invoice=invoice, actor=outsider)
        assert caught.value.code == "not_a_signatory"
    assert not FinanceRequest.objects.exists()
    assert _used(world) == (Decimal("0.00"), Decimal("0.00"))


def test_an_invoice_is_financed_once(world):
    invoice = _invoice(world)
    finance_request_create(invoice=invoice, actor=world.signer_a)
    with pytest.raises(DomainError) as caught:
        finance_request_create(invoice=invoice, actor=world.signer_b)
    assert caught.value.code == "invalid_state"
    assert FinanceRequest.objects.count() == 1
    assert _used(world) == (Decimal("80000.00"), Decimal("80000.00"))


def test_a_suspended_program_takes_no_requests(world):
    invoice = _invoice(world)
    Program.objects.filter(pk=world.program.pk).update(status=ProgramStatus.SUSPENDED)
    with pytest.raises(DomainError) as caught:
        finance_request_create(invoice=invoice, actor=world.signer_a)
    assert caught.value.code == "program_not_active"
    assert _used(world) == (Decimal("0.00"), Decimal("0.00"))


def test_request_beyond_the_counterparty_limit_is_refused(world):
    Counterparty.objects.filter(pk=world.counterparty.pk).update(limit_amount=Decimal("100000.00"))
    finance_request_create(invoice=_invoice(world, "100000.00"), actor=world.signer_a)  # uses 80000
    with pytest.raises(DomainError) as caught:
        finance_request_create(invoice=_invoice(world, "30000.00"), actor=world.signer_a)  # needs 24000 > 20000
    assert caught.value.code == "limit_exceeded"
    assert caught.value.status_code == 422
    assert _used(world) == (Decimal("80000.00"), Decimal("80000.00"))
    assert FinanceRequest.objects.count() == 1


def test_request_beyond_the_program_limit_is_refused(world):
    Program.objects.filter(pk=world.program.pk).update(max_limit_amount=Decimal("100000.00"))
    finance_request_create(invoice=_invoice(world, "100000.00"), actor=world.signer_a)
    with pytest.raises(DomainError) as caught:
        finance_request_create(invoice=_invoice(world, "25001.25"), actor=world.signer_a)  # 20001.00 > 20000
    assert caught.value.code == "limit_exceeded"
    assert _used(world) == (Decimal("80000.00"), Decimal("80000.00"))
    # Exactly the rest fits.
    finance_request_create(invoice=_invoice(world, "25000.00"), actor=world.signer_a)
    assert _used(world) == (Decimal("100000.00"), Decimal("100000.00"))


def test_rejection_releases_the_limits_and_the_invoice(world):
    invoice = _invoice(world)
    request = finance_request_create(invoice=invoice, actor=world.signer_a)
    finance_request_reject(finance_request=request, actor=world.signer_b, reason="wrong buyer")
    assert _used(world) == (Decimal("0.00"), Decimal("0.00"))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UPLOADED
    again = finance_request_create(invoice=invoice, actor=world.signer_a)  # can be requested again
    assert again.status == FinanceRequestStatus.AWAITING_SIGNATURES


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("limit_on", ["program", "counterparty"])
def test_concurrent_requests_never_exceed_the_last_of_a_limit(limit_on):
    """Four requests of 80000 race for 200000 of room: exactly two win, whichever limit binds."""
    world = build_world()
    if limit_on == "program":
        Program.objects.filter(pk=world.program.pk).update(used_limit=Decimal("100000.00"),
                                                           max_limit_amount=Decimal("300000.00"))
    else:
        Counterparty.objects.filter(pk=world.counterparty.pk).update(limit_amount=Decimal("200000.00"))
    invoices = [_invoice(world) for _ in range(4)]
    barrier = threading.Barrier(len(invoices), timeout=10)
    outcomes: list[str] = []

    def request(invoice):
        try:
            barrier.wait()
            finance_request_create(invoice=invoice, actor=world.signer_a)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(invoice,)) for invoice in invoices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["limit_exceeded", "limit_exceeded", "ok", "ok"]
    program_used, counterparty_used = _used(world)
    assert FinanceRequest.objects.count() == 2
    if limit_on == "program":
        assert program_used == Decimal("260000.00")
        assert counterparty_used == Decimal("160000.00")
    else:
        assert (program_used, counterparty_used) == (Decimal("160000.00"), Decimal("160000.00"))
