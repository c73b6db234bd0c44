"""Issue 21, item 5: nobody decides on their own submission (core/duties.py, one rule in every
review queue), and the admin's sign-in gives no oracle and throttles with lockout."""

import base64
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django_otp.oath import TOTP

from accounts.enums import Role
from core.audit import AuditEvent
from kyc.enums import KYCStatus
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def reviewer(db):
    """A staff member who may decide every queue, and who also invests."""
    return UserFactory(role=Role.VERIFIER, is_staff=True)


def test_a_reviewer_cannot_accept_their_own_form_15g(api_client, reviewer):
    client = authenticate(api_client, reviewer)
    created = client.post("/api/v1/tax-declarations/", {
        "financial_year": "2026-27", "form": "15G", "file": SimpleUploadedFile("15g.pdf", PDF)}, format="multipart")
    assert created.status_code == 201, created.json()
    response = client.post(f"/api/v1/admin/tax-declarations/{created.json()['id']}/accept/", {}, format="json")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "cannot_decide_own_submission")
    from tax.models import TaxDeclaration

    assert TaxDeclaration.objects.get().status == "pending"
    other = authenticate(api_client.__class__(), UserFactory(role=Role.VERIFIER, is_staff=True))
    assert other.post(f"/api/v1/admin/tax-declarations/{created.json()['id']}/accept/", {},
                      format="json").status_code == 200


def test_a_reviewer_cannot_decide_their_own_kyc(api_client, reviewer):
    from tests.kyc.factories import KYCProfileFactory

    profile = KYCProfileFactory(user=reviewer, status=KYCStatus.MANUAL_REVIEW)
    response = authenticate(api_client, reviewer).post(f"/api/v1/admin/kyc/{profile.id}/approve/", {})
    assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "cannot_decide_own_submission")


def test_a_verifier_cannot_decide_their_own_deposit(api_client):
    from tests.wallet.factories import proof_file, verified_investor

    verifier = verified_investor(role=Role.VERIFIER, is_staff=True)
    client = authenticate(api_client, verifier)
    created = client.post("/api/v1/wallet/deposits/", {"amount": "100.00", "method": "upi", "reference": "UPI-OWN-1",
                                                       "proof": proof_file()}, format="multipart")
    assert created.status_code == 201, created.json()
    response = client.post(f"/api/v1/verifier/deposits/{created.json()['id']}/approve/", {}, format="json")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "cannot_verify_own_deposit")


def test_every_queue_raises_the_one_rule():
    """The deposit queue keeps its documented code, as a kind of the one rule."""
    from core.duties import OwnSubmission
    from wallet.errors import CannotVerifyOwnDeposit

    assert issubclass(CannotVerifyOwnDeposit, OwnSubmission)


# --- The admin's sign-in ---------------------------------------------------------------------

@pytest.fixture
def staff():
    out = StringIO()
    call_command("create_staff", "--phone", "9800000071", "--role", "admin", "--name", "Ada", stdout=out)
    return json.loads(out.getvalue())


def _totp(secret: str) -> str:
    return f"{TOTP(base64.b32decode(secret + '=' * (-len(secret) % 8))).token():06d}"


def _wrong(code: str) -> str:
    return f"{(int(code) + 500000) % 10**6:06d}"


def _login(client, phone, password, token="", ip="10.1.1.1"):
    return client.post("/admin/login/?next=/admin/", {"username": phone, "password": password, "otp_token": token},
                       REMOTE_ADDR=ip)


def _errors(response) -> str:
    return " ".join(str(error) for error in response.context["form"].non_field_errors())


def test_a_right_password_with_a_wrong_code_looks_like_a_wrong_password(client, staff):
    right_password = _login(client, staff["phone"], staff["password"], _wrong(_totp(staff["totp_secret"])))
    wrong_password = _login(client, staff["phone"], "not-the-password", _totp(staff["totp_secret"]))
    no_such_user = _login(client, "+919800000999", "whatever", "123456")
    no_code = _login(client, staff["phone"], staff["password"], "")
    bodies = [_errors(response) for response in (right_password, wrong_password, no_such_user, no_code)]
    assert len(set(bodies)) == 1 and "authenticator code" in bodies[0]
    for response in (right_password, wrong_password, no_such_user, no_code):
        assert response.status_code == 200
        assert b"otp_device" not in response.content and b"select a device" not in response.content.lower()
    assert "_auth_user_id" not in client.session


def test_all_three_factors_sign_in_and_are_audited(client, staff):
    response = _login(client, staff["phone"], staff["password"], _totp(staff["totp_secret"]))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action="admin.login").count() == 1


def test_an_account_is_locked_after_repeated_failures_even_with_the_right_factors(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    for attempt in range(5):
        _login(client, staff["phone"], f"guess-{attempt}", "000000", ip=f"10.2.0.{attempt}")
    locked = _login(client, staff["phone"], staff["password"], _totp(staff["totp_secret"]), ip="10.9.9.9")
    assert locked.status_code == 200 and "Too many failed sign-ins" in _errors(locked)
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="admin.login_failed").count() == 5
    assert AuditEvent.objects.filter(action="admin.login_locked").count() == 1


def test_an_ip_is_locked_after_repeated_failures_across_accounts(client, staff, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES_PER_IP = 6
    for attempt in range(6):
        _login(client, f"+9198000010{attempt:02d}", "guess", "000000", ip="10.3.3.3")
    locked = _login(client, staff["phone"], staff["password"], _totp(staff["totp_secret"]), ip="10.3.3.3")
    assert "Too many failed sign-ins" in _errors(locked)
    elsewhere = _login(client, staff["phone"], staff["password"], _totp(staff["totp_secret"]), ip="10.4.4.4")
    assert elsewhere.status_code == 302
