"""Reads of the wallet, each scoped to the caller."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, F, Q, QuerySet, Sum, When

from accounts.enums import Role
from core.errors import NotFound
from core.money import ZERO
from wallet.enums import USER_ACCOUNT_KINDS, AccountKind, DepositStatus
from wallet.models import Deposit, LedgerAccount, Transfer, Withdrawal

VERIFIER_ROLES = frozenset({Role.VERIFIER, Role.ADMIN, Role.SUPER_ADMIN})


@dataclass(frozen=True)
class WalletBalance:
    available: Decimal
    held: Decimal
    pending_withdrawal: Decimal
    currency: str


def wallet_balance(*, user) -> WalletBalance:
    """The caller's three balances (zeros before the wallet is opened). One query."""
    balances = dict(
        LedgerAccount.objects.filter(owner=user, kind__in=USER_ACCOUNT_KINDS).values_list("kind", "balance")
    )
    return WalletBalance(
        available=balances.get(AccountKind.AVAILABLE, ZERO),
        held=balances.get(AccountKind.HELD, ZERO),
        pending_withdrawal=balances.get(AccountKind.PENDING_WITHDRAWAL, ZERO),
        currency=settings.CURRENCY,
    )


def wallet_is_open(*, user) -> bool:
    return LedgerAccount.objects.filter(owner=user, kind__in=USER_ACCOUNT_KINDS).count() == len(USER_ACCOUNT_KINDS)


def ledger_account_balance(*, account: LedgerAccount) -> Decimal:
    """credits - debits from the transfers themselves: the balance of a system account
    (whose cached column is never updated), or a check of a user account's cached one."""
    credits = Transfer.objects.filter(credit_account=account).aggregate(total=Sum("amount"))["total"] or ZERO
    debits = Transfer.objects.filter(debit_account=account).aggregate(total=Sum("amount"))["total"] or ZERO
    return credits - debits


def wallet_system_balance(*, kind: str, offering_id: int | None = None) -> Decimal:
    account = LedgerAccount.objects.filter(owner__isnull=True, kind=kind, offering_id=offering_id).first()
    return ZERO if account is None else ledger_account_balance(account=account)


def wallet_statement(*, user, account_kind: str = AccountKind.AVAILABLE, date_from: date | None = None,
                     date_to: date | None = None, kind: str | None = None) -> QuerySet[Transfer]:
    """The caller's statement for one of their accounts, newest first: one row per transfer,
    annotated with `signed_amount` (+ in, - out) and `balance_after`."""
    account = LedgerAccount.objects.filter(owner=user, kind=account_kind).only("id").first()
    if account is None:
        return Transfer.objects.none()
    rows = (
        Transfer.objects.filter(Q(debit_account_id=account.pk) | Q(credit_account_id=account.pk))
        .select_related("entry")
        .annotate(
            signed_amount=Case(When(credit_account_id=account.pk, then=F("amount")), default=-F("amount")),
            balance_after=Case(
                When(credit_account_id=account.pk, then=F("credit_balance_after")), default=F("debit_balance_after")
            ),
        )
        .order_by("-id")
    )
    if date_from:
        rows = rows.filter(entry__created_at__date__gte=date_from)
    if date_to:
        rows = rows.filter(entry__created_at__date__lte=date_to)
    if kind:
        rows = rows.filter(entry__kind=kind)
    return rows


def deposit_list_for_user(*, user, status: str | None = None) -> QuerySet[Deposit]:
    deposits = Deposit.objects.filter(user=user).order_by("-id")
    return deposits.filter(status=status) if status else deposits


def deposit_get_for_user(*, user, deposit_id: int) -> Deposit:
    deposit = Deposit.objects.filter(user=user, pk=deposit_id).first()
    if deposit is None:
        raise NotFound("No such deposit.")
    return deposit


def deposit_verification_queue(*, status: str | None = DepositStatus.PENDING_VERIFICATION) -> QuerySet[Deposit]:
    """Offline deposits for verifiers, oldest first (the queue's natural order)."""
    from wallet.enums import OFFLINE_METHODS

    deposits = Deposit.objects.filter(method__in=OFFLINE_METHODS).select_related("user", "decided_by")
    if status:
        deposits = deposits.filter(status=status)
    return deposits.order_by("created_at", "id")


def deposit_get_for_verifier(*, deposit_id: int) -> Deposit:
    from wallet.enums import OFFLINE_METHODS

    deposit = Deposit.objects.select_related("user", "decided_by").filter(
        pk=deposit_id, method__in=OFFLINE_METHODS
    ).first()
    if deposit is None:
        raise NotFound("No such deposit.")
    return deposit


def withdrawal_list_for_user(*, user, status: str | None = None) -> QuerySet[Withdrawal]:
    withdrawals = Withdrawal.objects.filter(user=user).order_by("-id")
    return withdrawals.filter(status=status) if status else withdrawals


def withdrawal_get_for_user(*, user, withdrawal_id: int) -> Withdrawal:
    withdrawal = Withdrawal.objects.filter(user=user, pk=withdrawal_id).first()
    if withdrawal is None:
        raise NotFound("No such withdrawal.")
    return withdrawal


def wallet_onboarding_status(*, user) -> dict:
    """`GET /me/`'s onboarding block (the `ONBOARDING_PROVIDER`): KYC's view, with
    `wallet_ready` meaning the wallet's accounts are really open."""
    from kyc.selectors import onboarding_status

    status = dict(onboarding_status(user=user))
    status["wallet_ready"] = wallet_is_open(user=user)
    return status
