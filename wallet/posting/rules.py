"""The posting's rules, written once in Python: what a leg may be, what a refusal says, how a
running balance is carried leg by leg. The ORM path (`orm.py`) applies them directly; the
database function (`post_entry.sql`) carries the balances the same way in SQL, and its
refusal is worded by `insufficient_funds` here.
"""

import re
from collections.abc import Sequence
from decimal import Decimal

from core.errors import Conflict
from core.money import to_money
from wallet.enums import AccountKind
from wallet.errors import InsufficientFunds
from wallet.models import JournalEntry, LedgerAccount

Leg = tuple[LedgerAccount, LedgerAccount, Decimal]
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{0,47}$")


def check_kind(kind: str) -> None:
    if not KIND_PATTERN.match(kind):
        raise ValueError(f"Entry kind {kind!r} must be lower-case letters, digits, '_' or '.'.")


def validated_legs(transfers: Sequence[tuple[LedgerAccount, LedgerAccount, Decimal]]) -> list[Leg]:
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


def run_legs(legs: list[Leg], balances: dict[int, Decimal]) -> tuple[list[tuple], dict[int, Decimal]]:
    """Carry the locked user accounts' `balances` through the legs in order: each leg's row
    `(debit, credit, amount, debit_after, credit_after)`, the side that is a system account
    left without a running balance, and the final balances."""
    running = dict(balances)
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
    return rows, running


def insufficient_funds(*, kind: str, balance: Decimal, after: Decimal) -> InsufficientFunds:
    """The refusal of a posting that would take a user account of `kind` from `balance` to
    `after` (< 0); the same words whichever path found it."""
    return InsufficientFunds(f"Not enough money in {AccountKind(kind).label.lower()}: "
                             f"balance {balance}, needs {balance - after}.", attr="amount")


def show_balances(legs: list[Leg], balances: dict[int, Decimal]) -> None:
    """Callers holding their own copies of the accounts see the new balances."""
    for debit, credit, _amount in legs:
        for account in (debit, credit):
            if account.pk in balances:
                account.balance = balances[account.pk]


def same_entry(entry: JournalEntry, kind: str) -> JournalEntry:
    if entry.kind != kind:
        raise Conflict(f"Ledger idempotency key already used for a {entry.kind!r} entry.", code="conflict")
    return entry
