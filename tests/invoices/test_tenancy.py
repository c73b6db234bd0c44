"""Organizations: the platform one exists, staff join one, the caller's is resolved from
memberships only."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.enums import OrganizationRole, Role
from accounts.models import Organization, OrganizationMembership
from accounts.services import staff_create
from accounts.tenancy import tenant_for_user
from core.errors import DomainError
from tests.accounts.factories import UserFactory
from tests.invoices.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_the_platform_organization_is_created_by_migration():
    assert Organization.objects.filter(slug="platform").exists()


def test_create_staff_joins_the_platform_by_default_and_admins_as_admins():
    out = io.StringIO()
    call_command("create_staff", "--phone", "9800000101", "--role", "admin", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["organization"] == "platform"
    membership = OrganizationMembership.objects.get(user__phone="+919800000101")
    assert (membership.organization.slug, membership.role) == ("platform", OrganizationRole.ADMIN)


def test_create_staff_with_an_organization():
    OrganizationFactory(slug="lender-x")
    call_command("create_staff", "--phone", "9800000102", "--role", "verifier", "--organization", "lender-x",
                 stdout=io.StringIO())
    membership = OrganizationMembership.objects.get(user__phone="+919800000102")
    assert (membership.organization.slug, membership.role) == ("lender-x", OrganizationRole.MEMBER)
    with pytest.raises(CommandError):
        call_command("create_staff", "--phone", "9800000103", "--role", "admin", "--organization", "nope",
                     stdout=io.StringIO())
    assert not OrganizationMembership.objects.filter(user__phone="+919800000103").exists()


def test_promoting_staff_never_demotes_an_organization_admin():
    staff_create(phone="9800000104", role=Role.ADMIN)
    staff_create(phone="9800000104", role=Role.VERIFIER, reset_credentials=True)
    assert OrganizationMembership.objects.get(user__phone="+919800000104").role == OrganizationRole.ADMIN


def test_tenant_resolution():
    user = UserFactory()
    with pytest.raises(DomainError) as caught:
        tenant_for_user(user=user)
    assert caught.value.code == "organization_membership_required"
    first = OrganizationFactory(slug="first")
    OrganizationMembership.objects.create(organization=first, user=user)
    assert tenant_for_user(user=user).organization == first
    second = OrganizationFactory(slug="second")
    OrganizationMembership.objects.create(organization=second, user=user, role=OrganizationRole.ADMIN)
    assert tenant_for_user(user=user).organization == first  # no header, no default: the first joined
    tenant = tenant_for_user(user=user, slug="second")
    assert (tenant.organization, tenant.is_admin) == (second, True)
    with pytest.raises(DomainError) as caught:
        tenant_for_user(user=user, slug="platform")  # exists, but not theirs: same as unknown
    assert (caught.value.code, caught.value.status_code) == ("organization_not_found", 404)
