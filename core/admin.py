from django.contrib import admin

from core.models import AuditEvent, IdempotencyKey, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that only code writes (ledgers, logs, audit): visible, never editable."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "actor", "impersonator", "target_type", "target_id", "ip")
    list_filter = ("action", "target_type", ("impersonator", admin.EmptyFieldListFilter))
    search_fields = ("action", "target_id", "request_id", "actor__phone", "impersonator__phone")
    list_select_related = ("actor", "impersonator")
    date_hierarchy = "at"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "topic", "handler", "status", "attempts", "created_at", "processed_at")
    list_filter = ("status", "topic")


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "key", "status", "response_status", "created_at")
    list_filter = ("status",)
    list_select_related = ("user",)
