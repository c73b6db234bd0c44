"""Trading in the Django admin. Units and trades are ledgers: read-only here. State changes
go through the same services as the API: fractionalize an invoice (the offering's "add"
page), post units for sale, and cancel a listing (`listing_cancel_by_staff`). Servicing's
admin adds its own actions to the offering's page (record a repayment, mark a default)
with `OfferingAdmin.with_form`, so trading never imports servicing."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from trading import services
from trading.enums import ListingStatus, ScheduleKind
from trading.models import Holding, Listing, Offering, Trade, UnitTransfer


class FractionalizeForm(forms.Form):
    invoice = forms.IntegerField(min_value=1, help_text="ID of a financed invoice.")
    total_units = forms.IntegerField(min_value=1, max_value=10_000_000)
    schedule_kind = forms.ChoiceField(choices=ScheduleKind.choices, initial=ScheduleKind.BULLET)
    frequency = forms.ChoiceField(choices=[("", "—"), ("monthly", "Monthly"), ("quarterly", "Quarterly"),
                                           ("half_yearly", "Half-yearly"), ("annual", "Annual")], required=False)
    annual_rate = forms.DecimalField(max_digits=9, decimal_places=6, required=False,
                                     help_text="Annual effective rate as a fraction (0.12 = 12%).")
    balloon_share = forms.DecimalField(max_digits=5, decimal_places=4, required=False)
    price_per_unit = forms.DecimalField(max_digits=18, decimal_places=2, required=False, min_value=Decimal("0.01"))
    target_xirr = forms.DecimalField(max_digits=12, decimal_places=8, required=False)

    def clean(self):
        data = super().clean()
        if (data.get("price_per_unit") is None) == (data.get("target_xirr") is None):
            raise forms.ValidationError("Give either a price per unit or a target XIRR.")
        return data


class PostForm(forms.Form):
    units = forms.IntegerField(min_value=1)
    price_per_unit = forms.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    min_units = forms.IntegerField(min_value=1, initial=1)


@admin.register(Offering)
class OfferingAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "organization", "status", "total_units", "unit_face_value", "issue_price",
                    "implied_xirr", "maturity_date", "days_past_due")
    list_filter = ("status", "schedule_kind", "organization")
    search_fields = ("title", "invoice__number")
    list_select_related = ("organization",)
    actions = ("post_inventory",)

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def add_view(self, request, form_url="", extra_context=None):
        """"Add offering" is fractionalization: `trading.services.offering_fractionalize`."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = FractionalizeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            values = form.cleaned_data
            from invoices.models import Invoice

            invoice = Invoice.objects.filter(pk=values["invoice"]).select_related("organization").first()
            try:
                if invoice is None:
                    raise DomainError("No such invoice.", code="not_found")
                offering = services.offering_fractionalize(
                    organization=invoice.organization, invoice_id=invoice.pk, total_units=values["total_units"],
                    schedule_kind=values["schedule_kind"], frequency=values["frequency"] or "",
                    annual_rate=values["annual_rate"], balloon_share=values["balloon_share"],
                    price_per_unit=values["price_per_unit"], target_xirr=values["target_xirr"],
                    created_by=request.user,
                )
            except DomainError as exc:
                form.add_error(None, str(exc.detail))
            else:
                self.message_user(request, f"Offering {offering.pk} configured: {offering.total_units} units.",
                                  messages.SUCCESS)
                return redirect("admin:trading_offering_change", offering.pk)
        context = {**self.admin_site.each_context(request), "title": "Fractionalize an invoice", "form": form,
                   "opts": self.model._meta, "submit_label": "Fractionalize"}
        return TemplateResponse(request, "admin/trading/form_page.html", context)

    def with_form(self, request, queryset, *, form_class, action: str, title: str, label: str, apply):
        """An action that asks for a few fields, then calls a service once per offering."""
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for offering in queryset:
                try:
                    apply(offering, form.cleaned_data)
                    done += 1
                except DomainError as exc:
                    self.message_user(request, f"Offering {offering.pk}: {exc.detail}", messages.ERROR)
            if done:
                self.message_user(request, f"{title}: {done} offering(s) done.", messages.SUCCESS)
            return None
        context = {**self.admin_site.each_context(request), "title": title, "form": form, "objects": queryset,
                   "action": action, "opts": self.model._meta, "submit_label": label,
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return TemplateResponse(request, "admin/trading/action_form.html", context)

    @admin.action(description="Post units for sale (primary listing)")
    def post_inventory(self, request, queryset):
        return self.with_form(request, queryset, form_class=PostForm, action="post_inventory",
                               title="Post units for sale", label="Post", apply=lambda offering, values: (
                                   services.listing_post_primary(
                                       organization=offering.organization, offering_id=offering.pk,
                                       units=values["units"], price_per_unit=values["price_per_unit"],
                                       min_units=values["min_units"], created_by=request.user)))


@admin.register(Holding)
class HoldingAdmin(ReadOnlyAdmin):
    list_display = ("id", "owner", "offering", "units", "units_listed", "cost_basis", "updated_at")
    list_filter = ("offering",)
    search_fields = ("owner__phone", "owner__name", "offering__title")
    list_select_related = ("owner", "offering")


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    list_display = ("id", "offering", "kind", "seller", "units_offered", "units_remaining", "price_per_unit",
                    "status", "opens_at", "closes_at")
    list_filter = ("status", "kind")
    search_fields = ("seller__phone", "offering__title")
    list_select_related = ("offering", "seller")
    date_hierarchy = "created_at"
    actions = ("cancel_selected",)

    @admin.action(description="Cancel selected open listings")
    def cancel_selected(self, request, queryset):
        done = 0
        for listing in queryset.filter(status=ListingStatus.OPEN):
            try:
                services.listing_cancel_by_staff(actor=request.user, listing_id=listing.pk)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"Listing {listing.pk}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{done} listing(s) cancelled.", messages.SUCCESS if done else messages.WARNING)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "offering", "buyer", "seller", "units", "price_per_unit", "amount",
                    "buyer_fee", "seller_fee", "bid_id")
    list_filter = ("listing__kind",)
    search_fields = ("buyer__phone", "seller__phone", "offering__title")
    list_select_related = ("offering", "buyer", "seller")
    date_hierarchy = "created_at"


@admin.register(UnitTransfer)
class UnitTransferAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "offering", "kind", "from_holding", "to_holding", "units", "trade",
                    "reference")
    list_filter = ("kind",)
    search_fields = ("reference", "offering__title")
    list_select_related = ("offering",)

