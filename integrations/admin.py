from django.contrib import admin

from core.admin import ReadOnlyAdmin
from integrations.models import ApiCall, OutboundMessage


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "service", "provider", "operation", "outcome", "http_status", "latency_ms")
    list_filter = ("service", "provider", "outcome")
    search_fields = ("operation", "request_id")


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "channel", "to", "body")
    list_filter = ("channel",)
    search_fields = ("to",)
