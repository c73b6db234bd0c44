"""The sandbox payout adapter's fault switch (used by bench/chaos): a provider that fails
after executing the payout, or never answers, leaves the withdrawal in flight with its money
in `pending_withdrawal`; asking again with the same key settles it exactly once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from integrations import payouts
from integrations.errors import IntegrationError, IntegrationTimeout
from integrations.models import ApiCall
from integrations.payouts import SANDBOX_FAULT_CACHE_KEY, Payee, SandboxPayouts, sandbox_payout_fault
from tests.wallet.factories import fund, verified_bank_account, verified_investor
from wallet.enums import WithdrawalStatus
from wallet.models import JournalEntry, Withdrawal
from wallet.selectors import wallet_balance
from wallet.services import withdrawal_create, withdrawal_resume

PAYEE = Payee(name="A Payee", account_number="000111222333", ifsc="HDFC0001234")


@pytest.fixture(autouse=True)
def no_fault(monkeypatch):
    monkeypatch.delenv("SANDBOX_PAYOUT_FAULT", raising=False)
    monkeypatch.setattr(payouts, "SANDBOX_TIMEOUT_SECONDS", 0.01)
    cache.delete(SANDBOX_FAULT_CACHE_KEY)
    yield
    cache.delete(SANDBOX_FAULT_CACHE_KEY)


def pay(amount: str = "10.00"):
    return SandboxPayouts(secret="s").create_payout(idempotency_key="withdrawal-1", amount=Decimal(amount),
                                                   currency="INR", payee=PAYEE, narration="n")


@pytest.mark.django_db
def test_no_fault_by_default_and_unknown_values_are_ignored():
    assert sandbox_payout_fault() == ""
    cache.set(SANDBOX_FAULT_CACHE_KEY, "explode")
    assert sandbox_payout_fault() == ""
    assert pay().status == "processed"


@pytest.mark.django_db
def test_after_execute_fault_from_the_cache_raises_without_a_status():
    cache.set(SANDBOX_FAULT_CACHE_KEY, "after_execute")
    with pytest.raises(IntegrationError) as raised:
        pay()
    assert raised.value.status is None and not isinstance(raised.value, IntegrationTimeout)
    # It executed: the call is logged as made.
    assert list(ApiCall.objects.values_list("operation", "outcome")) == [("create_payout", "ok")]
    cache.delete(SANDBOX_FAULT_CACHE_KEY)  # healed: the same key answers `processed`
    assert pay().status == "processed"


@pytest.mark.django_db
def test_timeout_fault_from_the_environment_wins_over_the_cache(monkeypatch):
    monkeypatch.setenv("SANDBOX_PAYOUT_FAULT", "timeout")
    cache.set(SANDBOX_FAULT_CACHE_KEY, "after_execute")
    with pytest.raises(IntegrationTimeout):
        pay()
    assert list(ApiCall.objects.values_list("outcome", flat=True)) == ["timeout"]


@pytest.mark.parametrize("fault", ["after_execute", "timeout"])
@pytest.mark.django_db(transaction=True)
def test_a_faulted_payout_stays_in_flight_then_settles_once(fault, assert_reconciled):
    user = verified_investor()
    fund(user, "100.00")
    bank_account = verified_bank_account(user)
    cache.set(SANDBOX_FAULT_CACHE_KEY, fault)
    # Eager Celery: the outbox drains and the payout is sent right after the commit.
    withdrawal = withdrawal_create(user=user, amount=Decimal("40.00"), bank_account_id=bank_account.pk)
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PROCESSING
    assert withdrawal.last_error != ""
    balance = wallet_balance(user=user)
    assert (balance.available, balance.pending_withdrawal) == (Decimal("60.00"), Decimal("40.00"))
    assert_reconciled()

    cache.delete(SANDBOX_FAULT_CACHE_KEY)
    later = timezone.now() + timedelta(hours=1)
    assert withdrawal_resume(now=later) == 1
    assert withdrawal_resume(now=later) == 0  # settled: nothing left to send
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PAID
    kinds = list(JournalEntry.objects.filter(reference=f"withdrawal:{withdrawal.pk}").order_by("id")
                 .values_list("kind", flat=True))
    assert kinds == ["withdrawal.requested", "withdrawal.paid"]
    balance = wallet_balance(user=user)
    assert (balance.available, balance.pending_withdrawal) == (Decimal("60.00"), Decimal("0.00"))
    assert Withdrawal.objects.count() == 1
    assert_reconciled()
