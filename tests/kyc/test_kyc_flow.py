from datetime import date

import pytest
from django.db import connection

from core.audit import AuditEvent
from core.crypto import mask
from integrations.kyc import SandboxKyc
from kyc.enums import KYCStatus
from kyc.models import KYCProfile
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate

pytestmark = pytest.mark.django_db

KYC_URL = "/api/v1/kyc/"


def individual(pan="ABCPR1234K", name="Asha Rao", **extra):
    return {"kind": "individual", "full_name": name, "pan": pan, "date_of_birth": "1990-04-01",
            "address": "1 MG Road, Bengaluru", **extra}


def submit(client, run_on_commit, body):
    with run_on_commit():
        response = client.put(KYC_URL, body, format="json")
    return response


def test_a_new_user_has_not_started(investor_client):
    body = investor_client.get(KYC_URL).json()
    assert body["status"] == "not_started" and body["pan"] == ""


def test_prefill_then_submit_then_verified(investor, investor_client, run_on_commit, events):
    expected = SandboxKyc().prefill(phone=investor.phone)
    prefill = investor_client.post("/api/v1/kyc/prefill/")
    assert prefill.status_code == 200
    found = prefill.json()
    assert found["full_name"] == expected.full_name
    assert found["pan"] == mask(expected.pan) and expected.pan not in str(found)
    assert not KYCProfile.objects.exists()  # prefill saves nothing

    response = submit(investor_client, run_on_commit, individual(
        pan=expected.pan, name=found["full_name"], date_of_birth=found["date_of_birth"], aadhaar="234123412346"))
    assert response.status_code == 200, response.json()

    body = investor_client.get(KYC_URL).json()
    assert body["status"] == "verified"
    assert body["pan"] == "XXXXXX" + expected.pan[-4:]
    assert body["aadhaar_last4"] == "2346"
    assert body["name_match"] == "100.00"
    assert events == [("kyc.verified", {"user_id": investor.id})]
    onboarding = investor_client.get("/api/v1/me/").json()["onboarding"]
    assert onboarding == {"kyc_status": "verified", "bank_status": "not_started", "wallet_ready": True,
                          "can_trade": False}
    actions = list(AuditEvent.objects.filter(target_type="kyc.kycprofile").values_list("action", flat=True))
    assert sorted(actions) == ["kyc.submitted", "kyc.verified"]


def test_sandbox_pan_9999_is_rejected_and_may_be_resubmitted(investor, investor_client, run_on_commit, events):
    submit(investor_client, run_on_commit, individual(pan="ABCPR9999K"))
    body = investor_client.get(KYC_URL).json()
    assert body["status"] == "rejected" and "not verified" in body["status_reason"]
    assert events == [("kyc.rejected", {"user_id": investor.id, "reason": body["status_reason"]})]
    assert investor_client.get("/api/v1/me/").json()["onboarding"]["wallet_ready"] is False

    submit(investor_client, run_on_commit, individual(pan="ABCPR1235K"))
    assert investor_client.get(KYC_URL).json()["status"] == "verified"


def test_sandbox_pan_8888_goes_to_manual_review_then_staff_approves(
    investor, investor_client, reviewer, reviewer_client, run_on_commit, events
):
    submit(investor_client, run_on_commit, individual(pan="ABCPR8888K"))
    profile = KYCProfile.objects.get(user=investor)
    assert profile.status == KYCStatus.MANUAL_REVIEW
    assert events == [("kyc.manual_review", {"user_id": investor.id, "reason": profile.status_reason})]

    queue = reviewer_client.get("/api/v1/admin/kyc/?status=manual_review").json()
    assert [row["id"] for row in queue["results"]] == [profile.id]
    assert queue["results"][0]["pan"] == "XXXXXX888K"

    with run_on_commit():
        response = reviewer_client.post(f"/api/v1/admin/kyc/{profile.id}/approve/", {"reason": "PAN card checked"})
    assert response.status_code == 200, response.json()
    profile.refresh_from_db()
    assert (profile.status, profile.reviewed_by_id, profile.status_reason) == (
        KYCStatus.VERIFIED, reviewer.id, "PAN card checked")
    assert events[-1] == ("kyc.verified", {"user_id": investor.id})
    audit = AuditEvent.objects.get(action="kyc.verified")
    assert (audit.actor_id, audit.target_id) == (reviewer.id, str(profile.id))

    again = reviewer_client.post(f"/api/v1/admin/kyc/{profile.id}/approve/", {})
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "invalid_state"


def test_staff_rejects_with_a_reason(investor, investor_client, reviewer_client, run_on_commit, events):
    submit(investor_client, run_on_commit, individual(pan="ABCPR8888K"))
    profile = KYCProfile.objects.get(user=investor)
    no_reason = reviewer_client.post(f"/api/v1/admin/kyc/{profile.id}/reject/", {"reason": " "})
    assert no_reason.status_code == 400
    profile.refresh_from_db()
    assert profile.status == KYCStatus.MANUAL_REVIEW

    with run_on_commit():
        response = reviewer_client.post(f"/api/v1/admin/kyc/{profile.id}/reject/", {"reason": "Photo unreadable"})
    assert response.status_code == 200
    assert investor_client.get(KYC_URL).json()["status_reason"] == "Photo unreadable"
    assert events[-1] == ("kyc.rejected", {"user_id": investor.id, "reason": "Photo unreadable"})
    assert AuditEvent.objects.filter(action="kyc.rejected").count() == 1


def test_a_pan_belongs_to_one_user(investor_client, run_on_commit):
    submit(investor_client, run_on_commit, individual(pan="ABCPR1234K"))
    other = UserFactory()
    other_client = authenticate(type(investor_client)(), other)
    response = submit(other_client, run_on_commit, individual(pan="abcpr 1234k", name="Someone Else"))
    assert response.status_code == 409
    assert response.json()["errors"][0] == {"code": "pan_already_registered", "attr": "pan",
                                            "detail": "This PAN is registered to another account."}
    assert not KYCProfile.objects.filter(user=other).exists()


def test_submitted_kyc_cannot_be_changed_until_rejected(investor, investor_client, run_on_commit):
    submit(investor_client, run_on_commit, individual(pan="ABCPR8888K"))
    response = submit(investor_client, run_on_commit, individual(pan="ABCPR1234K"))
    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "kyc_already_submitted"
    profile = KYCProfile.objects.get(user=investor)
    assert (profile.pan, profile.status) == ("ABCPR8888K", KYCStatus.MANUAL_REVIEW)


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        (individual(pan="ABCPR12345"), "pan", "pan_invalid_format"),
        (individual(pan="AAGCB7383J"), "pan", "pan_holder_type_mismatch"),
        (individual(aadhaar="234123412347"), "aadhaar", "aadhaar_invalid_checksum"),
        (individual(date_of_birth=None), "date_of_birth", "required"),
        (individual(date_of_birth=str(date.today().replace(year=date.today().year - 17))), "date_of_birth",
         "underage"),
        ({"kind": "company", "full_name": "Director", "pan": "AAGCB7383J", "company_name": "Bharat Co",
          "incorporation_date": "2015-01-01", "gstin": "27AAPFU0939F1ZV"}, "gstin", "gstin_pan_mismatch"),
        ({"kind": "company", "full_name": "Director", "pan": "AAGCB7383J", "company_name": "Bharat Co",
          "incorporation_date": "2015-01-01", "gstin": "29AAGCB7383J1Z5"}, "gstin", "gstin_invalid_checksum"),
    ],
)
def test_invalid_submissions_name_the_field_and_rule(investor_client, run_on_commit, body, attr, code):
    response = submit(investor_client, run_on_commit, body)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(attr, code)]
    assert not KYCProfile.objects.exists()


def test_a_company_with_a_matching_gstin_verifies(investor, investor_client, run_on_commit):
    response = submit(investor_client, run_on_commit, {
        "kind": "company", "full_name": "Ravi Kumar", "pan": "AAGCB7383J", "company_name": "Bharat Traders",
        "incorporation_date": "2015-01-01", "gstin": "29AAGCB7383J1Z4"})
    assert response.status_code == 200, response.json()
    body = investor_client.get(KYC_URL).json()
    assert (body["status"], body["gstin"]) == ("verified", "XXXXXXXXXXXX1Z4")


def test_pan_to_gst_lists_the_registrations(investor_client):
    response = investor_client.post("/api/v1/kyc/pan-to-gst/", {"pan": "AAGCB7383J"})
    assert response.status_code == 200
    rows = response.json()
    assert [row["state"] for row in rows] == ["Maharashtra", "Karnataka"]
    from core.validators import validate_gstin

    assert all(validate_gstin(row["gstin"], pan="AAGCB7383J") for row in rows)
    bad = investor_client.post("/api/v1/kyc/pan-to-gst/", {"pan": "NOPE"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "pan"


def test_pan_gstin_and_aadhaar_are_not_stored_in_plain_text(investor, investor_client, run_on_commit):
    submit(investor_client, run_on_commit, {
        "kind": "company", "full_name": "Ravi Kumar", "pan": "AAGCB7383J", "company_name": "Bharat Traders",
        "incorporation_date": "2015-01-01", "gstin": "29AAGCB7383J1Z4", "aadhaar": "234123412346"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM kyc_kycprofile WHERE user_id = %s", [investor.id])
        raw = " ".join(str(value) for value in cursor.fetchone())
        cursor.execute("SELECT pan, gstin FROM kyc_kycprofile WHERE user_id = %s", [investor.id])
        pan_column, gstin_column = cursor.fetchone()
    assert "AAGCB7383J" not in raw and "7383" not in raw and "234123412346" not in raw
    assert pan_column.startswith("gAAAAA") and gstin_column.startswith("gAAAAA")  # Fernet tokens
    assert KYCProfile.objects.get(user=investor).pan == "AAGCB7383J"
