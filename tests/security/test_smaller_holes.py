"""Issue 21, item 7: the smaller holes, each closed where it lives."""

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.models import User
from accounts.phone import InvalidPhone, normalize_phone
from tests.accounts.test_otp_sign_in import VERIFY_URL, last_code, request_code, wrong_code
from tests.conftest import authenticate

pytestmark = pytest.mark.django_db

OWNER, STRANGER = "10.0.0.1", "203.0.113.9"
PHONE = "+919876543210"


# --- The sign-in throttle keys on the real client IP -------------------------------------------

def test_a_made_up_forwarded_for_does_not_dodge_the_sign_in_throttle(api_client):
    statuses = [api_client.post(VERIFY_URL, {"phone": "x", "otp": "x"}, REMOTE_ADDR="198.51.100.7",
                                HTTP_X_FORWARDED_FOR=f"10.{n // 250}.{n % 250}.1").status_code for n in range(61)]
    assert statuses[:60] == [400] * 60 and statuses[60] == 429


# --- One identity per phone: ASCII digits only ---------------------------------------------------

@pytest.mark.parametrize("typed", ["+91 9५00000001", "९८७६५४३२१०", "+91９８７６５４３２１０", "98765\u0664\u0663210"])
def test_a_phone_with_non_ascii_digits_is_refused(api_client, typed):
    with pytest.raises(InvalidPhone):
        normalize_phone(typed)
    response = request_code(api_client, phone=typed)
    assert (response.status_code, response.json()["errors"][0]["code"]) == (400, "invalid_phone")


# --- A stranger cannot lock the owner out --------------------------------------------------------

def test_a_stranger_cannot_spend_the_owners_codes_or_tries(api_client):
    stranger = APIClient()
    # The stranger asks for every code they may, and guesses until they are locked out …
    from datetime import timedelta

    from django.utils import timezone
    from freezegun import freeze_time

    start = timezone.now()
    for minute in range(6):
        with freeze_time(start + timedelta(minutes=minute)):
            request_code(stranger, phone=PHONE, ip=STRANGER)
    with freeze_time(start + timedelta(minutes=6)):
        for _ in range(5):
            stranger.post(VERIFY_URL, {"phone": PHONE, "otp": "000000"}, REMOTE_ADDR=STRANGER)
        locked = stranger.post(VERIFY_URL, {"phone": PHONE, "otp": "000000"}, REMOTE_ADDR=STRANGER)
        assert locked.json()["errors"][0]["code"] == "otp_locked"
        # … and the owner still gets a code and signs in with it.
        assert request_code(api_client, phone=PHONE, ip=OWNER).status_code == 202
        code = last_code(PHONE)
        response = api_client.post(VERIFY_URL, {"phone": PHONE, "otp": code}, REMOTE_ADDR=OWNER)
        assert response.status_code == 200, response.json()


def test_a_strangers_new_code_does_not_void_the_owners(api_client):
    from datetime import timedelta

    from django.utils import timezone
    from freezegun import freeze_time

    start = timezone.now()
    with freeze_time(start):
        request_code(api_client, phone=PHONE, ip=OWNER)
        owners = last_code(PHONE)
    with freeze_time(start + timedelta(seconds=40)):
        assert request_code(APIClient(), phone=PHONE, ip=STRANGER).status_code == 202
        assert api_client.post(VERIFY_URL, {"phone": PHONE, "otp": owners}, REMOTE_ADDR=OWNER).status_code == 200


def test_guessing_from_many_addresses_meets_a_ceiling_per_phone(api_client, settings):
    settings.OTP_MAX_FAILURES_PER_PHONE_PER_HOUR = 12
    request_code(api_client, phone=PHONE, ip=OWNER)
    code = last_code(PHONE)
    for n in range(12):
        APIClient().post(VERIFY_URL, {"phone": PHONE, "otp": wrong_code(code)}, REMOTE_ADDR=f"198.51.100.{n}")
    response = api_client.post(VERIFY_URL, {"phone": PHONE, "otp": code}, REMOTE_ADDR=OWNER)
    assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "otp_locked")
    assert not User.objects.filter(phone=PHONE).exists()


# --- Another organization's offering is a 404 ------------------------------------------------------

def test_another_organizations_offering_repayments_are_a_404():
    from tests.invoices.conftest import build_world
    from tests.invoices.factories import OrganizationFactory
    from tests.trading.factories import make_offering

    offering = make_offering()
    other = build_world(OrganizationFactory(slug="elsewhere"))
    response = other.client(other.admin).get(f"/api/v1/admin/offerings/{offering.pk}/repayments/")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (404, "not_found")
    own = offering.world.client(offering.world.admin).get(f"/api/v1/admin/offerings/{offering.pk}/repayments/")
    assert own.status_code == 200


# --- CORS, HTTPS and the staff networks ------------------------------------------------------------

def test_cors_answers_only_the_configured_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.tranche.example"]
    allowed = client.options("/api/v1/me/", HTTP_ORIGIN="https://app.tranche.example",
                             HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                             HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,idempotency-key")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.tranche.example"
    assert "idempotency-key" in allowed["Access-Control-Allow-Headers"]
    refused = client.get("/api/v1/me/", HTTP_ORIGIN="https://evil.example")
    assert not refused.has_header("Access-Control-Allow-Origin")


def test_production_defaults_redirect_to_https_and_send_hsts():
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SECURE_", "DJANGO_SETTINGS_MODULE"))}
    env.update(DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run([sys.executable, "-c", "import config.settings as s; print(s.SECURE_SSL_REDIRECT, "
                             "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE)"],
                            env=env, capture_output=True, text=True, timeout=60, cwd=str(django_settings.BASE_DIR))
    assert result.stdout.split() == ["True", "31536000", "True", "True"], result.stderr[-500:]


def test_with_ssl_redirect_on_plain_http_is_redirected_but_health_probes(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/api/v1/me/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200


def test_staff_endpoints_answer_only_the_allowed_networks(api_client, client, settings):
    from accounts.enums import Role
    from tests.accounts.factories import UserFactory

    settings.STAFF_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    admin = authenticate(api_client, UserFactory(role=Role.ADMIN, is_staff=True))
    outside = admin.get("/api/v1/admin/reports/onboarding/", REMOTE_ADDR="192.0.2.10")
    assert (outside.status_code, outside.json()["errors"][0]["code"]) == (404, "not_found")
    assert admin.get("/api/v1/admin/reports/onboarding/", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/admin/login/", REMOTE_ADDR="192.0.2.10").status_code == 404
    assert client.get("/api/v1/marketplace/", REMOTE_ADDR="192.0.2.10").status_code != 404  # investors: anywhere
