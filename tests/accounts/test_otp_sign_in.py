import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import OtpChallenge, User
from integrations.models import OutboundMessage

pytestmark = pytest.mark.django_db

OTP_URL = "/api/v1/auth/otp/"
VERIFY_URL = "/api/v1/auth/otp/verify/"


def last_code(phone: str) -> str:
    message = OutboundMessage.objects.filter(to=phone).order_by("-id").first()
    return re.match(r"^(\d{6}) ", message.body).group(1)


def request_code(client, phone="+919876543210", ip="10.0.0.1"):
    return client.post(OTP_URL, {"phone": phone}, REMOTE_ADDR=ip)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_first_sign_in_creates_the_user_and_returns_tokens(api_client):
    response = request_code(api_client)
    assert response.status_code == 202
    assert response.json() == {"expires_in": 300, "resend_in": 30}

    response = api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": last_code("+919876543210")})

    assert response.status_code == 200
    body = response.json()
    user = User.objects.get(phone="+919876543210")
    assert body["user"] == {"id": user.id, "phone": "+919876543210", "role": "investor", "is_new": True}
    me = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200
    assert me.json()["onboarding"] == {
        "kyc_status": "not_started", "bank_status": "not_started", "wallet_ready": False, "can_trade": False,
    }


def test_second_sign_in_is_not_new(api_client):
    User.objects.create_user("+919876543210")
    request_code(api_client)
    response = api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": last_code("+919876543210")})
    assert response.json()["user"]["is_new"] is False
    assert User.objects.count() == 1


def test_code_is_stored_hashed_never_plain(api_client):
    request_code(api_client)
    code = last_code("+919876543210")
    challenge = OtpChallenge.objects.get()
    assert code not in challenge.code_hash
    assert len(challenge.code_hash) == 64


def test_wrong_code_is_refused_and_counted(api_client):
    request_code(api_client)
    code = last_code("+919876543210")
    response = api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": wrong_code(code)},
                               REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "otp_invalid"
    assert response.json()["errors"][0]["attr"] == "otp"
    assert OtpChallenge.objects.get().attempts == 1  # on the code this IP asked for
    assert not User.objects.exists()


def test_expired_code_is_refused(api_client):
    request_code(api_client)
    code = last_code("+919876543210")
    with freeze_time(timezone.now() + timedelta(seconds=settings.OTP_TTL_SECONDS + 1)):
        response = api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": code})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "otp_expired"
    assert not User.objects.exists()


def test_five_wrong_tries_lock_the_code_even_against_the_right_one(api_client):
    request_code(api_client)
    code = last_code("+919876543210")
    codes = []
    for _ in range(5):
        codes.append(api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": wrong_code(code)}).json())
    assert [c["errors"][0]["code"] for c in codes] == ["otp_invalid"] * 4 + ["otp_locked"]

    response = api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": code})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "otp_locked"
    assert not User.objects.exists()


def test_a_used_code_cannot_be_used_again(api_client):
    request_code(api_client)
    code = last_code("+919876543210")
    assert api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": code}).status_code == 200
    response = api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": code})
    assert response.json()["errors"][0]["code"] == "otp_invalid"


def test_resend_waits_thirty_seconds(api_client):
    start = timezone.now()
    with freeze_time(start):
        assert request_code(api_client).status_code == 202
        response = request_code(api_client)
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "rate_limited"
    assert int(response["Retry-After"]) == 30
    with freeze_time(start + timedelta(seconds=31)):
        assert request_code(api_client).status_code == 202
    assert OutboundMessage.objects.count() == 2


def test_a_new_code_replaces_the_old_one(api_client):
    start = timezone.now()
    with freeze_time(start):
        request_code(api_client)
        first = last_code("+919876543210")
    with freeze_time(start + timedelta(seconds=31)):
        request_code(api_client)
        second = last_code("+919876543210")
        if first != second:
            assert api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": first}).status_code == 400
        assert api_client.post(VERIFY_URL, {"phone": "+919876543210", "otp": second}).status_code == 200


def test_at_most_five_codes_per_phone_and_ip_per_hour(api_client):
    start = timezone.now()
    statuses = []
    for minute in range(6):
        with freeze_time(start + timedelta(minutes=minute)):
            statuses.append(request_code(api_client).status_code)
    assert statuses == [202] * 5 + [429]
    with freeze_time(start + timedelta(minutes=6)):
        assert request_code(api_client, ip="10.0.0.99").status_code == 202  # another address: its own five
    with freeze_time(start + timedelta(minutes=61)):
        assert request_code(api_client).status_code == 202


def test_at_most_twenty_codes_per_phone_per_hour_across_addresses(api_client):
    start = timezone.now()
    with freeze_time(start):
        statuses = [request_code(api_client, ip=f"10.0.1.{n}").status_code for n in range(21)]
    assert statuses == [202] * 20 + [429]


def test_at_most_twenty_codes_per_ip_per_hour(api_client):
    statuses = [request_code(api_client, phone=f"+91987654{n:04d}", ip="10.9.9.9").status_code for n in range(21)]
    assert statuses == [202] * 20 + [429]
    assert request_code(api_client, phone="+919999999999", ip="10.9.9.10").status_code == 202


@pytest.mark.parametrize(
    "typed", ["9876543210", "+919876543210", "09876543210", "919876543210", "+91 98765-43210", "0091 98765 43210"]
)
def test_indian_numbers_are_normalised(api_client, typed):
    assert request_code(api_client, phone=typed).status_code == 202
    assert OtpChallenge.objects.get().phone == "+919876543210"


@pytest.mark.parametrize("typed", ["12345", "5876543210", "+91 98765", "phone", "+0123456789"])
def test_bad_numbers_are_refused(api_client, typed):
    response = request_code(api_client, phone=typed)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "invalid_phone", "detail": "Enter a valid mobile number, e.g. +919876543210.", "attr": "phone"}
    ]
    assert not OtpChallenge.objects.exists()
