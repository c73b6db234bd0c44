"""The signature chain: order, distinct signers, roles, wrong state, rejection, concurrency."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import DomainError
from invoices.enums import FinanceRequestStatus, PartyRole, WorkflowAction
from invoices.models import FinanceRequest, FinanceRequestSignature, Party, WorkflowEvent
from invoices.services import finance_request_create, finance_request_reject, finance_request_sign
from tests.conftest import requires_postgres
from tests.invoices.conftest import build_world
from tests.invoices.factories import InvoiceFactory, party_member

pytestmark = pytest.mark.django_db


def _request(world):
    today = timezone.localdate()
    invoice = InvoiceFactory(counterparty=world.counterparty, issue_date=today, due_date=today + timedelta(days=60))
    return finance_request_create(invoice=invoice, actor=world.signer_a)


def _refused(code, function, **kwargs):
    before = (FinanceRequestSignature.objects.count(), WorkflowEvent.objects.count())
    with pytest.raises(DomainError) as caught:
        function(**kwargs)
    assert caught.value.code == code
    assert (FinanceRequestSignature.objects.count(), WorkflowEvent.objects.count()) == before


def test_signatures_come_in_order_and_the_last_approves(world):
    Party.objects.filter(pk=world.seller.pk).update(signatures_required=3)
    world.seller.refresh_from_db()
    request = _request(world)
    assert request.signatures_required == 3
    finance_request_sign(finance_request=request, actor=world.signer_a)
    finance_request_sign(finance_request=request, actor=world.supervisor)
    request.refresh_from_db()
    assert (request.status, request.signatures_count) == (FinanceRequestStatus.AWAITING_SIGNATURES, 2)
    finance_request_sign(finance_request=request, actor=world.signer_b)
    request.refresh_from_db()
    assert request.status == FinanceRequestStatus.APPROVED
    steps = list(FinanceRequestSignature.objects.filter(finance_request=request).values_list("step", "signer", "role"))
    assert steps == [(1, world.signer_a.pk, PartyRole.ADMINISTRATOR), (2, world.supervisor.pk, PartyRole.SUPERVISOR),
                     (3, world.signer_b.pk, PartyRole.ADMINISTRATOR)]
    events = list(WorkflowEvent.objects.filter(finance_request=request).values_list(
        "action", "from_status", "to_status", "data__label"))
    assert events == [
        (WorkflowAction.REQUESTED, "", "awaiting_signatures", None),
        (WorkflowAction.SIGNED, "awaiting_signatures", "awaiting_signatures", "initial"),
        (WorkflowAction.SIGNED, "awaiting_signatures", "awaiting_signatures", "A"),
        (WorkflowAction.SIGNED, "awaiting_signatures", "approved", "B"),
    ]


def test_the_same_signer_cannot_take_two_steps(world):
    request = _request(world)
    finance_request_sign(finance_request=request, actor=world.signer_a)
    _refused("already_signed", finance_request_sign, finance_request=request, actor=world.signer_a)
    request.refresh_from_db()
    assert (request.status, request.signatures_count) == (FinanceRequestStatus.AWAITING_SIGNATURES, 1)


def test_only_the_requesting_partys_administrators_and_supervisors_sign(world, other_world):
    request = _request(world)
    buyer_admin = world.buyer_user                       # administrator of the other side
    outsider = other_world.signer_a                      # signatory in another organization
    for user in (buyer_admin, world.admin, outsider):
        _refused("not_a_signatory", finance_request_sign, finance_request=request, actor=user)
    request.refresh_from_db()
    assert request.signatures_count == 0


def test_a_removed_member_can_no_longer_sign(world):
    request = _request(world)
    world.seller.memberships.filter(user=world.signer_b).delete()
    _refused("not_a_signatory", finance_request_sign, finance_request=request, actor=world.signer_b)


def test_a_step_guard_refuses_a_stale_step(world):
    request = _request(world)
    finance_request_sign(finance_request=request, actor=world.signer_a, step=1)
    _refused("step_mismatch", finance_request_sign, finance_request=request, actor=world.signer_b, step=1)


def test_a_request_in_another_state_refuses_a_signature(world):
    request = _request(world)
    finance_request_sign(finance_request=request, actor=world.signer_a)
    finance_request_sign(finance_request=request, actor=world.signer_b)  # approved
    _refused("invalid_state", finance_request_sign, finance_request=request, actor=world.supervisor)
    other = _request(world)
    finance_request_reject(finance_request=other, actor=world.signer_b, reason="no")
    _refused("invalid_state", finance_request_sign, finance_request=other, actor=world.signer_a)


def test_rejection_at_any_step_ends_the_request(world):
    request = _request(world)
    finance_request_sign(finance_request=request, actor=world.signer_a)
    finance_request_reject(finance_request=request, actor=world.supervisor, reason="amount disputed")
    request.refresh_from_db()
    assert request.status == FinanceRequestStatus.REJECTED
    last = WorkflowEvent.objects.filter(finance_request=request).last()
    assert (last.action, last.from_status, last.to_status, last.actor, last.data["reason"]) == (
        WorkflowAction.REJECTED, "awaiting_signatures", "rejected", world.supervisor, "amount disputed")
    _refused("invalid_state", finance_request_reject, finance_request=request, actor=world.signer_a)


def test_after_approval_only_an_admin_may_reject(world):
    request = _request(world)
    finance_request_sign(finance_request=request, actor=world.signer_a)
    finance_request_sign(finance_request=request, actor=world.signer_b)
    _refused("invalid_state", finance_request_reject, finance_request=request, actor=world.signer_a)
    _refused("not_a_signatory", finance_request_reject, finance_request=request, actor=world.buyer_user)
    finance_request_reject(finance_request=request, actor=world.admin, as_admin=True, reason="risk")
    request.refresh_from_db()
    assert request.status == FinanceRequestStatus.REJECTED


def test_workflow_events_are_append_only(world):
    request = _request(world)
    event = WorkflowEvent.objects.get(finance_request=request)
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - the database refuses; any error type
        WorkflowEvent.objects.filter(pk=event.pk).update(action="signed")
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017
        WorkflowEvent.objects.filter(pk=event.pk).delete()
    assert WorkflowEvent.objects.get(pk=event.pk).action == WorkflowAction.REQUESTED


def test_the_database_refuses_a_doubled_step(world):
    request = _request(world)
    FinanceRequestSignature.objects.create(organization=world.organization, finance_request=request, step=1,
                                           signer=world.signer_a, role=PartyRole.ADMINISTRATOR)
    with pytest.raises(IntegrityError), transaction.atomic():
        FinanceRequestSignature.objects.create(organization=world.organization, finance_request=request, step=1,
                                               signer=world.signer_b, role=PartyRole.ADMINISTRATOR)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_signatures_neither_skip_nor_double_a_step():
    """Four distinct signatories sign a 2-signature request at once: steps 1 and 2 are taken
    once each, the request is approved, and the other two are refused as invalid_state."""
    world = build_world(signatures_required=2)
    extra = party_member(world.seller, role=PartyRole.SUPERVISOR)
    request = _request(world)
    signers = [world.signer_a, world.signer_b, world.supervisor, extra]
    barrier = threading.Barrier(len(signers), timeout=10)
    outcomes: list[str] = []

    def sign(user):
        try:
            barrier.wait()
            finance_request_sign(finance_request=request, actor=user)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(user,)) for user in signers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["invalid_state", "invalid_state", "ok", "ok"]
    request = FinanceRequest.objects.get(pk=request.pk)
    assert (request.status, request.signatures_count) == (FinanceRequestStatus.APPROVED, 2)
    assert list(FinanceRequestSignature.objects.filter(finance_request=request).values_list("step", flat=True)) == [
        1, 2]
    assert WorkflowEvent.objects.filter(finance_request=request, action=WorkflowAction.SIGNED).count() == 2
    assert Decimal(request.finance_amount) == Decimal("80000.00")
