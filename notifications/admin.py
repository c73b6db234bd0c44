from django.contrib import admin

from core.admin import ReadOnlyAdmin
from notifications.models import Notification, NotificationDelivery, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "title", "is_in_app", "created_at", "read_at")
    list_filter = ("kind", "is_in_app")
    search_fields = ("user__phone", "event_key", "title")
    list_select_related = ("user",)


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "notification", "channel", "to", "status", "attempts", "created_at", "sent_at")
    list_filter = ("channel", "status")
    search_fields = ("to",)
    list_select_related = ("notification",)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "channel", "enabled", "updated_at")
    list_filter = ("kind", "channel", "enabled")
    list_select_related = ("user",)
