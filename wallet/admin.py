"""Ledger and payments in the admin: visible, never edited here (money moves only through
wallet.services; offline deposits are decided in the verifier queue)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from wallet.models import (
    Deposit,
    JournalEntry,
    LedgerAccount,
    ProviderEvent,
    ReconciliationRun,
    Transfer,
    WalletHold,
    Withdrawal,
)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "owner", "kind", "balance", "is_system", "offering_id", "currency", "created_at")
    list_filter = ("kind", "is_system")
    search_fields = ("owner__phone",)
    list_select_related = ("owner",)


class TransferInline(admin.TabularInline):
    model = Transfer
    fields = ("debit_account", "credit_account", "amount", "debit_balance_after", "credit_balance_after")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "reference", "memo", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("reference", "memo", "idempotency_key")
    inlines = (TransferInline,)


@admin.register(WalletHold)
class WalletHoldAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "reference", "amount", "updated_at")
    search_fields = ("reference", "user__phone")


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "amount", "method", "status", "reference", "provider", "created_at")
    list_filter = ("status", "method", "provider")
    search_fields = ("reference", "provider_payment_id", "user__phone")
    list_select_related = ("user",)
    actions = ("verify_selected",)

    @admin.action(description="Verify selected offline deposits (credit the wallet)")
    def verify_selected(self, request, queryset):
        """The verifier queue's approve, through the same service (checks, audit, events)."""
        from django.contrib import messages

        from core.errors import DomainError
        from wallet.services.deposits import deposit_approve

        done = 0
        for deposit in queryset:
            try:
                deposit_approve(actor=request.user, deposit_id=deposit.pk, note="Verified in the Django admin.")
                done += 1
            except DomainError as exc:
                self.message_user(request, f"Deposit {deposit.pk}: {exc.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} deposit(s) verified and credited.", messages.SUCCESS)


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "amount", "status", "provider_payout_id", "attempts", "created_at", "paid_at")
    list_filter = ("status",)
    search_fields = ("provider_payout_id", "user__phone")
    list_select_related = ("user",)


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "channel", "provider", "event_id", "kind", "object_id", "outcome", "received_at")
    list_filter = ("channel", "provider", "outcome")
    search_fields = ("event_id", "object_id")


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "finished_at", "is_clean", "trigger")
    list_filter = ("is_clean",)
