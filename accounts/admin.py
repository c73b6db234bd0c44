from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import OtpChallenge, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("-id",)
    list_display = ("id", "phone", "name", "email", "role", "is_active", "is_staff", "date_joined")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("phone", "name", "email")
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        ("Profile", {"fields": ("name", "email", "role")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("phone", "role", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")


@admin.register(OtpChallenge)
class OtpChallengeAdmin(admin.ModelAdmin):
    """Read-only: codes are stored only as hashes and are never shown."""

    list_display = ("id", "phone", "ip", "created_at", "expires_at", "attempts", "consumed_at")
    search_fields = ("phone",)
    exclude = ("code_hash",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
