"""Issue 21, item 4: memberships are never a side channel. Adding someone to a party (or an
organization) is by invitation to a phone number that they accept, or by choosing among the
organization's members; an unknown user and another organization's get the same answer; no
personal data of non-members comes back; and a user of several organizations keeps working."""

import pytest
from rest_framework.test import APIClient

from accounts.enums import Role
from accounts.models import OrganizationMembership
from invoices.models import PartyMembership
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate
from tests.invoices.conftest import build_world
from tests.invoices.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def other_world(db):
    return build_world(OrganizationFactory(slug="other-org"))


def _without_volatile(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in ("id", "created_at", "expires_at", "phone")}


def test_adding_a_stranger_by_id_answers_like_an_unknown_id_and_changes_nothing(world, other_world):
    admin = world.client(world.admin)
    staff = UserFactory(role=Role.SUPER_ADMIN, is_staff=True, name="Head of Ops", phone="+919811111111")
    outsiders = {"staff": staff.pk, "other tenant": other_world.signer_a.pk, "unknown": 987654321}
    answers = {}
    for label, user_id in outsiders.items():
        response = admin.post(f"/api/v1/parties/{world.seller.pk}/members/", {"user": user_id, "role": "supervisor"},
                              format="json")
        answers[label] = (response.status_code, response.json())
        assert b"Head of Ops" not in response.content and b"9811111111" not in response.content
    assert len({str(answer) for answer in answers.values()}) == 1, answers
    assert answers["unknown"][0] == 400 and answers["unknown"][1]["errors"][0]["attr"] == "user"
    assert not OrganizationMembership.objects.filter(user=staff).exists()
    assert not PartyMembership.objects.filter(user__in=[staff, other_world.signer_a], party=world.seller).exists()
    # The other tenant's user still works in their own organization, untouched.
    assert world.client(other_world.signer_a).get("/api/v1/parties/").status_code == 200


def test_a_member_of_the_organization_can_be_chosen(world):
    response = world.client(world.admin).post(f"/api/v1/parties/{world.seller.pk}/members/",
                                              {"user": world.buyer_user.pk, "role": "supervisor"}, format="json")
    assert response.status_code == 201, response.json()


def test_an_invitation_answers_the_same_for_anyone_and_changes_nothing(world, other_world):
    admin = world.client(world.admin)
    registered = other_world.signer_b.phone
    bodies = []
    for phone in (registered, "+919822222222"):
        response = admin.post(f"/api/v1/parties/{world.seller.pk}/invitations/", {"phone": phone,
                                                                                  "role": "supervisor"}, format="json")
        assert response.status_code == 201, response.json()
        bodies.append(_without_volatile(response.json()))
        assert set(response.json()) == {"id", "phone", "role", "scope", "scope_id", "status", "created_at",
                                        "expires_at"}
    assert bodies[0] == bodies[1]
    assert not PartyMembership.objects.filter(user=other_world.signer_b, party=world.seller).exists()
    assert not OrganizationMembership.objects.filter(user=other_world.signer_b,
                                                     organization=world.organization).exists()


def test_the_invited_user_accepts_and_keeps_working_in_their_own_organization(world, other_world):
    invitee = other_world.signer_b  # a member of another organization
    world.client(world.admin).post(f"/api/v1/parties/{world.seller.pk}/invitations/",
                                   {"phone": invitee.phone, "role": "supervisor"}, format="json")
    client = authenticate(APIClient(), invitee)
    waiting = client.get("/api/v1/invitations/").json()
    assert len(waiting) == 1 and waiting[0]["invited_to"].endswith(world.seller.legal_name)
    accepted = client.post(f"/api/v1/invitations/{waiting[0]['id']}/accept/")
    assert accepted.status_code == 200, accepted.json()
    assert PartyMembership.objects.filter(user=invitee, party=world.seller, role="supervisor").exists()
    # Their own organization's API still works without naming it (the first joined) …
    own = client.get("/api/v1/parties/")
    assert own.status_code == 200 and {p["id"] for p in own.json()["results"]} >= {other_world.seller.pk}
    # … the new one by name, and by default once they choose it.
    assert client.get("/api/v1/parties/", HTTP_X_ORGANIZATION=world.organization.slug).status_code == 200
    chosen = client.put("/api/v1/me/organizations/default/", {"organization": world.organization.slug},
                        format="json")
    assert chosen.status_code == 200 and chosen.json()["is_default"] is True
    assert {p["id"] for p in client.get("/api/v1/parties/").json()["results"]} == {world.seller.pk, world.buyer.pk}
    # Removed from the party, they still work everywhere (no organization_required, ever).
    world.client(world.admin).delete(f"/api/v1/parties/{world.seller.pk}/members/{invitee.pk}/")
    assert client.get("/api/v1/parties/", HTTP_X_ORGANIZATION=other_world.organization.slug).status_code == 200
    assert client.get("/api/v1/invoices/").status_code == 200


def test_nobody_else_can_accept_an_invitation(world, investor_client):
    from accounts.models import Invitation

    world.client(world.admin).post("/api/v1/organization/invitations/", {"phone": "+919833333333"}, format="json")
    invitation = Invitation.objects.get()
    response = investor_client.post(f"/api/v1/invitations/{invitation.pk}/accept/")
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_an_expired_or_revoked_invitation_cannot_be_accepted(world):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Invitation

    invitee = UserFactory(phone="+919844444444")
    admin = world.client(world.admin)
    created = admin.post("/api/v1/organization/invitations/", {"phone": invitee.phone}, format="json").json()
    Invitation.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = authenticate(APIClient(), invitee)
    assert client.post(f"/api/v1/invitations/{created['id']}/accept/").status_code == 409
    again = admin.post("/api/v1/organization/invitations/", {"phone": invitee.phone}, format="json").json()
    assert admin.delete(f"/api/v1/organization/invitations/{again['id']}/").status_code == 200
    assert client.post(f"/api/v1/invitations/{again['id']}/accept/").status_code == 409
    assert not OrganizationMembership.objects.filter(user=invitee).exists()


def test_non_admins_cannot_invite(world):
    from accounts.models import Invitation

    response = world.client(world.signer_a).post(f"/api/v1/parties/{world.seller.pk}/invitations/",
                                                 {"phone": "+919855555555", "role": "supervisor"}, format="json")
    assert response.status_code == 403
    assert not Invitation.objects.exists()
