"""Servicing in the Django admin. Distributions and their lines are ledgers: read-only. An
offering's page (trading's admin) gains two actions here, so trading never imports
servicing: record a repayment (distributed to holders) and mark a default, through the
same services as the API."""

from decimal import Decimal

from django import forms
from django.contrib import admin

from core.admin import ReadOnlyAdmin
from servicing.models import Distribution, DistributionLine
from servicing.services import distribution_record, offering_default
from trading.admin import OfferingAdmin


@admin.register(Distribution)
class DistributionAdmin(ReadOnlyAdmin):
    list_display = ("id", "offering", "reference", "source", "status", "amount", "principal", "interest", "tds",
                    "spread", "shortfall", "matured", "received_on", "paid_at")
    list_filter = ("status", "source", "matured")
    search_fields = ("reference", "offering__title")
    list_select_related = ("offering",)


@admin.register(DistributionLine)
class DistributionLineAdmin(ReadOnlyAdmin):
    list_display = ("id", "distribution", "user", "units", "principal", "interest", "gross", "tds", "net", "paid_on")
    search_fields = ("user__phone",)
    list_select_related = ("user",)
    date_hierarchy = "paid_on"


class RepaymentForm(forms.Form):
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    received_on = forms.DateField(help_text="YYYY-MM-DD")
    reference = forms.CharField(max_length=100)


class DefaultForm(forms.Form):
    reason = forms.CharField(max_length=255, widget=forms.TextInput(attrs={"size": 80}))


@admin.action(description="Record a repayment (distributed to holders)")
def record_repayment(modeladmin, request, queryset):
    return modeladmin.with_form(request, queryset, form_class=RepaymentForm, action="record_repayment",
                                title="Record a repayment", label="Record", apply=lambda offering, values: (
                                    distribution_record(
                                        organization=offering.organization, offering_id=offering.pk,
                                        amount=values["amount"], received_on=values["received_on"],
                                        reference=values["reference"], actor=request.user)))


@admin.action(description="Mark as defaulted")
def mark_default(modeladmin, request, queryset):
    return modeladmin.with_form(request, queryset, form_class=DefaultForm, action="mark_default",
                                title="Mark offerings defaulted", label="Mark defaulted",
                                apply=lambda offering, values: offering_default(
                                    organization=offering.organization, offering_id=offering.pk,
                                    reason=values["reason"], actor=request.user))


OfferingAdmin.actions = (*OfferingAdmin.actions, record_repayment, mark_default)
