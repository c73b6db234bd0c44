"""Roles on every admin path; user management; impersonation; the audit trail."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.enums import Role
from accounts.models import User
from core.audit import AuditEvent
from kyc.enums import BankAccountStatus, KYCStatus
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.kyc.factories import BankAccountFactory, KYCProfileFactory
from tests.reports.factories import client_for, staff

pytestmark = pytest.mark.django_db

REPORT_PATHS = [f"/api/v1/admin/reports/{name}/" for name in
                ("onboarding", "transactions", "sales-purchases", "tds", "bids", "trading-activity")]
ADMIN_READ_PATHS = [*REPORT_PATHS, "/api/v1/admin/users/", "/api/v1/admin/audit-events/"]
VERIFICATION_PATHS = ["/api/v1/admin/kyc/", "/api/v1/verifier/deposits/"]
NOT_STAFF = [Role.INVESTOR, Role.SALES, Role.TEAM_LEAD, Role.DEALER]


def _known(path: str) -> bool:
    from reports.catalog import REPORTS

    return not path.startswith("/api/v1/admin/reports/") or path.rstrip("/").rsplit("/", 1)[-1] in REPORTS


@pytest.mark.parametrize("role", NOT_STAFF)
@pytest.mark.parametrize("path", [*ADMIN_READ_PATHS, *VERIFICATION_PATHS])
def test_non_staff_roles_are_refused_every_admin_path(role, path):
    response = client_for(staff(role)).get(path)
    assert response.status_code == 403, path


@pytest.mark.parametrize("role", [*NOT_STAFF, Role.VERIFIER, Role.ADMIN])
def test_only_a_super_admin_may_impersonate(role):
    target = UserFactory()
    response = client_for(staff(role)).post("/api/v1/admin/impersonations/", {"user": target.pk, "reason": "help"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="impersonation.started").exists()


@pytest.mark.parametrize("path", ADMIN_READ_PATHS)
def test_a_verifier_sees_no_reports_users_or_audit(path):
    assert client_for(staff(Role.VERIFIER)).get(path).status_code == 403


@pytest.mark.parametrize("path", VERIFICATION_PATHS)
@pytest.mark.parametrize("role", [Role.VERIFIER, Role.ADMIN, Role.SUPER_ADMIN])
def test_verification_queues_are_open_to_reviewers(role, path):
    assert client_for(staff(role)).get(path).status_code == 200


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPER_ADMIN])
@pytest.mark.parametrize("path", ADMIN_READ_PATHS)
def test_admins_see_reports_users_and_audit(role, path):
    expected = 200 if _known(path) else 404
    assert client_for(staff(role)).get(path).status_code == expected


def test_anonymous_gets_401_on_admin_paths():
    for path in [*ADMIN_READ_PATHS, "/api/v1/admin/impersonations/"]:
        assert APIClient().get(path).status_code == 401


# --- user management -------------------------------------------------------------------------

def test_user_list_searches_and_filters_by_kyc_and_bank(admin_client, django_assert_max_num_queries):
    asha = UserFactory(name="Asha Verified", email="asha@example.com")
    KYCProfileFactory(user=asha, status=KYCStatus.VERIFIED)
    BankAccountFactory(user=asha, status=BankAccountStatus.FAILED)
    BankAccountFactory(user=asha, status=BankAccountStatus.PENDING)
    bala = UserFactory(name="Bala Pending")
    KYCProfileFactory(user=bala, status=KYCStatus.PENDING)
    UserFactory(name="Chitra New")

    def ids(**params):
        return [row["id"] for row in admin_client.get("/api/v1/admin/users/", params).json()["results"]]

    assert ids(search="asha@") == [asha.pk]
    assert ids(search=bala.phone[-6:]) == [bala.pk]
    assert ids(kyc_status="verified") == [asha.pk]
    assert ids(bank_status="pending") == [asha.pk]
    assert ids(role="investor", kyc_status="pending") == [bala.pk]
    row = admin_client.get("/api/v1/admin/users/", {"search": "Asha"}).json()["results"][0]
    assert (row["kyc_status"], row["bank_status"]) == ("verified", "pending")
    for extra in range(5):
        UserFactory(name=f"More {extra}")
    with django_assert_max_num_queries(3):
        assert admin_client.get("/api/v1/admin/users/").status_code == 200


def test_deactivating_a_user_stops_their_tokens_at_once(admin_client, admin_user):
    from accounts.services import token_for_user

    user = UserFactory()
    refresh = token_for_user(user)
    user_client = APIClient()
    user_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    assert user_client.get("/api/v1/me/").status_code == 200

    response = admin_client.patch(f"/api/v1/admin/users/{user.pk}/", {"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False

    assert user_client.get("/api/v1/me/").status_code == 401
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": str(refresh)}).status_code == 401
    event = AuditEvent.objects.get(action="user.updated", target_id=str(user.pk))
    assert (event.actor_id, event.data) == (admin_user.pk, {"is_active": [True, False]})


def test_only_a_super_admin_grants_a_staff_role(admin_client, super_client):
    user = UserFactory()
    response = admin_client.patch(f"/api/v1/admin/users/{user.pk}/", {"role": "verifier"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "staff_role_forbidden"
    assert User.objects.get(pk=user.pk).role == Role.INVESTOR

    response = super_client.patch(f"/api/v1/admin/users/{user.pk}/", {"role": "verifier"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.role, user.is_staff) == (Role.VERIFIER, True)


def test_an_admin_cannot_touch_a_staff_user(admin_client):
    verifier = staff(Role.VERIFIER)
    for body in ({"is_active": False}, {"role": "investor"}):
        assert admin_client.patch(f"/api/v1/admin/users/{verifier.pk}/", body).status_code == 403
    verifier.refresh_from_db()
    assert (verifier.role, verifier.is_active) == (Role.VERIFIER, True)


@pytest.mark.parametrize("body", [{"role": "admin"}, {"role": "investor"}, {"is_active": False}])
def test_nobody_changes_their_own_role_or_deactivates_themselves(super_client, super_admin, body):
    response = super_client.patch(f"/api/v1/admin/users/{super_admin.pk}/", body)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "cannot_change_own_account"
    super_admin.refresh_from_db()
    assert (super_admin.role, super_admin.is_active) == (Role.SUPER_ADMIN, True)


# --- impersonation ---------------------------------------------------------------------------

def _impersonate(super_client, user, reason="Customer asked for help with KYC"):
    response = super_client.post("/api/v1/admin/impersonations/", {"user": user.pk, "reason": reason})
    assert response.status_code == 201, response.content
    return response.json()


def test_impersonation_token_acts_as_the_user_for_15_minutes_and_is_audited(
        super_client, super_admin, django_capture_on_commit_callbacks):
    from rest_framework_simplejwt.tokens import AccessToken

    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        body = _impersonate(super_client, user)
    token = AccessToken(body["access"])
    assert token["act"] == {"sub": str(super_admin.pk)}
    assert token["user_id"] == str(user.pk) or token["user_id"] == user.pk
    lifetime = token["exp"] - token["iat"]
    assert lifetime == 15 * 60
    assert "refresh" not in body

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["id"] == user.pk

    request_event = AuditEvent.objects.filter(action="impersonation.request").get()
    assert (request_event.actor_id, request_event.impersonator_id, request_event.data["path"]) == (
        user.pk, super_admin.pk, "/api/v1/me/")
    started = AuditEvent.objects.get(action="impersonation.started")
    assert (started.actor_id, started.impersonator_id, started.target_id) == (
        super_admin.pk, super_admin.pk, str(user.pk))
    assert started.data["reason"] == "Customer asked for help with KYC"
    assert Notification.objects.filter(user=user, kind="impersonation_started").count() == 1

    # The user sees the support session in their own activity list.
    activity = client_for(user).get("/api/v1/me/activity/").json()["results"]
    impersonated = [row for row in activity if row["impersonated"]]
    assert {row["action"] for row in impersonated} == {"impersonation.started", "impersonation.request"}
    assert all(row["impersonator_name"] == super_admin.name for row in impersonated)


@pytest.mark.parametrize("path", [*ADMIN_READ_PATHS, "/api/v1/admin/kyc/"])
def test_impersonation_token_is_refused_on_admin_paths(super_client, path):
    body = _impersonate(super_client, UserFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    response = client.get(path)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "impersonation_forbidden"


def test_impersonation_token_cannot_start_another_impersonation_or_refresh(super_client):
    body = _impersonate(super_client, UserFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    response = client.post("/api/v1/admin/impersonations/", {"user": UserFactory().pk, "reason": "again"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="impersonation.started").count() == 1

    refused = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": body["access"]})
    assert refused.status_code == 401


def test_refresh_refuses_any_token_carrying_an_actor(super_admin):
    from accounts.services import token_for_user

    refresh = token_for_user(UserFactory())
    refresh["act"] = {"sub": str(super_admin.pk)}
    response = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": str(refresh)})
    assert response.status_code == 401
    assert "impersonation" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VERIFIER, Role.SUPER_ADMIN, Role.SALES])
def test_super_admin_cannot_impersonate_staff(super_client, role):
    target = staff(role)
    response = super_client.post("/api/v1/admin/impersonations/", {"user": target.pk, "reason": "x"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "impersonation_forbidden"


def test_impersonation_needs_a_reason(super_client):
    response = super_client.post("/api/v1/admin/impersonations/", {"user": UserFactory().pk, "reason": "  "})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="impersonation.started").exists()


def test_impersonation_ends_when_the_impersonator_loses_the_role(super_client, super_admin):
    body = _impersonate(super_client, UserFactory())
    User.objects.filter(pk=super_admin.pk).update(role=Role.ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert client.get("/api/v1/me/").status_code == 401


# --- audit trail -----------------------------------------------------------------------------

def test_audit_trail_filters_and_has_no_write_path(super_client, super_admin, admin_client,
                                                   django_assert_max_num_queries):
    target = UserFactory()
    _impersonate(super_client, target)
    admin_client.patch(f"/api/v1/admin/users/{target.pk}/", {"is_active": False})

    def actions(**params):
        return [row["action"] for row in admin_client.get("/api/v1/admin/audit-events/", params).json()["results"]]

    assert actions(impersonator=super_admin.pk) == ["impersonation.started"]
    assert actions(target_type="accounts.user", target_id=target.pk) == ["user.updated", "impersonation.started"]
    assert actions(action="impersonation.") == ["impersonation.started"]
    assert actions(action="user.updated", actor=super_admin.pk) == []
    today = timezone.localdate().isoformat()
    assert len(actions(**{"from": today, "to": today})) >= 2
    assert actions(**{"from": "2000-01-01", "to": "2000-01-02"}) == []
    with django_assert_max_num_queries(2):
        admin_client.get("/api/v1/admin/audit-events/")
    event = AuditEvent.objects.first()
    for method in ("put", "patch", "delete", "post"):
        response = getattr(admin_client, method)("/api/v1/admin/audit-events/", {})
        assert response.status_code == 405
    assert AuditEvent.objects.first() == event
