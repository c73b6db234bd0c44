from decimal import Decimal

import pytest
from django.db import transaction

from core.outbox import outbox_publish
from tests.accounts.factories import UserFactory
from tests.wallet.factories import fund, verified_investor
from wallet.enums import AccountKind
from wallet.errors import HoldExceeded, InsufficientFunds
from wallet.models import LedgerAccount, WalletHold
from wallet.selectors import wallet_balance, wallet_is_open, wallet_system_balance
from wallet.services import (
    wallet_credit_from_system,
    wallet_hold,
    wallet_open,
    wallet_pay_from_hold,
    wallet_release,
    wallet_system_account,
    wallet_system_transfer,
    wallet_transfer,
)

pytestmark = pytest.mark.django_db


def balances(user):
    b = wallet_balance(user=user)
    return (b.available, b.held, b.pending_withdrawal)


def test_wallet_open_is_idempotent():
    user = UserFactory()
    assert not wallet_is_open(user=user)
    first = wallet_open(user=user)
    second = wallet_open(user=user)
    assert (first.available.pk, first.held.pk, first.pending_withdrawal.pk) == (
        second.available.pk, second.held.pk, second.pending_withdrawal.pk)
    assert LedgerAccount.objects.filter(owner=user).count() == 3
    assert wallet_is_open(user=user)


@pytest.mark.django_db(transaction=True)
def test_the_kyc_verified_event_opens_the_wallet():
    user = UserFactory()
    with transaction.atomic():
        outbox_publish(topic="kyc.verified", payload={"user_id": user.pk})
    assert wallet_is_open(user=user)
    assert sorted(LedgerAccount.objects.filter(owner=user).values_list("kind", flat=True)) == [
        "available", "held", "pending_withdrawal"]


def test_hold_release_and_pay_from_hold(test_holds, assert_reconciled):
    buyer, seller = verified_investor(), verified_investor()
    fund(buyer, "500.00")
    wallet_hold(user=buyer, amount=Decimal("300.00"), reference="test:1")
    test_holds["test:1"] = Decimal("300.00")
    assert balances(buyer) == (Decimal("200.00"), Decimal("300.00"), 0)
    assert_reconciled()

    wallet_release(user=buyer, amount=Decimal("50.00"), reference="test:1")
    test_holds["test:1"] = Decimal("250.00")
    assert balances(buyer) == (Decimal("250.00"), Decimal("250.00"), 0)

    wallet_pay_from_hold(payer=buyer, payee=seller, amount=Decimal("200.00"), fee=Decimal("2.00"),
                         payee_fee=Decimal("1.00"), reference="test:1")
    test_holds["test:1"] = Decimal("48.00")
    assert balances(buyer) == (Decimal("250.00"), Decimal("48.00"), 0)
    assert balances(seller) == (Decimal("199.00"), 0, 0)
    assert wallet_system_balance(kind=AccountKind.FEES) == Decimal("3.00")
    assert WalletHold.objects.get(reference="test:1").amount == Decimal("48.00")
    assert_reconciled()


def test_a_release_or_payment_never_takes_more_than_its_reference_holds(test_holds, assert_reconciled):
    user, other = verified_investor(), verified_investor()
    fund(user, "100.00")
    wallet_hold(user=user, amount=Decimal("30.00"), reference="test:a")
    wallet_hold(user=user, amount=Decimal("30.00"), reference="test:b")
    test_holds.update({"test:a": Decimal("30.00"), "test:b": Decimal("30.00")})
    with pytest.raises(HoldExceeded):
        wallet_release(user=user, amount=Decimal("30.01"), reference="test:a")
    with pytest.raises(HoldExceeded):
        wallet_pay_from_hold(payer=user, payee=other, amount=Decimal("30.00"), fee=Decimal("0.01"),
                             reference="test:b")
    assert balances(user) == (Decimal("40.00"), Decimal("60.00"), 0)
    assert balances(other) == (0, 0, 0)
    assert_reconciled()


def test_a_hold_beyond_available_is_refused(test_holds, assert_reconciled):
    user = verified_investor()
    fund(user, "10.00")
    with pytest.raises(InsufficientFunds):
        wallet_hold(user=user, amount=Decimal("10.01"), reference="test:x")
    assert balances(user) == (Decimal("10.00"), 0, 0)
    assert not WalletHold.objects.filter(amount__gt=0).exists()
    assert_reconciled()


def test_transfer_to_a_user_and_to_a_system_account(assert_reconciled):
    buyer, seller = verified_investor(), verified_investor()
    fund(buyer, "100.00")
    wallet_transfer(payer=buyer, payee=seller, amount=Decimal("60.00"), fee=Decimal("0.60"), reference="trade:1")
    wallet_transfer(payer=buyer, payee=wallet_system_account(AccountKind.PLATFORM_PROCEEDS),
                    amount=Decimal("39.40"), reference="trade:2")
    assert balances(buyer) == (Decimal("0.00"), 0, 0)
    assert balances(seller) == (Decimal("60.00"), 0, 0)
    assert wallet_system_balance(kind=AccountKind.PLATFORM_PROCEEDS) == Decimal("39.40")
    with pytest.raises(InsufficientFunds):
        wallet_transfer(payer=buyer, payee=seller, amount=Decimal("0.01"), reference="trade:3")
    assert_reconciled()


def test_system_transfers_and_credits_from_escrow(assert_reconciled):
    user = verified_investor()
    wallet_system_transfer(debit_kind=AccountKind.BANK, credit_kind=AccountKind.LOAN_BOOK,
                           amount=Decimal("1000.00"), reference="invoice:1")
    wallet_system_transfer(debit_kind=AccountKind.BANK, credit_kind=AccountKind.ESCROW, amount=Decimal("80.00"),
                           reference="repayment:1", offering_id=7)
    wallet_credit_from_system(user=user, system_kind=AccountKind.ESCROW, offering_id=7, amount=Decimal("80.00"),
                              reference="distribution:1")
    assert wallet_system_balance(kind=AccountKind.LOAN_BOOK) == Decimal("1000.00")
    assert wallet_system_balance(kind=AccountKind.ESCROW, offering_id=7) == Decimal("0.00")
    assert wallet_system_balance(kind=AccountKind.BANK) == Decimal("-1080.00")
    assert balances(user) == (Decimal("80.00"), 0, 0)
    assert_reconciled()


def test_the_wallet_onboarding_provider_reports_real_wallet_readiness(settings, investor_client, investor):
    from kyc.enums import KYCStatus
    from tests.kyc.factories import KYCProfileFactory

    settings.ONBOARDING_PROVIDER = "wallet.selectors.wallet_onboarding_status"
    KYCProfileFactory(user=investor, status=KYCStatus.VERIFIED)
    before = investor_client.get("/api/v1/me/").json()["onboarding"]
    assert (before["kyc_status"], before["wallet_ready"]) == ("verified", False)  # kyc.verified not handled yet
    wallet_open(user=investor)
    assert investor_client.get("/api/v1/me/").json()["onboarding"]["wallet_ready"] is True


@pytest.mark.django_db(transaction=True)
def test_account_ids_are_cached_only_once_committed(django_assert_num_queries):
    user = UserFactory()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        opened_then_undone = wallet_open(user=user)
        fees_then_undone = wallet_system_account(AccountKind.FEES)
        1 / 0  # noqa: B018
    assert not LedgerAccount.objects.filter(pk__in=[opened_then_undone.available.pk, fees_then_undone.pk]).exists()

    opened = wallet_open(user=user)  # the rollback cached nothing: opened again, for real
    fees = wallet_system_account(AccountKind.FEES)
    assert LedgerAccount.objects.filter(pk__in=[opened.available.pk, opened.held.pk, fees.pk]).count() == 3
    with django_assert_num_queries(0):
        again, fees_again = wallet_open(user=user), wallet_system_account(AccountKind.FEES)
    assert (again.available.pk, again.held.pk, again.pending_withdrawal.pk, fees_again.pk) == (
        opened.available.pk, opened.held.pk, opened.pending_withdrawal.pk, fees.pk)
