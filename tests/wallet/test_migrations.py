"""Migrations that rewrite ledger rows, run against rows that exist (an empty test database
would not notice that `wallet_transfer` refuses UPDATE)."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from wallet.enums import AccountKind
from wallet.models import JournalEntry, Transfer
from wallet.services import wallet_system_account

pytestmark = pytest.mark.django_db(transaction=True)  # 0004 is not atomic (CREATE INDEX CONCURRENTLY)


def test_0004_backfills_each_transfers_time_from_its_entry_in_batches(monkeypatch):
    backfill = importlib.import_module("wallet.migrations.0004_transfer_created_at_backfill")
    monkeypatch.setattr(backfill, "BATCH", 2)  # five transfers: three batches
    bank, fees = wallet_system_account(AccountKind.BANK), wallet_system_account(AccountKind.FEES)
    call_command("migrate", "wallet", "0002", verbosity=0)
    try:
        times = [dt.datetime(2026, 3, 31, 18, 29, 59, 999999, tzinfo=dt.UTC) + dt.timedelta(days=day)
                 for day in range(5)]
        entries = [JournalEntry.objects.create(kind="test", created_at=at) for at in times]
        with connection.cursor() as cursor:  # as the code before 0003 wrote them
            for entry in entries:
                cursor.execute("INSERT INTO wallet_transfer (entry_id, debit_account_id, credit_account_id, amount) "
                               "VALUES (%s, %s, %s, 1.00)", [entry.pk, bank.pk, fees.pk])
    finally:
        call_command("migrate", verbosity=0)  # every app: rolling wallet back also unapplied its dependents

    assert list(Transfer.objects.order_by("id").values_list("created_at", flat=True)) == times
    if connection.vendor == "postgresql":  # and the ledger is append-only again
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE wallet_transfer SET amount = %s", [Decimal("2.00")])
