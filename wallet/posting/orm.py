"""The posting through the ORM: what SQLite (the embedded default) runs, and what the tests run
on PostgreSQL beside the database function (the `writers` fixture). Lock order: the user
accounts the legs touch, by id; system accounts are never locked or updated."""


from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When

from core.audit import audit_record
from wallet.models import JournalEntry, LedgerAccount, Transfer
from wallet.posting.rules import Leg, insufficient_funds, run_legs, same_entry, show_balances


def post_with_orm(entry: JournalEntry, legs: list[Leg], *, kind: str, reference: str,
                  idempotency_key: str | None) -> JournalEntry:
    with transaction.atomic():
        # Which accounts are user accounts is read from the database, not from the caller's
        # objects; rows the WHERE clause leaves out (system accounts) are not locked.
        account_ids = sorted({account.pk for leg in legs for account in leg[:2]})
        locked = {
            account.pk: account
            for account in LedgerAccount.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk__in=account_ids, is_system=False)
            .order_by("pk")
        }
        rows, running = run_legs(legs, {pk: account.balance for pk, account in locked.items()})
        for pk in sorted(locked):
            if running[pk] < 0:
                account = locked[pk]
                raise insufficient_funds(kind=account.kind, balance=account.balance, after=running[pk])
        changed = {pk: running[pk] for pk, account in locked.items() if running[pk] != account.balance}
        audit = {"kind": kind, "reference": reference,
                 "transfers": [[debit.pk, credit.pk, str(amount)] for debit, credit, amount in legs]}
        if not write_with_orm(entry, rows, changed, audit):  # a concurrent twin committed first
            return same_entry(JournalEntry.objects.get(idempotency_key=idempotency_key), kind)
    show_balances(legs, running)
    return entry


def write_with_orm(entry: JournalEntry, rows: list, balances: dict, audit: dict) -> bool:
    """`balances` are the changed accounts' new balances, set as values (the accounts are
    locked): SQLite keeps decimals as floating point, so `balance + delta` there could leave
    a balance that should be 0.00 a hair below it, which its CHECK refuses."""
    if entry.idempotency_key:
        try:
            with transaction.atomic():  # savepoint: a concurrent twin makes this insert fail
                entry.save(force_insert=True)
        except IntegrityError:
            return False
    else:
        entry.save(force_insert=True)
    Transfer.objects.bulk_create([
        Transfer(entry=entry, debit_account_id=debit, credit_account_id=credit, amount=amount,
                 debit_balance_after=debit_after, credit_balance_after=credit_after, created_at=entry.created_at)
        for debit, credit, amount, debit_after, credit_after in rows
    ])
    if len(balances) == 1:
        (pk, balance), = balances.items()
        LedgerAccount.objects.filter(pk=pk).update(balance=balance)
    elif balances:
        LedgerAccount.objects.filter(pk__in=balances).update(
            balance=Case(*(When(pk=pk, then=Value(balance)) for pk, balance in balances.items()))
        )
    audit_record(action="ledger.posted", actor=entry.created_by, target=entry, data=audit)
    return True
