"""Real threads racing for the same money, on PostgreSQL (row locks, unique indexes)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from integrations.payments import SandboxPayments
from tests.accounts.factories import UserFactory
from tests.concurrency import run_concurrently
from tests.conftest import authenticate, requires_postgres
from tests.wallet.factories import fund, verified_bank_account, verified_investor
from wallet.enums import DepositMethod, DepositStatus
from wallet.errors import InsufficientFunds
from wallet.holds import register_hold_provider, unregister_hold_provider
from wallet.models import Deposit, JournalEntry, LedgerAccount, ProviderEvent, Withdrawal
from wallet.selectors import wallet_balance
from wallet.services import wallet_hold, wallet_open, withdrawal_create

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("writers")]


def balances(user):
    b = wallet_balance(user=user)
    return (b.available, b.held, b.pending_withdrawal)


def test_two_withdrawals_of_sixty_percent_at_once_exactly_one_succeeds(assert_reconciled):
    user = verified_investor()
    fund(user, "100.00")
    bank_account = verified_bank_account(user)
    clients = [authenticate(APIClient(), user) for _ in range(2)]
    responses = run_concurrently([
        lambda c=c: c.post("/api/v1/wallet/withdrawals/", {"amount": "60.00", "bank_account": bank_account.pk})
        for c in clients
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 422]
    refused = next(r for r in responses if r.status_code == 422)
    assert refused.json()["errors"][0]["code"] == "insufficient_funds"
    assert Withdrawal.objects.count() == 1
    assert balances(user) == (Decimal("40.00"), 0, 0)  # the one that succeeded was paid (eager)
    assert_reconciled()


def test_twenty_identical_requests_with_one_key_make_one_withdrawal(assert_reconciled):
    user = verified_investor()
    fund(user, "100.00")
    bank_account = verified_bank_account(user)
    clients = [authenticate(APIClient(), user) for _ in range(20)]
    responses = run_concurrently([
        lambda c=c: c.post("/api/v1/wallet/withdrawals/", {"amount": "10.00", "bank_account": bank_account.pk},
                           HTTP_IDEMPOTENCY_KEY="same-key-1")
        for c in clients
    ])
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 409}, codes
    assert 201 in codes
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    assert Withdrawal.objects.count() == 1
    assert JournalEntry.objects.filter(kind="withdrawal.requested").count() == 1
    assert balances(user) == (Decimal("90.00"), 0, 0)
    assert_reconciled()


def test_the_same_webhook_ten_times_at_once_credits_once(assert_reconciled):
    user = verified_investor()
    deposit = Deposit.objects.create(user=user, amount=Decimal("500.00"), method=DepositMethod.GATEWAY,
                                     status=DepositStatus.PENDING, provider="sandbox",
                                     provider_payment_id="sbxpay_race")
    headers, body = SandboxPayments().sign_webhook(event_type="payment.captured", payment_id="sbxpay_race",
                                                   amount=Decimal("500.00"), event_id="evt_race")
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    clients = [APIClient() for _ in range(10)]
    responses = run_concurrently([
        lambda c=c: c.generic("POST", "/api/v1/webhooks/payments/sandbox/", body, content_type="application/json",
                              **extra)
        for c in clients
    ])
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["credited"] + ["duplicate"] * 9
    assert balances(user) == (Decimal("500.00"), 0, 0)
    assert JournalEntry.objects.filter(kind="deposit").count() == 1
    assert ProviderEvent.objects.count() == 1
    deposit.refresh_from_db()
    assert deposit.status == DepositStatus.CREDITED
    assert_reconciled()


def test_hold_and_withdraw_racing_for_the_same_money_never_go_negative(assert_reconciled):
    expected: dict[str, Decimal] = {}
    register_hold_provider("race")(lambda: dict(expected))
    try:
        for round_number in range(3):
            user = verified_investor()
            fund(user, "100.00")
            bank_account = verified_bank_account(user)
            reference = f"race:{round_number}"
            results = run_concurrently([
                lambda u=user, r=reference: wallet_hold(user=u, amount=Decimal("80.00"), reference=r),
                lambda u=user, b=bank_account: withdrawal_create(user=u, amount=Decimal("80.00"),
                                                                 bank_account_id=b.pk),
            ])
            failures = [r for r in results if isinstance(r, BaseException)]
            assert len(failures) == 1 and isinstance(failures[0], InsufficientFunds), results
            if not isinstance(results[0], BaseException):
                expected[reference] = Decimal("80.00")
            available, held, pending = balances(user)
            assert available == Decimal("20.00")
            assert held + pending in (Decimal("80.00"), Decimal("0.00"))  # paid withdrawals leave the wallet
            assert not LedgerAccount.objects.filter(is_system=False, balance__lt=0).exists()
        assert_reconciled()
    finally:
        unregister_hold_provider("race")


def test_opening_a_wallet_many_times_at_once_opens_it_once():
    user = UserFactory()
    results = run_concurrently([lambda: wallet_open(user=user) for _ in range(8)])
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert LedgerAccount.objects.filter(owner=user).count() == 3
    assert len({r.available.pk for r in results}) == 1


def test_ten_postings_with_one_ledger_key_at_once_post_once(assert_reconciled):
    from wallet.services import ledger_post, wallet_system_account

    user = verified_investor()
    bank = wallet_system_account("bank")
    available = wallet_open(user=user).available
    results = run_concurrently([
        lambda: ledger_post(kind="deposit", transfers=[(bank, available, Decimal("7.00"))], idempotency_key="dep-77")
        for _ in range(10)
    ])
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert {entry.pk for entry in results} == {JournalEntry.objects.get(idempotency_key="dep-77").pk}
    assert balances(user) == (Decimal("7.00"), 0, 0)
    assert_reconciled()
