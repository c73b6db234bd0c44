"""Wallet services other apps call. Each is a thin composition of `ledger_post`.

Accounts: `wallet_open` creates a user's `available`, `held` and `pending_withdrawal` accounts;
it is idempotent and race-safe, and every service below calls it, so a wallet is opened on
first use even if the `kyc.verified` event has not been handled yet.

Locks: every function here may run inside the caller's transaction. They lock, in order, the
`WalletHold` row of the reference (hold services only) and then the user ledger accounts by
id (inside `ledger_post`). A caller that must lock its own rows (listing, bid, holdings) locks
them *before* calling, and wraps its outermost function with `retry_on_deadlock`.

Trades: a buy is one entry — `wallet_transfer(payer=buyer, payee=seller_or_system_account,
amount=…, fee=buyer_fee, payee_fee=seller_fee, reference=…)` moves buyer available → payee,
buyer available → fees and payee → fees together. A bid settled from its hold is the same
with `wallet_pay_from_hold`. (On PostgreSQL a trade's fill does both inside the database
function `trading_settle`, through this app's `wallet_hold_take` and `wallet_post_entry`:
see wallet migration 0005.) Anything else (a distribution with TDS) calls `ledger_post`
directly with several transfers.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from core.money import ZERO, to_money
from core.retry import retry_on_deadlock
from wallet.enums import USER_ACCOUNT_KINDS, AccountKind, EntryKind
from wallet.errors import HoldExceeded
from wallet.models import JournalEntry, LedgerAccount, WalletHold
from wallet.services.ledger import (
    WALLET_ACCOUNT_IDS,
    WALLET_CACHE_SIZE,
    ledger_post,
    wallet_system_account,
)


@dataclass(frozen=True)
class WalletAccounts:
    available: LedgerAccount
    held: LedgerAccount
    pending_withdrawal: LedgerAccount


def wallet_open(*, user) -> WalletAccounts:
    """Open (or return) the user's three accounts. Safe to call concurrently and repeatedly:
    the insert is `ON CONFLICT DO NOTHING` against the (owner, kind) unique index. Once the
    accounts are committed their ids are cached, so the instances returned may carry only
    ids: read balances through `wallet.selectors`."""
    cached = wallet_cached(user=user)
    if cached is not None:
        return cached
    accounts = {a.kind: a for a in LedgerAccount.objects.filter(owner=user, kind__in=USER_ACCOUNT_KINDS)}
    if len(accounts) < len(USER_ACCOUNT_KINDS):
        from core.audit import audit_record

        with transaction.atomic():
            LedgerAccount.objects.bulk_create(
                [LedgerAccount(owner=user, kind=kind, is_system=False) for kind in USER_ACCOUNT_KINDS
                 if kind not in accounts],
                ignore_conflicts=True,
            )
            accounts = {a.kind: a for a in LedgerAccount.objects.filter(owner=user, kind__in=USER_ACCOUNT_KINDS)}
            audit_record(action="wallet.opened", target=user, data={"accounts": {k: a.pk for k, a in accounts.items()}})
    ids = {kind: account.pk for kind, account in accounts.items()}
    transaction.on_commit(lambda: _remember_wallet(user.pk, ids))
    return WalletAccounts(
        available=accounts[AccountKind.AVAILABLE],
        held=accounts[AccountKind.HELD],
        pending_withdrawal=accounts[AccountKind.PENDING_WITHDRAWAL],
    )


def wallet_cached(*, user) -> WalletAccounts | None:
    """The user's accounts, carrying only ids, when this process knows them from a committed
    `wallet_open`; else None. Costs no query and opens nothing."""
    cached = WALLET_ACCOUNT_IDS.get(user.pk)
    if cached is None:
        return None
    return WalletAccounts(**{kind: LedgerAccount(pk=pk, owner_id=user.pk, kind=kind, is_system=False)
                             for kind, pk in cached.items()})


def _remember_wallet(user_id: int, ids: dict[str, int]) -> None:
    if len(WALLET_ACCOUNT_IDS) >= WALLET_CACHE_SIZE:
        WALLET_ACCOUNT_IDS.clear()
    WALLET_ACCOUNT_IDS[user_id] = ids


def _positive(amount) -> Decimal:
    value = to_money(amount)
    if value != amount or value <= 0:
        raise ValueError(f"Amount must be positive and in paise, not {amount!r}.")
    return value


def _payee_account(payee) -> LedgerAccount:
    """A user (their `available` account) or a system account."""
    if isinstance(payee, LedgerAccount):
        if not payee.is_system:
            raise ValueError("Pay a user by passing the user, not one of their ledger accounts.")
        return payee
    return wallet_open(user=payee).available


def _fee_legs(payer_account, payee_account, fee, payee_fee) -> list:
    legs = []
    fees = None
    if fee:
        fees = wallet_system_account(AccountKind.FEES)
        legs.append((payer_account, fees, _positive(fee)))
    if payee_fee:
        fees = fees or wallet_system_account(AccountKind.FEES)
        legs.append((payee_account, fees, _positive(payee_fee)))
    return legs


def _lock_hold(*, user, reference: str) -> WalletHold:
    hold, _ = WalletHold.objects.get_or_create(user=user, reference=reference)
    return WalletHold.objects.select_for_update().get(pk=hold.pk)


@retry_on_deadlock
def wallet_hold(*, user, amount: Decimal, reference: str, created_by=None, memo: str = "") -> JournalEntry:
    """Move `amount` available → held for `reference` (e.g. `bid:42`). Holding again for the
    same reference adds to it. Locks the reference's hold row, then the accounts."""
    amount = _positive(amount)
    if not reference:
        raise ValueError("A hold needs a reference.")
    accounts = wallet_open(user=user)
    with transaction.atomic():
        hold = _lock_hold(user=user, reference=reference)
        entry = ledger_post(kind=EntryKind.HOLD, transfers=[(accounts.available, accounts.held, amount)],
                            reference=reference, memo=memo, created_by=created_by)
        hold.amount += amount
        hold.save(update_fields=["amount", "updated_at"])
    return entry


@retry_on_deadlock
def wallet_release(*, user, amount: Decimal, reference: str, created_by=None, memo: str = "") -> JournalEntry:
    """Move `amount` held → available for `reference`; never more than is held for it."""
    amount = _positive(amount)
    accounts = wallet_open(user=user)
    with transaction.atomic():
        hold = _lock_hold(user=user, reference=reference)
        if amount > hold.amount:
            raise HoldExceeded(f"Only {hold.amount} is held for {reference}; cannot release {amount}.")
        entry = ledger_post(kind=EntryKind.RELEASE, transfers=[(accounts.held, accounts.available, amount)],
                            reference=reference, memo=memo, created_by=created_by)
        hold.amount -= amount
        hold.save(update_fields=["amount", "updated_at"])
    return entry


def hold_exceeded(*, held: Decimal, reference: str, total: Decimal) -> HoldExceeded:
    """The refusal of a payment of `total` from a hold of `held` (the same words whichever
    path found it: this module, or the database's `trading_settle`)."""
    return HoldExceeded(f"Only {held} is held for {reference}; cannot pay {total}.")


@retry_on_deadlock
def wallet_pay_from_hold(*, payer, payee, amount: Decimal, fee: Decimal = ZERO, payee_fee: Decimal = ZERO,
                         reference: str, kind: str = EntryKind.PAYMENT, created_by=None,
                         memo: str = "") -> JournalEntry:
    """Pay `amount` from the payer's hold for `reference` to `payee` (a user's available
    account, or a system account from `wallet_system_account`), plus the payer's `fee` from
    the same hold and the payee's `payee_fee` from what they receive, in one entry. The hold
    shrinks by `amount + fee`."""
    amount = _positive(amount)
    accounts = wallet_open(user=payer)
    payee_account = _payee_account(payee)
    with transaction.atomic():
        hold = _lock_hold(user=payer, reference=reference)
        total = amount + (fee or ZERO)
        if total > hold.amount:
            raise hold_exceeded(held=hold.amount, reference=reference, total=total)
        legs = [(accounts.held, payee_account, amount), *_fee_legs(accounts.held, payee_account, fee, payee_fee)]
        entry = ledger_post(kind=kind, transfers=legs, reference=reference, memo=memo, created_by=created_by)
        hold.amount -= total
        hold.save(update_fields=["amount", "updated_at"])
    return entry


def wallet_transfer(*, payer, payee, amount: Decimal, fee: Decimal = ZERO, payee_fee: Decimal = ZERO,
                    reference: str, kind: str = EntryKind.TRANSFER, created_by=None, memo: str = "",
                    idempotency_key: str | None = None) -> JournalEntry:
    """Move `amount` from the payer's available account to `payee` (a user or a system
    account), with the payer's `fee` and the payee's `payee_fee` going to `fees`, in one
    entry (the shape of a marketplace buy)."""
    amount = _positive(amount)
    payer_account = wallet_open(user=payer).available
    payee_account = _payee_account(payee)
    legs = [(payer_account, payee_account, amount), *_fee_legs(payer_account, payee_account, fee, payee_fee)]
    return ledger_post(kind=kind, transfers=legs, reference=reference, memo=memo, created_by=created_by,
                       idempotency_key=idempotency_key)


def wallet_credit_from_system(*, user, system_kind: str, amount: Decimal, reference: str,
                              offering_id: int | None = None, kind: str = EntryKind.CREDIT, created_by=None,
                              memo: str = "", idempotency_key: str | None = None) -> JournalEntry:
    """Credit the user's available account from a system account (e.g. `escrow` of an
    offering for a distribution)."""
    source = wallet_system_account(system_kind, offering_id)
    return ledger_post(kind=kind, transfers=[(source, wallet_open(user=user).available, _positive(amount))],
                       reference=reference, memo=memo, created_by=created_by, idempotency_key=idempotency_key)


def wallet_debit_to_system(*, user, system_kind: str, amount: Decimal, reference: str,
                           offering_id: int | None = None, kind: str = EntryKind.DEBIT, created_by=None,
                           memo: str = "", idempotency_key: str | None = None) -> JournalEntry:
    """Debit the user's available account into a system account (a fee charged alone)."""
    target = wallet_system_account(system_kind, offering_id)
    return ledger_post(kind=kind, transfers=[(wallet_open(user=user).available, target, _positive(amount))],
                       reference=reference, memo=memo, created_by=created_by, idempotency_key=idempotency_key)


def wallet_system_transfer(*, debit_kind: str, credit_kind: str, amount: Decimal, reference: str,
                           offering_id: int | None = None, kind: str = EntryKind.SYSTEM_TRANSFER,
                           created_by=None, memo: str = "", idempotency_key: str | None = None) -> JournalEntry:
    """Move money between two system accounts (e.g. `loan_book → bank` when an invoice is
    disbursed: money leaving the platform goes to `bank`, see invoices/ledger.py and ADR
    0006). `offering_id` names the escrow account when either side is `escrow`."""
    debit = wallet_system_account(debit_kind, offering_id if debit_kind == AccountKind.ESCROW else None)
    credit = wallet_system_account(credit_kind, offering_id if credit_kind == AccountKind.ESCROW else None)
    return ledger_post(kind=kind, transfers=[(debit, credit, _positive(amount))], reference=reference, memo=memo,
                       created_by=created_by, idempotency_key=idempotency_key)
