"""Admin: reference data is editable here only through services; money and workflow rows
are read-only (state changes go through the API's services)."""

from django.contrib import admin
from django.db.models import Q

from core.admin import ReadOnlyAdmin
from core.crypto import blind_index
from invoices.models import (
    Counterparty,
    FinanceRequest,
    FinanceRequestSignature,
    Invoice,
    Party,
    PartyMembership,
    Program,
    Repayment,
    WorkflowEvent,
)


@admin.register(Party)
class PartyAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "legal_name", "masked_pan", "masked_gstin", "kind", "signatures_required",
                    "is_active")
    list_filter = ("organization", "kind", "is_active")
    search_fields = ("legal_name",)
    search_help_text = "A legal name, or a whole PAN or GSTIN."
    exclude = ("pan", "pan_index", "gstin", "gstin_index")
    readonly_fields = ("masked_pan", "masked_gstin")

    def get_search_results(self, request, queryset, search_term):
        """PAN and GSTIN are encrypted: a whole one is found through its blind index."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            index = blind_index(search_term)
            found |= queryset.filter(Q(pan_index=index) | Q(gstin_index=index))
        return found, may_have_duplicates


@admin.register(PartyMembership)
class PartyMembershipAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "party", "user", "role", "created_at")
    list_filter = ("organization", "role")
    list_select_related = ("organization", "party", "user")


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "name", "kind", "anchor", "status", "max_limit_amount", "used_limit")
    list_filter = ("organization", "kind", "status")
    list_select_related = ("organization", "anchor")


@admin.register(Counterparty)
class CounterpartyAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "program", "party", "limit_amount", "used_limit", "is_active")
    list_select_related = ("organization", "program", "party")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "number", "seller", "buyer", "amount", "due_date", "status")
    list_filter = ("organization", "status")
    search_fields = ("number", "external_id")
    list_select_related = ("organization", "seller", "buyer")


class SignatureInline(admin.TabularInline):
    model = FinanceRequestSignature
    extra = 0
    can_delete = False
    readonly_fields = ("step", "signer", "role", "signed_at")

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = WorkflowEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "actor", "action", "from_status", "to_status", "data")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FinanceRequest)
class FinanceRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "invoice", "party", "status", "finance_amount", "net_disbursal_amount",
                    "due_date", "principal_repaid")
    list_filter = ("organization", "status")
    list_select_related = ("organization", "invoice", "party")
    inlines = (SignatureInline, EventInline)


@admin.register(Repayment)
class RepaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "invoice", "amount", "principal_amount", "interest_amount", "received_on",
                    "reference", "source")
    list_filter = ("organization", "source")
    search_fields = ("reference",)


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "organization", "finance_request", "action", "from_status", "to_status", "actor", "at")
    list_filter = ("organization", "action")
