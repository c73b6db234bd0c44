"""`ledger_post`, the only writer of money.

Locking (DESIGN.md §3). A service that moves money runs in one `transaction.atomic()` and
locks rows in the global order: offering/listing, then bids, then holdings by id, then
wallet holds (`WalletHold`), then ledger accounts by id. `ledger_post` takes the last step
itself: it locks the *user* accounts it touches with
`SELECT … FOR NO KEY UPDATE OF self ORDER BY id` (no_key: it blocks other writers of the
balance but not the foreign-key checks of concurrent inserts), so callers must not lock
ledger accounts themselves in another order. System accounts are never locked or updated.

Retries (core.retry). A deadlock or serialization failure aborts the whole transaction, so
only the outermost caller can retry it. `ledger_post` is wrapped in `retry_on_deadlock`,
which retries only when it is the outermost atomic block; a service that calls
`ledger_post` inside its own transaction (a trade, a bid) decorates *itself* with
`retry_on_deadlock` instead, and an idempotent request retries the whole view.
"""

import logging
import re
from collections.abc import Sequence
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from core import context
from core.audit import audit_record
from core.errors import Conflict
from core.money import to_money
from core.retry import retry_on_deadlock
from core.sql import use_hand_written_sql
from wallet.enums import AccountKind
from wallet.errors import InsufficientFunds
from wallet.models import JournalEntry, LedgerAccount, Transfer

logger = logging.getLogger(__name__)

Leg = tuple[LedgerAccount, LedgerAccount, Decimal]
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{0,47}$")


def _validated_legs(transfers: Sequence[tuple[LedgerAccount, LedgerAccount, Decimal]]) -> list[Leg]:
    if not transfers:
        raise ValueError("A journal entry needs at least one transfer.")
    legs: list[Leg] = []
    for debit, credit, raw_amount in transfers:
        if not isinstance(debit, LedgerAccount) or not isinstance(credit, LedgerAccount):
            raise TypeError("Transfers are (debit LedgerAccount, credit LedgerAccount, amount).")
        if debit.pk is None or credit.pk is None:
            raise ValueError("Ledger accounts must be saved before money moves through them.")
        if debit.pk == credit.pk:
            raise ValueError("A transfer needs two different accounts.")
        if debit.currency != credit.currency:
            raise ValueError("A transfer cannot cross currencies.")
        amount = to_money(raw_amount)  # refuses floats
        if amount != raw_amount:
            raise ValueError(f"Amounts must already be in paise; {raw_amount!r} is not.")
        if amount <= 0:
            raise ValueError(f"Transfer amounts must be positive, not {amount}.")
        legs.append((debit, credit, amount))
    return legs


# On PostgreSQL the lock, the checks and the writes are one call of the database function
# `wallet_post_entry()` (wallet 0005): one round trip instead of five, nothing to compile.
# Elsewhere (SQLite, the embedded default) the ORM does the same in Python. Tests switch this
# off to run the ORM path on PostgreSQL too (the `writers` fixture), so the two stay alike.
HAND_WRITTEN_SQL = True


@retry_on_deadlock
def ledger_post(
    *,
    kind: str,
    transfers: Sequence[tuple[LedgerAccount, LedgerAccount, Decimal]],
    reference: str = "",
    memo: str = "",
    created_by=None,
    idempotency_key: str | None = None,
) -> JournalEntry:
    """Write one balanced journal entry and update the cached user balances.

    `transfers` is a list of `(debit_account, credit_account, amount)`; amounts are Decimals
    (or ints/strings) in paise and > 0; floats are refused. User accounts are locked in id
    order, their final balances checked (`InsufficientFunds` before the database CHECK would
    fire), transfers inserted with each user side's running balance, balances updated. With
    `idempotency_key`, a repeat returns the first entry and moves nothing.

    Runs in the caller's transaction if there is one (see the module docstring on locks). On
    PostgreSQL it is one statement and needs no savepoint of its own: the checks run before
    anything is written, and the statement happens whole or fails the caller's transaction.
    """
    if not KIND_PATTERN.match(kind):
        raise ValueError(f"Entry kind {kind!r} must be lower-case letters, digits, '_' or '.'.")
    legs = _validated_legs(transfers)
    entry = JournalEntry(kind=kind, reference=reference[:100], memo=memo[:255], idempotency_key=idempotency_key,
                         created_by=created_by if getattr(created_by, "pk", None) else None)
    if idempotency_key:
        existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_entry(existing, kind)
    if use_hand_written_sql(HAND_WRITTEN_SQL):
        return _post_in_database(entry, legs, reference=reference)
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
        running = {pk: account.balance for pk, account in locked.items()}
        rows = []
        for debit, credit, amount in legs:
            debit_after = credit_after = None
            if debit.pk in running:
                running[debit.pk] -= amount
                debit_after = running[debit.pk]
            if credit.pk in running:
                running[credit.pk] += amount
                credit_after = running[credit.pk]
            rows.append((debit.pk, credit.pk, amount, debit_after, credit_after))
        for pk in sorted(locked):
            if running[pk] < 0:
                account = locked[pk]
                raise insufficient_funds(kind=account.kind, balance=account.balance, after=running[pk])
        changed = {pk: running[pk] for pk, account in locked.items() if running[pk] != account.balance}
        audit = {"kind": kind, "reference": reference,
                 "transfers": [[debit.pk, credit.pk, str(amount)] for debit, credit, amount in legs]}
        if not _write_with_orm(entry, rows, changed, audit):  # a concurrent twin committed first
            return _same_entry(JournalEntry.objects.get(idempotency_key=idempotency_key), kind)
    _show_balances(legs, running)
    return entry


def insufficient_funds(*, kind: str, balance: Decimal, after: Decimal) -> InsufficientFunds:
    """The refusal of a posting that would take a user account of `kind` from `balance` to
    `after` (< 0); the same words whichever path found it."""
    return InsufficientFunds(f"Not enough money in {AccountKind(kind).label.lower()}: "
                             f"balance {balance}, needs {balance - after}.", attr="amount")


def _show_balances(legs: list[Leg], balances: dict[int, Decimal]) -> None:
    """Callers holding their own copies of the accounts see the new balances."""
    for debit, credit, _amount in legs:
        for account in (debit, credit):
            if account.pk in balances:
                account.balance = balances[account.pk]


def _post_in_database(entry: JournalEntry, legs: list[Leg], *, reference: str) -> JournalEntry:
    """PostgreSQL: one call of `wallet_post_entry()` (wallet 0005), which locks, checks and
    writes what the ORM path below does, in one round trip and without a savepoint: it
    refuses before writing anything, and one statement happens whole or fails the caller's
    transaction."""
    entry.created_at = timezone.now()
    debits, credits, amounts = (list(column) for column in zip(*((d.pk, c.pk, a) for d, c, a in legs), strict=True))
    request = context.current()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM wallet_post_entry(%s, %s, %s, %s, %s, %s, %s::bigint[], %s::bigint[], %s::numeric[], "
            "%s, %s::inet, %s)",
            [entry.kind, reference, entry.memo, entry.created_by_id, entry.idempotency_key, entry.created_at,
             debits, credits, amounts, request.impersonator_id, request.ip, request.request_id])
        entry_id, short_account, short_kind, short_balance, short_after, ids, balances = cursor.fetchone()
    if short_account is not None:
        raise insufficient_funds(kind=short_kind, balance=short_balance, after=short_after)
    if entry_id is None:  # a concurrent twin with the same idempotency key committed first
        return _same_entry(JournalEntry.objects.get(idempotency_key=entry.idempotency_key), entry.kind)
    entry.pk = entry_id
    entry._state.adding = False
    entry._state.db = connection.alias
    _show_balances(legs, dict(zip(ids, balances, strict=True)))
    return entry


def _write_with_orm(entry: JournalEntry, rows: list, balances: dict, audit: dict) -> bool:
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


def _same_entry(entry: JournalEntry, kind: str) -> JournalEntry:
    if entry.kind != kind:
        raise Conflict(f"Ledger idempotency key already used for a {entry.kind!r} entry.", code="conflict")
    return entry


# Ledger accounts are created once and never deleted (PROTECT), so their ids are cached per
# process: system accounts by (kind, offering), users' wallets by owner (bounded). An id is
# cached only once its row is known committed (`on_commit`), so a rolled-back creation never
# leaves a dangling id; `wallet_forget_cached_accounts` empties both for tests, which roll back
# and flush what production never deletes. Balances are never cached.
_SYSTEM_ACCOUNT_IDS: dict[tuple[str, int | None], int] = {}
WALLET_ACCOUNT_IDS: dict[int, dict[str, int]] = {}
WALLET_CACHE_SIZE = 100_000


def wallet_forget_cached_accounts(**_kwargs) -> None:
    _SYSTEM_ACCOUNT_IDS.clear()
    WALLET_ACCOUNT_IDS.clear()


def wallet_system_account(kind: str, offering_id: int | None = None) -> LedgerAccount:
    """The system account of `kind` (the escrow of `offering_id`), created on first use.
    Never lock it: its balance is the sum of its transfers."""
    if kind not in AccountKind.values or kind in (AccountKind.AVAILABLE, AccountKind.HELD,
                                                  AccountKind.PENDING_WITHDRAWAL):
        raise ValueError(f"{kind!r} is not a system account kind.")
    if (kind == AccountKind.ESCROW) != (offering_id is not None):
        raise ValueError("Escrow accounts, and only they, belong to an offering.")
    key = (kind, offering_id)
    cached = _SYSTEM_ACCOUNT_IDS.get(key)
    if cached is not None:
        return LedgerAccount(pk=cached, kind=kind, offering_id=offering_id, is_system=True)
    lookup = {"owner__isnull": True, "kind": kind, "offering_id": offering_id}
    account = LedgerAccount.objects.filter(**lookup).first()
    if account is None:
        try:
            with transaction.atomic():
                account = LedgerAccount.objects.create(kind=kind, offering_id=offering_id, is_system=True)
        except IntegrityError:
            account = LedgerAccount.objects.get(**lookup)
    account_id = account.pk
    transaction.on_commit(lambda: _SYSTEM_ACCOUNT_IDS.__setitem__(key, account_id))
    return account
