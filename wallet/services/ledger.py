"""`ledger_post`, the only writer of money, and the retry helper for its callers.

Locking (DESIGN.md §3). A service that moves money runs in one `transaction.atomic()` and
locks rows in the global order: offering/listing, then bids, then holdings by id, then
wallet holds (`WalletHold`), then ledger accounts by id. `ledger_post` takes the last step
itself: it locks the *user* accounts it touches with
`SELECT … FOR NO KEY UPDATE OF self ORDER BY id` (no_key: it blocks other writers of the
balance but not the foreign-key checks of concurrent inserts), so callers must not lock
ledger accounts themselves in another order. System accounts are never locked or updated.

Retries. A deadlock or serialization failure aborts the whole transaction, so only the
outermost caller can retry it. `ledger_post` is wrapped in `retry_on_deadlock`, which retries
only when it is the outermost atomic block; a service that calls `ledger_post` inside its
own transaction (a trade, a bid) decorates *itself* with `retry_on_deadlock` instead.
"""

import functools
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Case, F, Value, When

from core.audit import audit_record
from core.errors import Conflict
from core.money import to_money
from wallet.enums import AccountKind
from wallet.errors import InsufficientFunds
from wallet.models import JournalEntry, LedgerAccount, Transfer

logger = logging.getLogger(__name__)

T = TypeVar("T")
Leg = tuple[LedgerAccount, LedgerAccount, Decimal]
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{0,47}$")

try:  # psycopg is absent only on a bare SQLite install
    from psycopg import errors as pg_errors

    RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
except ImportError:  # pragma: no cover
    RETRYABLE = ()


def is_retryable(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure, however Django wrapped it."""
    seen = exc
    while seen is not None:
        if RETRYABLE and isinstance(seen, RETRYABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_on_deadlock(function: Callable[..., T] | None = None, *, attempts: int = 5,
                      base_delay: float = 0.01) -> Callable[..., T]:
    """Retry `function` on a deadlock or serialization failure, with jittered backoff, but
    only when no transaction is open around it: inside an outer atomic block the failure has
    already doomed the outer transaction, so it is re-raised for the outermost caller."""

    def decorate(inner: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(inner)
        def wrapper(*args, **kwargs):
            if transaction.get_connection().in_atomic_block:
                return inner(*args, **kwargs)
            for attempt in range(1, attempts + 1):
                try:
                    return inner(*args, **kwargs)
                except DatabaseError as exc:
                    if attempt == attempts or not is_retryable(exc):
                        raise
                    delay = base_delay * 2 ** (attempt - 1) * (0.5 + random.random())
                    logger.warning("retrying %s after %s (attempt %s)", inner.__qualname__, type(exc).__name__,
                                   attempt)
                    time.sleep(delay)
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate(function) if function is not None else decorate


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
    fire), transfers inserted with each user side's running balance, balances updated with
    `F()`. With `idempotency_key`, a repeat returns the first entry and moves nothing.
    Runs in the caller's transaction if there is one (see the module docstring on locks).
    """
    if not KIND_PATTERN.match(kind):
        raise ValueError(f"Entry kind {kind!r} must be lower-case letters, digits, '_' or '.'.")
    legs = _validated_legs(transfers)
    with transaction.atomic():
        entry_fields = {"kind": kind, "reference": reference[:100], "memo": memo[:255],
                        "created_by": created_by if getattr(created_by, "pk", None) else None}
        if idempotency_key:
            existing = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _same_entry(existing, kind)
            try:
                with transaction.atomic():  # savepoint: a concurrent twin makes this insert fail
                    entry = JournalEntry.objects.create(idempotency_key=idempotency_key, **entry_fields)
            except IntegrityError:
                return _same_entry(JournalEntry.objects.get(idempotency_key=idempotency_key), kind)
        else:
            entry = JournalEntry.objects.create(**entry_fields)

        # Which accounts are user accounts is read from the database, not from the caller's
        # objects; rows the WHERE clause leaves out (system accounts) are not locked.
        account_ids = {account.pk for leg in legs for account in leg[:2]}
        locked = {
            account.pk: account
            for account in LedgerAccount.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk__in=account_ids, is_system=False)
            .order_by("pk")
        }
        user_ids = sorted(locked)

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
            rows.append(Transfer(entry=entry, debit_account_id=debit.pk, credit_account_id=credit.pk, amount=amount,
                                 debit_balance_after=debit_after, credit_balance_after=credit_after))
        for pk in user_ids:
            if running[pk] < 0:
                account = locked[pk]
                raise InsufficientFunds(
                    f"Not enough money in {account.get_kind_display().lower()}: "
                    f"balance {account.balance}, needs {account.balance - running[pk]}.",
                    attr="amount",
                )
        Transfer.objects.bulk_create(rows)

        deltas = {pk: running[pk] - locked[pk].balance for pk in user_ids if running[pk] != locked[pk].balance}
        if len(deltas) == 1:
            (pk, delta), = deltas.items()
            LedgerAccount.objects.filter(pk=pk).update(balance=F("balance") + delta)
        elif deltas:
            LedgerAccount.objects.filter(pk__in=deltas).update(
                balance=F("balance") + Case(*(When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()))
            )
        for pk, account in locked.items():
            account.balance = running[pk]
        # Callers holding their own copies of these accounts see the new balances too.
        for debit, credit, _amount in legs:
            for account in (debit, credit):
                if account.pk in running:
                    account.balance = running[account.pk]

        audit_record(
            action="ledger.posted",
            actor=created_by,
            target=entry,
            data={
                "kind": kind,
                "reference": reference,
                "transfers": [[debit.pk, credit.pk, str(amount)] for debit, credit, amount in legs],
            },
        )
    return entry


def _same_entry(entry: JournalEntry, kind: str) -> JournalEntry:
    if entry.kind != kind:
        raise Conflict(f"Ledger idempotency key already used for a {entry.kind!r} entry.", code="conflict")
    return entry


def wallet_system_account(kind: str, offering_id: int | None = None) -> LedgerAccount:
    """The system account of `kind` (the escrow of `offering_id`), created on first use.
    Never lock it: its balance is the sum of its transfers."""
    if kind not in AccountKind.values or kind in (AccountKind.AVAILABLE, AccountKind.HELD,
                                                  AccountKind.PENDING_WITHDRAWAL):
        raise ValueError(f"{kind!r} is not a system account kind.")
    if (kind == AccountKind.ESCROW) != (offering_id is not None):
        raise ValueError("Escrow accounts, and only they, belong to an offering.")
    lookup = {"owner__isnull": True, "kind": kind, "offering_id": offering_id}
    account = LedgerAccount.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(kind=kind, offering_id=offering_id, is_system=True)
    except IntegrityError:
        return LedgerAccount.objects.get(**lookup)
