"""Reconciliation: every invariant of the money rules, checked from the raw transfers.

`reconcile()` returns one line per difference (an empty list means clean):

1. each user account's cached balance equals credits - debits of its transfers, and the
   balance recorded on its latest transfer (what the statement shows);
2. no user account is negative (cached or recomputed);
3. system accounts keep 0 in their unused cached column;
4. the sum of all balances (user cached + system recomputed) is zero;
5. each user's `held` balance equals the sum of the wallet's open holds (`WalletHold`), and
   each hold equals what its owner reports (`wallet.holds` providers); a hold nobody claims
   is reported;
6. each user's `pending_withdrawal` balance equals their withdrawals still in flight;
7. each transfer's `created_at` is its entry's (reports filter periods on it);
8. whatever apps built on the wallet register with `register_reconcile_check` (units).

On PostgreSQL it reads one snapshot (REPEATABLE READ, read only), so it can run while money
moves. `manage.py reconcile` prints the lines and exits non-zero on any; a nightly beat job
records each run as a `ReconciliationRun`.
"""

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Sum

from core.money import ZERO, to_money
from wallet.enums import AccountKind, WithdrawalStatus
from wallet.holds import hold_providers, reference_prefix
from wallet.models import LedgerAccount, Transfer, WalletHold, Withdrawal


def _pending_withdrawals_by_user() -> dict[int, Decimal]:
    rows = (
        Withdrawal.objects.filter(status__in=(WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING))
        .values("user_id")
        .annotate(total=Sum("amount"))
    )
    return {row["user_id"]: row["total"] for row in rows}


def _check(differences: list[str]) -> None:
    credits = dict(Transfer.objects.values_list("credit_account_id").annotate(total=Sum("amount")))
    debits = dict(Transfer.objects.values_list("debit_account_id").annotate(total=Sum("amount")))

    latest: dict[int, Decimal] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH legs AS (
                SELECT id, debit_account_id AS account_id, debit_balance_after AS balance_after
                  FROM wallet_transfer WHERE debit_balance_after IS NOT NULL
                UNION ALL
                SELECT id, credit_account_id, credit_balance_after
                  FROM wallet_transfer WHERE credit_balance_after IS NOT NULL
            ),
            last AS (SELECT account_id, MAX(id) AS id FROM legs GROUP BY account_id)
            SELECT legs.account_id, legs.balance_after FROM legs JOIN last USING (account_id, id)
            """
        )
        for account_id, balance_after in cursor.fetchall():
            # Raw SQL bypasses the field's converter: SQLite hands back a float for NUMERIC.
            latest[account_id] = to_money(str(balance_after) if isinstance(balance_after, float) else balance_after)

    total = ZERO
    held_by_user: dict[int, Decimal] = {}
    pending_by_user: dict[int, Decimal] = {}
    for account in LedgerAccount.objects.order_by("id"):
        computed = credits.get(account.pk, ZERO) - debits.get(account.pk, ZERO)
        if account.is_system:
            total += computed
            if account.balance != 0:
                differences.append(f"{account}: system account cached balance is {account.balance}, expected 0")
            continue
        total += account.balance
        if account.balance != computed:
            differences.append(
                f"{account}: cached balance {account.balance} != transfers {computed} "
                f"(difference {account.balance - computed})"
            )
        if account.balance < 0 or computed < 0:
            differences.append(f"{account}: negative balance (cached {account.balance}, transfers {computed})")
        if account.pk in latest and latest[account.pk] != computed:
            differences.append(f"{account}: latest statement balance {latest[account.pk]} != transfers {computed}")
        if account.pk not in latest and computed != 0:
            differences.append(f"{account}: has a balance but no statement line")
        if account.kind == AccountKind.HELD:
            held_by_user[account.owner_id] = account.balance
        elif account.kind == AccountKind.PENDING_WITHDRAWAL:
            pending_by_user[account.owner_id] = account.balance
    if total != 0:
        differences.append(f"all balances sum to {total}, expected 0.00")

    _check_holds(differences, held_by_user)

    expected_pending = _pending_withdrawals_by_user()
    for user_id in sorted(set(pending_by_user) | set(expected_pending)):
        have = pending_by_user.get(user_id, ZERO)
        want = expected_pending.get(user_id, ZERO)
        if have != want:
            differences.append(f"user:{user_id}: pending_withdrawal balance {have} != withdrawals in flight {want}")

    _check_transfer_times(differences)


SHOWN = 20


def _check_transfer_times(differences: list[str]) -> None:
    # One join over all transfers (its cost: docs/benchmarks.md, "Reports"); rows are
    # append-only, so only a writer can get this wrong, and only when it inserts.
    wrong = sorted(Transfer.objects.exclude(created_at=F("entry__created_at")).order_by()
                   .values_list("id", "entry_id")[:SHOWN + 1])
    for transfer_id, entry_id in wrong[:SHOWN]:
        differences.append(f"transfer {transfer_id}: created_at is not its entry #{entry_id}'s")
    if len(wrong) > SHOWN:
        differences.append(f"more transfers than these {SHOWN} have a created_at that is not their entry's")


def _check_holds(differences: list[str], held_by_user: dict[int, Decimal]) -> None:
    holds = list(WalletHold.objects.filter(amount__gt=0).values_list("user_id", "reference", "amount"))
    wallet_view: dict[str, Decimal] = defaultdict(lambda: ZERO)
    by_user: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for user_id, reference, amount in holds:
        wallet_view[reference] += amount
        by_user[user_id] += amount
    for user_id in sorted(set(held_by_user) | set(by_user)):
        if held_by_user.get(user_id, ZERO) != by_user.get(user_id, ZERO):
            differences.append(
                f"user:{user_id}: held balance {held_by_user.get(user_id, ZERO)} != open holds {by_user[user_id]}"
            )
    providers = hold_providers()
    owner_view: dict[str, Decimal] = {}
    for prefix, provider in providers.items():
        for reference, amount in provider().items():
            if reference_prefix(reference) != prefix:
                differences.append(f"hold provider {prefix!r} reported {reference!r}, outside its prefix")
            if amount:
                owner_view[reference] = Decimal(amount)
    for reference in sorted(set(wallet_view) | set(owner_view)):
        prefix = reference_prefix(reference)
        if prefix not in providers:
            differences.append(f"hold {reference}: {wallet_view[reference]} held but no owner claims it")
            continue
        have = wallet_view.get(reference, ZERO)
        want = owner_view.get(reference, ZERO)
        if have != want:
            differences.append(f"hold {reference}: wallet holds {have}, its owner expects {want}")


# Apps built on the wallet add their own invariants (trading: units per offering) without
# the wallet importing them: each check returns its difference lines.
_extra_checks: dict[str, Callable[[], list[str]]] = {}


def register_reconcile_check(name: str):
    def register(check: Callable[[], list[str]]) -> Callable[[], list[str]]:
        _extra_checks[name] = check
        return check

    return register


def _check_extras(differences: list[str]) -> None:
    for _name, check in sorted(_extra_checks.items()):
        differences.extend(check())


def reconcile() -> list[str]:
    """Every difference found, one line each; [] when the books are clean."""
    differences: list[str] = []
    if connection.in_atomic_block:
        _check(differences)  # inside the caller's transaction (tests): its snapshot rules
        _check_extras(differences)
        return differences
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # First statement of the transaction: every query below sees one snapshot.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _check(differences)
        _check_extras(differences)
    return differences
