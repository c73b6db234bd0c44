"""The Signzy adapter against a local HTTP server, and what verification does with its answers."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from integrations.errors import IntegrationError
from integrations.models import ApiCall
from integrations.registry import get_adapter
from kyc import services
from kyc.enums import KYCStatus
from kyc.models import KYCProfile
from tests.kyc.factories import KYCProfileFactory

pytestmark = pytest.mark.django_db

API_KEY = "signzy-secret-key-42"


@pytest.fixture
def signzy(httpserver, settings):
    settings.KYC_PROVIDER = "signzy"
    settings.SIGNZY_BASE_URL = httpserver.url_for("/api/v3")
    settings.SIGNZY_API_KEY = API_KEY
    settings.INTEGRATION_MAX_RETRIES = 1
    return httpserver


@pytest.fixture
def profile():
    return KYCProfileFactory(full_name="Asha Rao", pan="ABCPR1234K", next_attempt_at=timezone.now())


def test_verified_with_the_registered_name(signzy, profile, events, run_on_commit):
    signzy.expect_oneshot_request("/api/v3/pan/verify", method="POST").respond_with_json(
        {"result": {"status": "VALID", "registeredName": "RAO ASHA", "id": "sz-123"}})
    with run_on_commit():
        services.kyc_verify(profile_id=profile.pk)
    request, _ = signzy.log[0]
    assert request.json["panNumber"] == "ABCPR1234K" and request.json["name"] == "Asha Rao"
    assert request.headers["Authorization"] == API_KEY
    profile.refresh_from_db()
    assert (profile.status, profile.provider, profile.provider_reference, profile.name_match) == (
        KYCStatus.VERIFIED, "signzy", "sz-123", 100)
    call = ApiCall.objects.get(service="kyc")
    assert (call.service, call.provider, call.operation, call.outcome) == ("kyc", "signzy", "verify_pan", "ok")


def test_a_name_far_from_the_registered_one_goes_to_manual_review(signzy, profile, events, run_on_commit):
    signzy.expect_oneshot_request("/api/v3/pan/verify").respond_with_json(
        {"result": {"status": "VALID", "registeredName": "VIKRAM MEHTA", "id": "sz-9"}})
    with run_on_commit():
        services.kyc_verify(profile_id=profile.pk)
    profile.refresh_from_db()
    assert profile.status == KYCStatus.MANUAL_REVIEW
    assert profile.name_match < 80 and "name does not match" in profile.status_reason
    assert "VIKRAM" not in profile.status_reason  # the PAN holder's name is for staff only
    assert events == [("kyc.manual_review", {"user_id": profile.user_id, "reason": profile.status_reason})]


def test_an_invalid_pan_is_rejected(signzy, profile):
    signzy.expect_oneshot_request("/api/v3/pan/verify").respond_with_json(
        {"result": {"status": "INVALID", "reason": "No record", "id": "sz-1"}})
    services.kyc_verify(profile_id=profile.pk)
    profile.refresh_from_db()
    assert profile.status == KYCStatus.REJECTED and "No record" in profile.status_reason


def test_a_provider_error_leaves_it_pending_and_the_sweep_retries(signzy, profile, events, run_on_commit):
    signzy.expect_ordered_request("/api/v3/pan/verify").respond_with_response(
        Response(f"upstream broke key={API_KEY}", status=502))
    signzy.expect_ordered_request("/api/v3/pan/verify").respond_with_response(Response("still broken", status=502))
    with run_on_commit():
        services.kyc_verify(profile_id=profile.pk)
    profile.refresh_from_db()
    assert (profile.status, profile.attempts) == (KYCStatus.PENDING, 1)
    assert "IntegrationError" in profile.last_error and profile.next_attempt_at > timezone.now()
    assert API_KEY not in ApiCall.objects.get(service="kyc").error
    assert events == []

    # Not due yet: the sweep leaves it alone.
    assert services.verification_sweep() == {"kyc_profiles": 0, "bank_accounts": 0}
    signzy.expect_oneshot_request("/api/v3/pan/verify").respond_with_json(
        {"result": {"status": "VALID", "registeredName": "Asha Rao", "id": "sz-2"}})
    later = timezone.now() + timedelta(minutes=5)
    with run_on_commit():
        assert services.verification_sweep(now=later) == {"kyc_profiles": 1, "bank_accounts": 0}
    profile.refresh_from_db()
    assert (profile.status, profile.attempts, profile.last_error) == (KYCStatus.VERIFIED, 2, "")
    assert events == [("kyc.verified", {"user_id": profile.user_id})]


def test_a_timeout_leaves_it_pending_then_a_retry_verifies(signzy, profile, settings):
    settings.INTEGRATION_TIMEOUT_SECONDS = 0.2
    settings.INTEGRATION_MAX_RETRIES = 0

    def slow(request):
        time.sleep(0.6)
        return Response('{"result": {"status": "VALID"}}', content_type="application/json")

    signzy.expect_ordered_request("/api/v3/pan/verify").respond_with_handler(slow)
    services.kyc_verify(profile_id=profile.pk)
    profile.refresh_from_db()
    assert profile.status == KYCStatus.PENDING and profile.last_error.startswith("IntegrationTimeout")
    assert ApiCall.objects.get(service="kyc").outcome == "timeout"

    signzy.expect_ordered_request("/api/v3/pan/verify").respond_with_json(
        {"result": {"status": "VALID", "registeredName": "Asha Rao", "id": "sz-3"}})
    settings.INTEGRATION_TIMEOUT_SECONDS = 5  # the local server finishes the slow answer first
    services.verification_sweep(now=timezone.now() + timedelta(minutes=5))
    profile.refresh_from_db()
    assert profile.status == KYCStatus.VERIFIED


def test_after_the_last_attempt_a_person_checks_it(signzy, profile, settings, events, run_on_commit):
    settings.KYC_VERIFY_MAX_ATTEMPTS = 2
    signzy.expect_request("/api/v3/pan/verify").respond_with_response(Response("down", status=503))
    with run_on_commit():
        services.kyc_verify(profile_id=profile.pk)
    with run_on_commit():
        services.verification_sweep(now=timezone.now() + timedelta(hours=2))
    profile.refresh_from_db()
    assert (profile.status, profile.attempts) == (KYCStatus.MANUAL_REVIEW, 2)
    assert [topic for topic, _ in events] == ["kyc.manual_review"]


def test_a_profile_decided_meanwhile_is_left_alone(profile, monkeypatch):
    from integrations.kyc import PanCheck, SandboxKyc

    class StaffDecidesDuringTheCall(SandboxKyc):
        def verify_pan(self, **kwargs):
            KYCProfile.objects.filter(pk=profile.pk).update(status=KYCStatus.REJECTED, status_reason="by staff")
            return PanCheck(outcome="valid", registered_name="Asha Rao")

    monkeypatch.setattr(services, "get_adapter", lambda service: StaffDecidesDuringTheCall())
    assert services.kyc_verify(profile_id=profile.pk) is None
    profile.refresh_from_db()
    assert (profile.status, profile.status_reason) == (KYCStatus.REJECTED, "by staff")


def test_prefill_and_pan_to_gst_over_http(signzy):
    signzy.expect_oneshot_request("/api/v3/phone/prefill", method="POST").respond_with_json(
        {"result": {"name": "Asha Rao", "pan": "ABCPR1234K", "dob": "1990-04-01", "address": "Bengaluru"}})
    signzy.expect_oneshot_request("/api/v3/gst/pan-to-gst", method="POST").respond_with_json(
        {"result": {"gstins": [{"gstin": "29AAGCB7383J1Z4", "legalName": "Bharat Traders", "state": "Karnataka"}]}})
    adapter = get_adapter("kyc")
    found = adapter.prefill(phone="+919876543210")
    assert (found.full_name, found.pan, str(found.date_of_birth)) == ("Asha Rao", "ABCPR1234K", "1990-04-01")
    assert signzy.log[0][0].json == {"mobileNumber": "9876543210"}
    [record] = adapter.gstins_for_pan(pan="AAGCB7383J")
    assert (record.gstin, record.legal_name, record.state) == ("29AAGCB7383J1Z4", "Bharat Traders", "Karnataka")


def test_prefill_failure_is_a_503_for_the_client(signzy, investor_client):
    signzy.expect_request("/api/v3/phone/prefill").respond_with_response(Response("down", status=500))
    investor_client.raise_request_exception = False  # a 5xx is reported like a crash; read the response
    response = investor_client.post("/api/v1/kyc/prefill/")
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "provider_unavailable"


def test_a_malformed_answer_is_an_integration_error(signzy):
    signzy.expect_request("/api/v3/pan/verify").respond_with_data("<html>", content_type="text/html")
    with pytest.raises(IntegrationError):
        get_adapter("kyc").verify_pan(pan="ABCPR1234K", name="x", date_of_birth=None)
