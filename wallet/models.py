"""The wallet's ledger: double entry, append-only, one writer.

Design (DESIGN.md §3):

- A `LedgerAccount` is either a user's (`available`, `held`, `pending_withdrawal`; owner set)
  or a system account (`bank`, `fees`, `tds_payable`, `loan_book`, `platform_proceeds`, and
  one `escrow` per offering; owner null, `is_system`). Its balance is credits - debits.
- Every movement is one `JournalEntry` with one or more `Transfer`s
  `(debit_account, credit_account, amount > 0)`, so each entry balances by construction and
  the sum of all balances is zero.
- User accounts keep a cached `balance`: `ledger_post` locks the accounts, computes each new
  balance from the locked one, refuses a negative one and writes it in the same transaction
  as the transfers (as a value on the ORM path; on PostgreSQL `wallet_post_entry()` adds the
  change, which under the lock is the same), guarded by `CHECK (balance >= 0)`. Each
  transfer also records the balance after it on each user side (`*_balance_after`), which
  is what the statement shows, and its entry's time (`created_at`), so reports over a date
  range read the transfers alone (`reconcile` checks the two times agree).
- System accounts are never locked or updated when money moves (every trade would queue on
  the `fees` row): their `balance` column stays 0 and their balance is the sum of their
  transfers (`wallet.selectors.ledger_account_balance`). `reconcile` checks both views.
- Entries and transfers are append-only: on PostgreSQL a trigger refuses UPDATE and DELETE
  (migration 0002). A mistake is corrected by a new, reversing entry.
- `wallet.services.ledger_post` is the only code that creates entries or changes balances.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.money import MoneyField
from wallet.enums import (
    AccountKind,
    DepositMethod,
    DepositStatus,
    EventChannel,
    WithdrawalStatus,
)


class LedgerAccount(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    currency = models.CharField(max_length=3, default="INR")
    # Cached for user accounts only; always 0 for system accounts (see the module docstring).
    balance = MoneyField(default=0)
    is_system = models.BooleanField(default=False)
    # Escrow accounts belong to one offering. No foreign key: the wallet must not import invoices.
    offering_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("owner", "kind"), condition=Q(owner__isnull=False), name="wallet_account_owner_kind_uniq"
            ),
            models.UniqueConstraint(
                fields=("kind",),
                condition=Q(owner__isnull=True, offering_id__isnull=True),
                name="wallet_account_system_kind_uniq",
            ),
            models.UniqueConstraint(
                fields=("kind", "offering_id"),
                condition=Q(offering_id__isnull=False),
                name="wallet_account_offering_kind_uniq",
            ),
            models.CheckConstraint(
                condition=Q(is_system=True) | Q(balance__gte=0), name="wallet_account_user_balance_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(is_system=True, owner__isnull=True) | Q(is_system=False, owner__isnull=False),
                name="wallet_account_owner_iff_user",
            ),
            models.CheckConstraint(
                condition=Q(offering_id__isnull=True) | Q(kind=AccountKind.ESCROW),
                name="wallet_account_offering_only_escrow",
            ),
        ]

    def __str__(self) -> str:
        if self.is_system:
            return f"system:{self.kind}" + (f":{self.offering_id}" if self.offering_id else "")
        return f"user:{self.owner_id}:{self.kind}"


class JournalEntry(models.Model):
    kind = models.CharField(max_length=48)
    reference = models.CharField(max_length=100, blank=True)
    memo = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Makes a posting safe to repeat: a second post with the same key returns the first entry.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        verbose_name_plural = "journal entries"
        indexes = [
            models.Index(fields=("reference",), name="wallet_entry_reference_idx"),
            models.Index(fields=("kind", "created_at"), name="wallet_entry_kind_at_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.reference}"


class Transfer(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="transfers")
    debit_account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="+", db_index=False)
    credit_account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="+", db_index=False)
    amount = MoneyField()
    # The user account's balance right after this transfer (null on a system side).
    debit_balance_after = MoneyField(null=True, blank=True)
    credit_balance_after = MoneyField(null=True, blank=True)
    # Its entry's time (`entry.created_at`, the same value, written by `ledger_post`), kept on
    # the transfer so a date range is an index range on this table, not a walk over entries.
    # No default, so a writer that leaves it out never records another time: on SQLite the
    # insert fails; on PostgreSQL a trigger (migration 0003) puts in the entry's, which is
    # what processes older than this column need during a deploy.
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")), name="wallet_transfer_distinct_accounts"
            ),
        ]
        indexes = [
            # Statements and balance sums read one account's transfers newest first.
            models.Index(fields=("debit_account", "id"), name="wallet_transfer_debit_idx"),
            models.Index(fields=("credit_account", "id"), name="wallet_transfer_credit_idx"),
            # Reports over a period (the admin `transactions` report). One account's period is
            # served by the two above, so no per-account time index (each costs every posting).
            models.Index(fields=("created_at",), name="wallet_transfer_created_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.debit_account_id} → {self.credit_account_id} {self.amount}"


class WalletHold(models.Model):
    """What the wallet holds for one reference (`bid:42`), so a release or a payment can never
    take more than was held for it. The owner of the reference (a bid) keeps its own view;
    `reconcile` compares the two through registered hold providers (`wallet.holds`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=100)
    amount = MoneyField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "reference"), name="wallet_hold_user_reference_uniq"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="wallet_hold_amount_nonneg"),
        ]

    def __str__(self) -> str:
        return f"hold {self.reference} {self.amount}"


def deposit_proof_path(instance: "Deposit", filename: str) -> str:
    # A random name (core.uploads): nothing the client chose, nor whose proof it is, in the path.
    from core.uploads import upload_path

    return upload_path("deposits", filename)


class Deposit(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deposits")
    amount = MoneyField()
    method = models.CharField(max_length=16, choices=DepositMethod.choices)
    status = models.CharField(max_length=24, choices=DepositStatus.choices)
    # Offline: the payer's reference (UTR, UPI id, cheque number, receipt number).
    reference = models.CharField(max_length=64, blank=True)
    proof = models.FileField(upload_to=deposit_proof_path, blank=True)
    # Gateway: the provider and its payment id (unique per provider).
    provider = models.CharField(max_length=16, blank=True)
    provider_payment_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (unset until the provider answers; unique when set)
    payment_url = models.URLField(max_length=500, blank=True)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    entry = models.ForeignKey(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_deposit_amount_positive"),
            models.UniqueConstraint(
                fields=("provider", "provider_payment_id"),
                condition=Q(provider_payment_id__isnull=False),
                name="wallet_deposit_provider_payment_uniq",
            ),
            # One payer reference (a UTR, a cheque number) can fund one deposit only.
            models.UniqueConstraint(
                fields=("method", "reference"),
                condition=Q(status__in=(DepositStatus.PENDING_VERIFICATION, DepositStatus.CREDITED))
                & ~Q(method=DepositMethod.GATEWAY),
                name="wallet_deposit_offline_reference_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=("user", "-id"), name="wallet_deposit_user_idx"),
            models.Index(fields=("status", "created_at"), name="wallet_deposit_status_idx"),
        ]

    def __str__(self) -> str:
        return f"deposit #{self.pk} {self.amount} {self.method} {self.status}"


class Withdrawal(models.Model):
    """Money out to a verified bank account. Its status is the state of the money in
    `pending_withdrawal` and changes only under this row's lock (wallet.services.withdrawals)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    amount = MoneyField()
    bank_account = models.ForeignKey("kyc.BankAccount", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=WithdrawalStatus.choices, default=WithdrawalStatus.PENDING)
    provider = models.CharField(max_length=16, blank=True)
    provider_payout_id = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_withdrawal_amount_positive")]
        indexes = [
            models.Index(fields=("user", "-id"), name="wallet_withdrawal_user_idx"),
            models.Index(
                fields=("updated_at",), name="wallet_withdrawal_inflight_idx",
                condition=Q(status__in=(WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING)),
            ),
        ]

    def __str__(self) -> str:
        return f"withdrawal #{self.pk} {self.amount} {self.status}"


class ProviderEvent(models.Model):
    """One webhook delivery we accepted. The unique key is what makes a replay a no-op."""

    channel = models.CharField(max_length=16, choices=EventChannel.choices)
    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=128)
    kind = models.CharField(max_length=48)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("channel", "provider", "event_id"), name="wallet_provider_event_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.provider} {self.event_id} {self.kind}"


class ReconciliationRun(models.Model):
    """One run of `wallet.reconcile.reconcile()` (nightly beat job or the command)."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    is_clean = models.BooleanField(default=False)
    differences = models.JSONField(default=list)
    trigger = models.CharField(max_length=16, default="beat")

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"reconcile {self.started_at:%Y-%m-%d %H:%M} {'clean' if self.is_clean else 'DIFFERENCES'}"


__all__ = [
    "Deposit",
    "JournalEntry",
    "LedgerAccount",
    "ProviderEvent",
    "ReconciliationRun",
    "Transfer",
    "WalletHold",
    "Withdrawal",
]
