"""Ledger accounts found (or created) by kind, with their ids cached per process."""

from django.db import IntegrityError, transaction

from wallet.enums import AccountKind
from wallet.models import LedgerAccount

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
