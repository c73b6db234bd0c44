import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from tests.wallet.factories import fund, verified_investor
from wallet.enums import AccountKind
from wallet.models import JournalEntry, ReconciliationRun, Transfer
from wallet.reconcile import reconcile
from wallet.services import wallet_hold, wallet_open, wallet_system_account
from wallet.tasks import reconcile_task

pytestmark = pytest.mark.django_db


def corrupt(account, amount: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE wallet_ledgeraccount SET balance = %s WHERE id = %s", [amount, account.pk])


def test_clean_books_reconcile(assert_reconciled):
    fund(verified_investor(), "10.00")
    assert reconcile() == []
    assert_reconciled()


def test_a_hand_corrupted_balance_is_reported():
    user = verified_investor()
    fund(user, "10.00")
    available = wallet_open(user=user).available
    corrupt(available, "12.00")
    differences = reconcile()
    assert any(f"user:{user.pk}:available: cached balance 12.00 != transfers 10.00" in line for line in differences)
    assert any("all balances sum to 2.00" in line for line in differences)


def test_a_system_account_with_a_cached_balance_is_reported():
    fund(verified_investor(), "1.00")
    corrupt(wallet_system_account(AccountKind.BANK), "5.00")
    assert reconcile() == ["system:bank: system account cached balance is 5.00, expected 0"]


def test_the_command_exits_non_zero_on_a_difference_and_zero_when_clean(capsys):
    user = verified_investor()
    fund(user, "3.00")
    call_command("reconcile")
    assert "reconcile: clean" in capsys.readouterr().out
    corrupt(wallet_open(user=user).available, "4.00")
    with pytest.raises(SystemExit) as exited:
        call_command("reconcile")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "cached balance 4.00 != transfers 3.00" in out


def test_holds_must_match_what_their_owner_expects(test_holds):
    user = verified_investor()
    fund(user, "100.00")
    wallet_hold(user=user, amount=Decimal("40.00"), reference="test:7")
    test_holds["test:7"] = Decimal("40.00")
    assert reconcile() == []
    test_holds["test:7"] = Decimal("35.00")
    assert reconcile() == ["hold test:7: wallet holds 40.00, its owner expects 35.00"]
    test_holds.clear()
    test_holds["test:8"] = Decimal("1.00")
    assert sorted(reconcile()) == [
        "hold test:7: wallet holds 40.00, its owner expects 0.00",
        "hold test:8: wallet holds 0.00, its owner expects 1.00",
    ]


def test_a_hold_nobody_claims_is_reported():
    user = verified_investor()
    fund(user, "100.00")
    wallet_hold(user=user, amount=Decimal("1.00"), reference="orphan:1")
    assert reconcile() == ["hold orphan:1: 1.00 held but no owner claims it"]


def test_a_transfer_whose_time_is_not_its_entrys_is_reported():
    fund(verified_investor(), "1.00")
    # Only a writer can get it wrong (transfers are append-only): one that posts bank → fees
    # itself, so every balance still closes and only the time differs.
    entry = JournalEntry.objects.create(kind="test")
    transfer = Transfer.objects.create(
        entry=entry, debit_account=wallet_system_account(AccountKind.BANK),
        credit_account=wallet_system_account(AccountKind.FEES), amount=Decimal("1.00"),
        created_at=entry.created_at - dt.timedelta(microseconds=1))
    assert reconcile() == [f"transfer {transfer.pk}: created_at is not its entry #{entry.pk}'s"]


def test_the_nightly_job_records_each_run():
    user = verified_investor()
    fund(user, "2.00")
    reconcile_task()
    corrupt(wallet_open(user=user).available, "1.00")
    reconcile_task()
    runs = list(ReconciliationRun.objects.order_by("id"))
    assert [run.is_clean for run in runs] == [True, False]
    assert runs[0].differences == []
    assert len(runs[1].differences) >= 1
