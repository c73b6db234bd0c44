"""Bids are read-only in the admin: every change moves money, so it goes through the
services (and the API), never through a form."""

from django.contrib import admin

from bidding.models import Bid, BidEvent
from core.admin import ReadOnlyAdmin


class BidEventInline(admin.TabularInline):
    model = BidEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "status", "units", "units_filled", "price_per_unit", "held_amount",
              "trade")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Bid)
class BidAdmin(ReadOnlyAdmin):
    list_display = ("id", "listing", "bidder", "seller", "units", "units_filled", "price_per_unit", "held_amount",
                    "status", "expires_at", "created_at")
    list_filter = ("status",)
    search_fields = ("bidder__phone", "seller__phone", "listing__id")
    list_select_related = ("listing", "bidder", "seller")
    inlines = (BidEventInline,)
