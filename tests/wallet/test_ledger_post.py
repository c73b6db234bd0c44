from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from tests.conftest import requires_postgres
from tests.wallet.factories import fund, verified_investor
from wallet.enums import AccountKind
from wallet.errors import InsufficientFunds
from wallet.models import JournalEntry, LedgerAccount, Transfer
from wallet.selectors import ledger_account_balance, wallet_balance
from wallet.services import ledger_post, wallet_open, wallet_system_account

pytestmark = pytest.mark.django_db


def balances(user):
    b = wallet_balance(user=user)
    return (b.available, b.held, b.pending_withdrawal)


def test_a_posting_moves_money_and_records_running_balances(assert_reconciled):
    user = verified_investor()
    bank = wallet_system_account(AccountKind.BANK)
    available = wallet_open(user=user).available
    entry = ledger_post(kind="deposit", transfers=[(bank, available, Decimal("100.00"))], reference="r1")
    ledger_post(kind="deposit", transfers=[(bank, available, Decimal("50.25"))], reference="r2")

    assert balances(user) == (Decimal("150.25"), 0, 0)
    transfers = list(Transfer.objects.order_by("id").values_list("credit_balance_after", "debit_balance_after"))
    assert transfers == [(Decimal("100.00"), None), (Decimal("150.25"), None)]
    # The system side is never updated: its cached column stays 0, its balance is computed.
    assert LedgerAccount.objects.get(pk=bank.pk).balance == 0
    assert ledger_account_balance(account=bank) == Decimal("-150.25")
    assert entry.transfers.count() == 1
    assert_reconciled()


def test_insufficient_funds_refuses_and_moves_nothing(assert_reconciled):
    user = verified_investor()
    fund(user, "10.00")
    accounts = wallet_open(user=user)
    entries_before = JournalEntry.objects.count()
    with pytest.raises(InsufficientFunds) as raised:
        ledger_post(kind="withdrawal.requested",
                    transfers=[(accounts.available, accounts.pending_withdrawal, Decimal("10.01"))])
    assert raised.value.code == "insufficient_funds"
    assert raised.value.status_code == 422
    assert balances(user) == (Decimal("10.00"), 0, 0)
    assert JournalEntry.objects.count() == entries_before
    assert_reconciled()


@pytest.mark.parametrize("amount", [0.5, Decimal("0"), Decimal("-1.00"), Decimal("1.005"), Decimal("NaN")])
def test_bad_amounts_are_refused_before_anything_is_written(amount):
    user = verified_investor()
    bank = wallet_system_account(AccountKind.BANK)
    available = wallet_open(user=user).available
    with pytest.raises((TypeError, ValueError)):
        ledger_post(kind="deposit", transfers=[(bank, available, amount)])
    assert not JournalEntry.objects.exists()
    assert balances(user) == (0, 0, 0)


def test_a_transfer_to_the_same_account_and_an_empty_entry_are_refused():
    user = verified_investor()
    available = wallet_open(user=user).available
    with pytest.raises(ValueError):
        ledger_post(kind="transfer", transfers=[(available, available, Decimal("1.00"))])
    with pytest.raises(ValueError):
        ledger_post(kind="transfer", transfers=[])
    with pytest.raises(ValueError):
        ledger_post(kind="Not A Kind!", transfers=[])
    assert not JournalEntry.objects.exists()


def test_one_entry_can_carry_a_whole_trade_with_fees(assert_reconciled):
    buyer, seller = verified_investor(), verified_investor()
    fund(buyer, "1010.00")
    fees = wallet_system_account(AccountKind.FEES)
    b, s = wallet_open(user=buyer).available, wallet_open(user=seller).available
    entry = ledger_post(kind="trade.buy", transfers=[
        (b, s, Decimal("1000.00")), (b, fees, Decimal("10.00")), (s, fees, Decimal("5.00")),
    ], reference="trade:1")
    assert balances(buyer) == (Decimal("0.00"), 0, 0)
    assert balances(seller) == (Decimal("995.00"), 0, 0)
    assert ledger_account_balance(account=fees) == Decimal("15.00")
    assert entry.transfers.count() == 3
    assert_reconciled()


def test_the_same_idempotency_key_posts_once(assert_reconciled):
    user = verified_investor()
    bank = wallet_system_account(AccountKind.BANK)
    available = wallet_open(user=user).available
    first = ledger_post(kind="deposit", transfers=[(bank, available, Decimal("5.00"))], idempotency_key="k1")
    again = ledger_post(kind="deposit", transfers=[(bank, available, Decimal("5.00"))], idempotency_key="k1")
    assert again.pk == first.pk
    assert balances(user) == (Decimal("5.00"), 0, 0)
    assert Transfer.objects.count() == 1
    assert_reconciled()


def test_system_accounts_are_singletons_and_escrow_is_per_offering():
    assert wallet_system_account(AccountKind.FEES).pk == wallet_system_account(AccountKind.FEES).pk
    escrow_1 = wallet_system_account(AccountKind.ESCROW, 1)
    assert escrow_1.pk == wallet_system_account(AccountKind.ESCROW, 1).pk
    assert escrow_1.pk != wallet_system_account(AccountKind.ESCROW, 2).pk
    with pytest.raises(ValueError):
        wallet_system_account(AccountKind.ESCROW)
    with pytest.raises(ValueError):
        wallet_system_account(AccountKind.AVAILABLE)


def test_the_database_refuses_a_negative_user_balance():
    user = verified_investor()
    available = wallet_open(user=user).available
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=available.pk).update(balance=Decimal("-0.01"))


def test_the_database_refuses_a_non_positive_transfer():
    user = verified_investor()
    entry = JournalEntry.objects.create(kind="test")
    bank = wallet_system_account(AccountKind.BANK)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(entry=entry, debit_account=bank, credit_account=wallet_open(user=user).available,
                                amount=Decimal("0.00"))


@requires_postgres
def test_entries_and_transfers_are_append_only():
    user = verified_investor()
    fund(user, "1.00")
    entry = JournalEntry.objects.get()
    for statement in (
        "UPDATE wallet_transfer SET amount = 2 WHERE entry_id = %s",
        "DELETE FROM wallet_transfer WHERE entry_id = %s",
        "UPDATE wallet_journalentry SET memo = 'x' WHERE id = %s",
        "DELETE FROM wallet_journalentry WHERE id = %s",
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    assert Transfer.objects.get().amount == Decimal("1.00")
