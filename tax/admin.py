"""Tax in the Django admin. Deductions are a ledger: read-only. Tax rules are data staff may
add (a new row with its own effective date, rather than editing one in force).
Declarations are decided through the same service as the API."""

from django.contrib import admin, messages

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from tax.enums import DeclarationStatus
from tax.models import TaxDeclaration, TaxRule, TDSDeduction
from tax.services import tax_declaration_decide


@admin.register(TDSDeduction)
class TDSDeductionAdmin(ReadOnlyAdmin):
    list_display = ("id", "deducted_on", "user", "pan_masked", "section", "financial_year", "reason", "gross", "rate",
                    "tds", "net", "source_type", "source_id")
    list_filter = ("financial_year", "section", "reason", "pan_valid")
    search_fields = ("user__phone", "pan_masked")
    list_select_related = ("user",)


@admin.register(TaxRule)
class TaxRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "section", "rate_with_pan", "rate_without_pan", "yearly_threshold", "effective_from",
                    "effective_to")

    def has_delete_permission(self, request, obj=None):
        return False  # deductions refer to the rule they were made under


@admin.register(TaxDeclaration)
class TaxDeclarationAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "financial_year", "form", "status", "submitted_at", "decided_by", "decided_at")
    list_filter = ("status", "financial_year", "form")
    search_fields = ("user__phone",)
    list_select_related = ("user", "decided_by")
    actions = ("accept_selected", "reject_selected")

    def _decide(self, request, queryset, *, accept: bool):
        done = 0
        for declaration in queryset.filter(status=DeclarationStatus.PENDING):
            try:
                tax_declaration_decide(actor=request.user, declaration_id=declaration.pk, accept=accept)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"Declaration {declaration.pk}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{done} declaration(s) decided.", messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Accept selected declarations")
    def accept_selected(self, request, queryset):
        self._decide(request, queryset, accept=True)

    @admin.action(description="Reject selected declarations")
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, accept=False)
