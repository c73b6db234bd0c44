import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.errors import IntegrationError
from integrations.payouts import SandboxPayouts
from kyc.enums import BankAccountStatus
from tests.conftest import authenticate
from tests.kyc.factories import BankAccountFactory
from tests.wallet.factories import fund, verified_bank_account, verified_investor
from wallet.enums import AccountKind, WithdrawalStatus
from wallet.models import JournalEntry, Withdrawal
from wallet.selectors import wallet_balance, wallet_system_balance
from wallet.services import withdrawal_create, withdrawal_resume

WITHDRAWALS = "/api/v1/wallet/withdrawals/"
WEBHOOK = "/api/v1/webhooks/payouts/sandbox/"


def balances(user):
    b = wallet_balance(user=user)
    return (b.available, b.held, b.pending_withdrawal)


def funded_client(amount="100.00"):
    user = verified_investor()
    fund(user, amount)
    return user, verified_bank_account(user), authenticate(APIClient(), user)


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_is_paid_to_the_bank(assert_reconciled):
    user, bank_account, client = funded_client()
    response = client.post(WITHDRAWALS, {"amount": "40.00", "bank_account": bank_account.pk},
                           HTTP_IDEMPOTENCY_KEY="w-1")
    assert response.status_code == 201, response.json()
    withdrawal = Withdrawal.objects.get(pk=response.json()["id"])
    # Eager: the outbox drained after commit and the payout ran after the drain committed.
    assert withdrawal.status == WithdrawalStatus.PAID
    assert withdrawal.provider_payout_id == f"sbxpout_withdrawal-{withdrawal.pk}"
    assert balances(user) == (Decimal("60.00"), 0, 0)
    assert wallet_system_balance(kind=AccountKind.BANK) == Decimal("-60.00")
    kinds = list(JournalEntry.objects.filter(reference=f"withdrawal:{withdrawal.pk}").order_by("id")
                 .values_list("kind", flat=True))
    assert kinds == ["withdrawal.requested", "withdrawal.paid"]
    assert client.get(f"{WITHDRAWALS}{withdrawal.pk}/").json()["status"] == "paid"
    assert_reconciled()


@pytest.mark.django_db(transaction=True)
def test_a_failed_payout_is_reversed_to_available(assert_reconciled):
    user, bank_account, client = funded_client()
    response = client.post(WITHDRAWALS, {"amount": "40.13", "bank_account": bank_account.pk})
    withdrawal = Withdrawal.objects.get(pk=response.json()["id"])
    assert withdrawal.status == WithdrawalStatus.FAILED
    assert "13" in withdrawal.failure_reason
    assert balances(user) == (Decimal("100.00"), 0, 0)
    statement = client.get("/api/v1/wallet/ledger/").json()["results"]
    assert [(row["kind"], row["amount"], row["balance_after"]) for row in statement[:2]] == [
        ("withdrawal.failed", "40.13", "100.00"), ("withdrawal.requested", "-40.13", "59.87")]
    assert_reconciled()


@pytest.mark.django_db(transaction=True)
def test_an_unknown_outcome_stays_processing_and_the_resume_job_pays_it(monkeypatch, assert_reconciled):
    user, bank_account, client = funded_client()

    def timeout(self, **kwargs):
        raise IntegrationError("timed out", service="payouts", retryable=True)

    with monkeypatch.context() as patch:
        patch.setattr(SandboxPayouts, "create_payout", timeout)
        withdrawal_id = client.post(WITHDRAWALS, {"amount": "10.00", "bank_account": bank_account.pk}).json()["id"]
    withdrawal = Withdrawal.objects.get(pk=withdrawal_id)
    assert withdrawal.status == WithdrawalStatus.PROCESSING and withdrawal.attempts == 1
    assert balances(user) == (Decimal("90.00"), 0, Decimal("10.00"))
    assert_reconciled()

    assert withdrawal_resume() == 0  # not stale yet
    assert withdrawal_resume(now=timezone.now() + timedelta(minutes=11)) == 1
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PAID and withdrawal.attempts == 2
    assert balances(user) == (Decimal("90.00"), 0, 0)
    assert_reconciled()


@pytest.mark.django_db(transaction=True)
def test_a_definite_refusal_by_the_provider_returns_the_money(monkeypatch, assert_reconciled):
    user, bank_account, client = funded_client()

    def refuse(self, **kwargs):
        raise IntegrationError("bad ifsc", service="payouts", status=400)

    monkeypatch.setattr(SandboxPayouts, "create_payout", refuse)
    withdrawal_id = client.post(WITHDRAWALS, {"amount": "10.00", "bank_account": bank_account.pk}).json()["id"]
    assert Withdrawal.objects.get(pk=withdrawal_id).status == WithdrawalStatus.FAILED
    assert balances(user) == (Decimal("100.00"), 0, 0)
    assert_reconciled()


@pytest.mark.django_db
def test_insufficient_funds_is_422_and_nothing_moves(assert_reconciled):
    user, bank_account, client = funded_client("10.00")
    response = client.post(WITHDRAWALS, {"amount": "10.01", "bank_account": bank_account.pk})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "insufficient_funds"
    assert not Withdrawal.objects.exists()
    assert balances(user) == (Decimal("10.00"), 0, 0)
    assert_reconciled()


@pytest.mark.django_db
def test_only_the_callers_verified_bank_account_is_accepted():
    user, _bank_account, client = funded_client()
    pending = BankAccountFactory(user=user, status=BankAccountStatus.PENDING)
    response = client.post(WITHDRAWALS, {"amount": "1.00", "bank_account": pending.pk})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "bank_account_required"
    someone_else = verified_bank_account(verified_investor())
    response = client.post(WITHDRAWALS, {"amount": "1.00", "bank_account": someone_else.pk})
    assert response.status_code == 404
    assert not Withdrawal.objects.exists()
    assert balances(user) == (Decimal("100.00"), 0, 0)


# --- Payout status webhooks (the payout itself not run: the test stays in one transaction) ---

def pending_withdrawal(amount="30.00"):
    user = verified_investor()
    fund(user, "100.00")
    withdrawal = withdrawal_create(user=user, amount=Decimal(amount),
                                   bank_account_id=verified_bank_account(user).pk)
    return user, withdrawal


def deliver(api_client, withdrawal, event_type, event_id, **options):
    headers, body = SandboxPayouts().sign_webhook(
        event_type=event_type, payout_id=f"sbxpout_withdrawal-{withdrawal.pk}",
        reference=f"withdrawal-{withdrawal.pk}", amount=options.pop("amount", withdrawal.amount),
        event_id=event_id, **options)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    return api_client.generic("POST", WEBHOOK, body, content_type="application/json", **extra)


@pytest.mark.django_db
def test_payout_webhooks_settle_once_in_any_order(api_client, assert_reconciled):
    user, withdrawal = pending_withdrawal()
    assert balances(user) == (Decimal("70.00"), 0, Decimal("30.00"))
    assert deliver(api_client, withdrawal, "payout.processed", "p1").json() == {"outcome": "paid"}
    assert deliver(api_client, withdrawal, "payout.processed", "p1").json() == {"outcome": "duplicate"}
    assert deliver(api_client, withdrawal, "payout.failed", "p2").json() == {"outcome": "ignored"}
    assert balances(user) == (Decimal("70.00"), 0, 0)
    assert_reconciled()
    # The bank sends the money back later.
    assert deliver(api_client, withdrawal, "payout.reversed", "p3", reason="account closed").json() == {
        "outcome": "reversed"}
    assert balances(user) == (Decimal("100.00"), 0, 0)
    assert deliver(api_client, withdrawal, "payout.reversed", "p4").json() == {"outcome": "ignored"}
    assert balances(user) == (Decimal("100.00"), 0, 0)
    assert_reconciled()


@pytest.mark.django_db
def test_a_failed_payout_webhook_returns_the_money_and_a_late_success_is_ignored(api_client, assert_reconciled):
    user, withdrawal = pending_withdrawal()
    assert deliver(api_client, withdrawal, "payout.failed", "f1", reason="beneficiary bank down").json() == {
        "outcome": "failed"}
    assert deliver(api_client, withdrawal, "payout.processed", "f2").json() == {"outcome": "ignored"}
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.FAILED and withdrawal.failure_reason == "beneficiary bank down"
    assert balances(user) == (Decimal("100.00"), 0, 0)
    assert_reconciled()


@pytest.mark.django_db
def test_payout_webhooks_are_verified(api_client):
    user, withdrawal = pending_withdrawal()
    stale = deliver(api_client, withdrawal, "payout.processed", "s1", timestamp=int(time.time()) - 1000)
    assert stale.status_code == 400 and stale.json()["errors"][0]["code"] == "webhook_stale"
    wrong_amount = deliver(api_client, withdrawal, "payout.processed", "s2", amount=Decimal("1.00"))
    assert wrong_amount.status_code == 404
    assert balances(user) == (Decimal("70.00"), 0, Decimal("30.00"))


@pytest.mark.django_db
def test_the_withdrawal_list_is_the_callers_and_costs_fixed_queries(django_assert_max_num_queries):
    user, withdrawal = pending_withdrawal()
    pending_withdrawal()  # someone else's
    client = authenticate(APIClient(), user)
    with django_assert_max_num_queries(3):
        rows = client.get(WITHDRAWALS).json()["results"]
    assert [row["id"] for row in rows] == [withdrawal.pk]
    assert rows[0]["status"] == "pending" and rows[0]["amount"] == "30.00"
