import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from freezegun import freeze_time

from tests.conftest import requires_postgres
from tests.wallet.factories import fund, verified_investor
from wallet.enums import AccountKind
from wallet.errors import InsufficientFunds
from wallet.models import JournalEntry, LedgerAccount, Transfer
from wallet.selectors import ledger_account_balance, wallet_balance
from wallet.services import ledger_post, wallet_open, wallet_system_account

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("writers")]


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
    with pytest.raises(IntegrityError, match="amount_positive"), transaction.atomic():
        Transfer.objects.create(entry=entry, debit_account=bank, credit_account=wallet_open(user=user).available,
                                amount=Decimal("0.00"), created_at=entry.created_at)


def test_each_transfer_carries_its_entrys_time(assert_reconciled):
    user = verified_investor()
    bank, fees = wallet_system_account(AccountKind.BANK), wallet_system_account(AccountKind.FEES)
    accounts = wallet_open(user=user)
    with freeze_time("2026-04-30 18:29:59.999999+00:00"):  # 23:59:59.999999 in Kolkata
        entry = ledger_post(kind="deposit", transfers=[(bank, accounts.available, Decimal("10.00")),
                                                       (accounts.available, fees, Decimal("1.00"))])
    ledger_post(kind="deposit", transfers=[(bank, accounts.available, Decimal("2.00"))])
    assert entry.created_at == dt.datetime(2026, 4, 30, 18, 29, 59, 999999, tzinfo=dt.UTC)
    stored = list(Transfer.objects.order_by("id").values_list("created_at", "entry__created_at"))
    assert len(stored) == 3
    assert all(transfer_at == entry_at for transfer_at, entry_at in stored)
    assert stored[0][0] == stored[1][0] == entry.created_at  # to the microsecond
    assert_reconciled()


@requires_postgres
def test_a_transfer_inserted_without_a_time_gets_its_entrys():
    """What a process still running the code from before `Transfer.created_at` writes during
    a deploy (migration 0003's trigger)."""
    entry = JournalEntry.objects.create(kind="test", created_at=dt.datetime(2026, 1, 2, 3, 4, 5, 6789, tzinfo=dt.UTC))
    bank, fees = wallet_system_account(AccountKind.BANK), wallet_system_account(AccountKind.FEES)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO wallet_transfer (entry_id, debit_account_id, credit_account_id, amount) "
                       "VALUES (%s, %s, %s, 1.00)", [entry.pk, bank.pk, fees.pk])
    assert Transfer.objects.get().created_at == entry.created_at


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


def test_every_posting_is_audited_with_who_what_and_the_request(assert_reconciled):
    from core import context
    from core.audit import AuditEvent
    from tests.accounts.factories import UserFactory

    user = verified_investor()
    staff = UserFactory()
    bank = wallet_system_account(AccountKind.BANK)
    available = wallet_open(user=user).available
    token = context.set_current(context.RequestContext(request_id="req-42", ip="203.0.113.7",
                                                       impersonator_id=staff.pk))
    try:
        entry = ledger_post(kind="deposit", transfers=[(bank, available, Decimal("12.34"))], reference="dep:9",
                            created_by=user)
    finally:
        context.reset(token)
    event = AuditEvent.objects.get(action="ledger.posted", target_id=str(entry.pk))
    assert (event.actor_id, event.impersonator_id, event.target_type) == (user.pk, staff.pk, "wallet.journalentry")
    assert (event.request_id, event.ip) == ("req-42", "203.0.113.7")
    assert event.data == {"kind": "deposit", "reference": "dep:9", "transfers": [[bank.pk, available.pk, "12.34"]]}
    stored = JournalEntry.objects.get(pk=entry.pk)
    assert (stored.kind, stored.reference, stored.created_by_id) == ("deposit", "dep:9", user.pk)
    assert abs(event.at - stored.created_at).total_seconds() < 1
    assert_reconciled()


def test_a_posting_between_system_accounts_changes_no_cached_balance(assert_reconciled):
    bank = wallet_system_account(AccountKind.BANK)
    fees = wallet_system_account(AccountKind.FEES)
    entry = ledger_post(kind="system.transfer", transfers=[(bank, fees, Decimal("3.00"))])
    assert list(entry.transfers.values_list("debit_balance_after", "credit_balance_after")) == [(None, None)]
    assert ledger_account_balance(account=fees) == Decimal("3.00")
    assert LedgerAccount.objects.get(pk=fees.pk).balance == 0
    assert_reconciled()
