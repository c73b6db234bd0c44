import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.enums import Role
from core.audit import AuditEvent
from kyc.admin import KYCProfileAdmin
from kyc.enums import KYCStatus
from kyc.models import KYCProfile
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate
from tests.kyc.factories import KYCProfileFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/kyc/"


def test_an_investor_on_the_admin_queue_is_forbidden(investor_client):
    profile = KYCProfileFactory(status=KYCStatus.MANUAL_REVIEW)
    for response in (investor_client.get(URL), investor_client.get(f"{URL}{profile.id}/"),
                     investor_client.post(f"{URL}{profile.id}/approve/", {}),
                     investor_client.post(f"{URL}{profile.id}/reject/", {"reason": "x"})):
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "permission_denied"
    profile.refresh_from_db()
    assert profile.status == KYCStatus.MANUAL_REVIEW and profile.reviewed_by is None


@pytest.mark.parametrize("role", [Role.SALES, Role.DEALER])
def test_staff_outside_kyc_review_are_forbidden(role):
    client = authenticate(APIClient(), UserFactory(role=role))
    assert client.get(URL).status_code == 403


def test_the_queue_filters_by_status_with_masked_pans_at_a_fixed_query_count(
    reviewer_client, django_assert_max_num_queries
):
    KYCProfileFactory(status=KYCStatus.MANUAL_REVIEW)
    KYCProfileFactory(status=KYCStatus.VERIFIED)
    with django_assert_max_num_queries(4):
        first = reviewer_client.get(f"{URL}?status=manual_review")
    KYCProfileFactory.create_batch(4, status=KYCStatus.MANUAL_REVIEW, reviewed_by=UserFactory(role=Role.ADMIN))
    with django_assert_max_num_queries(4):
        second = reviewer_client.get(f"{URL}?status=manual_review")
    assert (first.json()["count"], second.json()["count"]) == (1, 5)
    rows = second.json()["results"]
    assert {row["status"] for row in rows} == {"manual_review"}
    pans = set(KYCProfile.objects.values_list("pan", flat=True))
    assert all(row["pan"].startswith("XXXXXX") and row["pan"] not in pans for row in rows)
    assert reviewer_client.get(f"{URL}?status=bogus").status_code == 400
    assert reviewer_client.get(URL).json()["count"] == 6


def test_the_detail_lists_the_documents(reviewer_client):
    from kyc.models import KYCDocument

    profile = KYCProfileFactory(status=KYCStatus.MANUAL_REVIEW)
    KYCDocument.objects.create(user=profile.user, kind="pan_card", file="kyc/x.pdf", content_type="application/pdf",
                               size=10, sha256="0" * 64)
    body = reviewer_client.get(f"{URL}{profile.id}/").json()
    assert [d["kind"] for d in body["documents"]] == ["pan_card"]
    assert body["user"]["id"] == profile.user_id
    assert reviewer_client.get(f"{URL}999999/").status_code == 404


def test_nobody_reviews_their_own_kyc(reviewer, reviewer_client):
    profile = KYCProfileFactory(user=reviewer, status=KYCStatus.MANUAL_REVIEW)
    response = reviewer_client.post(f"{URL}{profile.id}/approve/", {})
    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.status == KYCStatus.MANUAL_REVIEW


def _admin_request(user, data=None):
    request = RequestFactory().post("/admin/kyc/kycprofile/", data or {})
    request.user = user
    user.is_verified = lambda: True  # what django-otp's middleware sets after a TOTP sign-in
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_django_admin_actions_go_through_the_services(reviewer, django_capture_on_commit_callbacks, events):
    model_admin = KYCProfileAdmin(KYCProfile, admin.site)
    to_approve = KYCProfileFactory(status=KYCStatus.MANUAL_REVIEW)
    already = KYCProfileFactory(status=KYCStatus.VERIFIED)
    with django_capture_on_commit_callbacks(execute=True):
        model_admin.approve_selected(_admin_request(reviewer), KYCProfile.objects.filter(
            pk__in=[to_approve.pk, already.pk]))
    to_approve.refresh_from_db()
    assert (to_approve.status, to_approve.reviewed_by_id) == (KYCStatus.VERIFIED, reviewer.id)
    assert events == [("kyc.verified", {"user_id": to_approve.user_id})]
    assert AuditEvent.objects.filter(action="kyc.verified", actor=reviewer).count() == 1

    to_reject = KYCProfileFactory(status=KYCStatus.MANUAL_REVIEW)
    queryset = KYCProfile.objects.filter(pk=to_reject.pk)
    form_page = model_admin.reject_selected(_admin_request(reviewer), queryset)
    assert form_page.status_code == 200  # asks for the reason first
    assert b'name="reason"' in form_page.render().content
    to_reject.refresh_from_db()
    assert to_reject.status == KYCStatus.MANUAL_REVIEW
    model_admin.reject_selected(_admin_request(reviewer, {"apply": "1", "reason": "Blurred PAN card"}), queryset)
    to_reject.refresh_from_db()
    assert (to_reject.status, to_reject.status_reason) == (KYCStatus.REJECTED, "Blurred PAN card")
