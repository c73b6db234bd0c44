from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Invitation, Organization, OrganizationMembership, OtpChallenge, User


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
    actions = ("deactivate_selected", "activate_selected")

    def get_readonly_fields(self, request, obj=None):
        # Role and access change only through `user_update_by_staff` (its rules and audit):
        # the actions below, or PATCH /api/v1/admin/users/<id>/.
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "role", "is_active", "is_staff", "is_superuser", "groups",
                "user_permissions")

    @admin.action(description="Deactivate selected users (their tokens stop working at once)")
    def deactivate_selected(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Activate selected users")
    def activate_selected(self, request, queryset):
        self._set_active(request, queryset, True)

    def _set_active(self, request, queryset, is_active: bool) -> None:
        from django.contrib import messages

        from accounts.services import user_update_by_staff
        from core.errors import DomainError

        done = 0
        for user in queryset:
            try:
                user_update_by_staff(actor=request.user, user_id=user.pk, is_active=is_active)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{user}: {exc.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} user(s) updated.", messages.SUCCESS)


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


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("id", "slug", "name", "is_active", "created_at")
    search_fields = ("slug", "name")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(OrganizationMembership)
class OrganizationMembershipAdmin(admin.ModelAdmin):
    list_display = ("id", "organization", "user", "role", "created_at")
    list_filter = ("organization", "role")
    search_fields = ("user__phone", "user__name", "organization__slug")
    list_select_related = ("organization", "user")
    autocomplete_fields = ("user",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are made and answered through accounts.invitations (audited)."""

    list_display = ("id", "organization", "phone", "scope", "scope_id", "status", "created_at", "expires_at")
    list_filter = ("status", "scope", "organization")
    search_fields = ("phone",)
    list_select_related = ("organization",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
