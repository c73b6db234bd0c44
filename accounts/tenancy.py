"""Tenancy: which organization a request acts in, and scoping every read to it.

An `Organization` is a tenant (DESIGN.md §4). Users are global and join organizations
through `OrganizationMembership`. The organization a request acts in is resolved from the
caller's memberships only: the one named by the `X-Organization: <slug>` header, checked
against their memberships (a slug they are not a member of is a 404, exactly like an unknown
one); else their default (`OrganizationMembership.is_default`, set with
`PUT /api/v1/me/organizations/default/`); else the organization they joined first. So a user
who joins a second organization keeps working in the first: a call never fails for naming
no organization. A value in a request body never chooses the organization. Users join
organizations only by accepting an invitation (`accounts.invitations`) or as staff set-up.

Views use `TenantApiMixin` (or the permissions below directly); selectors take the resolved
`Tenant` and filter with `scope_to_tenant` / `get_in_organization`, so another
organization's object is a 404 everywhere. This keeps PostgreSQL row-level security
possible later: every tenant table has `organization_id` first in its indexes.
"""

from dataclasses import dataclass

from django.db import models
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import BasePermission

from accounts.enums import PLATFORM_ORGANIZATION_SLUG, OrganizationRole
from accounts.models import Organization, OrganizationMembership, User
from core.errors import NotFound, PermissionDenied
from core.openapi import AutoSchema

ORGANIZATION_HEADER = "X-Organization"
_META_HEADER = "HTTP_X_ORGANIZATION"


@dataclass(frozen=True)
class Tenant:
    """The caller in the organization the request acts in."""

    user: User
    organization: Organization
    membership: OrganizationMembership

    @property
    def organization_id(self) -> int:
        return self.organization.pk

    @property
    def is_admin(self) -> bool:
        return self.membership.role == OrganizationRole.ADMIN


def platform_organization() -> Organization:
    """The platform's own organization (created by migration accounts/0002; recreated here
    if a test flushed it)."""
    organization, _ = Organization.objects.get_or_create(
        slug=PLATFORM_ORGANIZATION_SLUG, defaults={"name": "Tranche platform"}
    )
    return organization


def organization_get_by_slug(*, slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        if slug == PLATFORM_ORGANIZATION_SLUG:
            return platform_organization()
        raise NotFound(f"No organization {slug!r}.", code="organization_not_found")
    return organization


def organization_membership_ensure(*, organization: Organization, user: User,
                                   role: str = OrganizationRole.MEMBER) -> OrganizationMembership:
    """Make `user` a member of `organization`: only for a user who asked for it (an accepted
    invitation) or for staff set-up (`create_staff`, demo data), never as a side effect of
    another change. Promotes a member to admin when asked, never demotes."""
    membership, created = OrganizationMembership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    if not created and role == OrganizationRole.ADMIN and membership.role != OrganizationRole.ADMIN:
        membership.role = OrganizationRole.ADMIN
        membership.save(update_fields=["role"])
    return membership


def tenant_for_user(*, user: User, slug: str | None = None) -> Tenant:
    """Resolve the organization the user acts in from their memberships."""
    memberships = OrganizationMembership.objects.select_related("organization").filter(
        user=user, organization__is_active=True
    )
    if slug:
        membership = memberships.filter(organization__slug=slug).first()
        if membership is None:
            raise NotFound(f"No organization {slug!r}.", code="organization_not_found")
    else:
        # The default if there is one, else the first joined: one query, one row.
        membership = memberships.order_by("-is_default", "id").first()
        if membership is None:
            raise PermissionDenied("You are not a member of any organization.", code="organization_membership_required")
    return Tenant(user=user, organization=membership.organization, membership=membership)


def scope_to_tenant(queryset: models.QuerySet, *, tenant: Tenant) -> models.QuerySet:
    """Every tenant query starts here."""
    return queryset.filter(organization=tenant.organization)


def get_in_organization(queryset: models.QuerySet, *, tenant: Tenant, pk, label: str = "object"):
    """Fetch one row of the caller's organization; anything else (another organization's,
    or nonexistent) is the same 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(f"No such {label}.") from None
    obj = scope_to_tenant(queryset, tenant=tenant).filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"No such {label}.")
    return obj


class IsOrganizationMember(BasePermission):
    """Resolves `request.tenant` from the caller's memberships (never from the body)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        request.tenant = tenant_for_user(user=request.user, slug=request.META.get(_META_HEADER) or None)
        return True


class IsOrganizationAdmin(IsOrganizationMember):
    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if not request.tenant.is_admin:
            raise PermissionDenied("Only the organization's admins may do this.")
        return True


class IsOrganizationAdminOrReadOnly(IsOrganizationMember):
    """Members may read; only the organization's admins may write."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method not in ("GET", "HEAD", "OPTIONS") and not request.tenant.is_admin:
            raise PermissionDenied("Only the organization's admins may do this.")
        return True


class TenantAutoSchema(AutoSchema):
    """Documents the optional `X-Organization` header on every tenant endpoint."""

    def get_override_parameters(self):
        return [
            OpenApiParameter(
                ORGANIZATION_HEADER, str, OpenApiParameter.HEADER, required=False,
                description="Slug of the organization to act in; default: your default organization, else the "
                            "first you joined.",
            ),
            *super().get_override_parameters(),
        ]


class TenantApiMixin:
    """For DRF views of tenant data: members only; `self.tenant` is the resolved Tenant."""

    permission_classes = (IsOrganizationMember,)
    schema = TenantAutoSchema()

    @property
    def tenant(self) -> Tenant:
        return self.request.tenant


class TenantAdminApiMixin(TenantApiMixin):
    """Organization admins only."""

    permission_classes = (IsOrganizationAdmin,)
