"""Django admin for KYC: read-only records; approve and reject go through the services,
exactly as the API's review queue does (same checks, audit and events)."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from kyc import services
from kyc.models import BankAccount, KYCDocument, KYCProfile


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"size": 80}))


@admin.register(KYCProfile)
class KYCProfileAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "full_name", "masked_pan", "status", "name_match", "submitted_at",
                    "reviewed_by")
    list_filter = ("status", "kind")
    search_fields = ("user__phone", "full_name", "company_name")
    list_select_related = ("user", "reviewed_by")
    exclude = ("pan", "pan_index", "gstin")
    readonly_fields = ("masked_pan", "masked_gstin")
    actions = ("approve_selected", "reject_selected")

    @admin.action(description="Approve selected KYC")
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, lambda profile: services.kyc_approve(
            actor=request.user, profile_id=profile.pk, reason="Approved in the Django admin."))

    @admin.action(description="Reject selected KYC (asks for a reason)")
    def reject_selected(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._decide(request, queryset, lambda profile: services.kyc_reject(
                actor=request.user, profile_id=profile.pk, reason=reason))
            return None
        context = {**self.admin_site.each_context(request), "title": "Reject KYC", "form": form,
                   "profiles": queryset, "action": "reject_selected", "opts": self.model._meta,
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/kyc/reject_reason.html", context)

    def _decide(self, request, queryset, decide) -> None:
        done = 0
        for profile in queryset:
            try:
                decide(profile)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"KYC {profile.pk}: {exc.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} KYC profile(s) updated.", messages.SUCCESS)


@admin.register(KYCDocument)
class KYCDocumentAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "content_type", "size", "uploaded_at")
    list_filter = ("kind", "content_type")
    search_fields = ("user__phone",)
    list_select_related = ("user",)
    exclude = ("file",)  # downloads go through the API, which checks who may read them


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "ifsc", "masked_account_number", "holder_name", "status", "name_match",
                    "is_primary", "created_at")
    list_filter = ("status", "is_primary")
    search_fields = ("user__phone", "ifsc", "holder_name")
    list_select_related = ("user",)
    exclude = ("account_number", "account_index")
    readonly_fields = ("masked_account_number",)
