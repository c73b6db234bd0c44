import base64
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP

from accounts.models import User
from tests.accounts.test_otp_sign_in import VERIFY_URL, last_code, request_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    out = StringIO()
    call_command("create_staff", "--phone", "9800000001", "--role", "verifier", "--name", "Vera", stdout=out)
    return json.loads(out.getvalue())


def totp_now(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


def test_create_staff_prints_one_json_line_and_makes_a_staff_user(staff):
    assert staff["phone"] == "+919800000001"
    assert staff["role"] == "verifier"
    user = User.objects.get(phone="+919800000001")
    assert user.is_staff and user.role == "verifier"
    assert user.check_password(staff["password"])


def test_staff_without_totp_is_refused(api_client, staff):
    request_code(api_client, phone=staff["phone"])
    response = api_client.post(VERIFY_URL, {"phone": staff["phone"], "otp": last_code(staff["phone"])})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "totp_required"
    assert "access" not in response.json()


def test_staff_with_a_wrong_totp_is_refused(api_client, staff):
    request_code(api_client, phone=staff["phone"])
    good = totp_now(staff["totp_secret"])
    wrong = f"{(int(good) + 500000) % 10**6:06d}"
    response = api_client.post(VERIFY_URL, {"phone": staff["phone"], "otp": last_code(staff["phone"]), "totp": wrong})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "totp_invalid"


def test_staff_with_sms_code_and_totp_signs_in(api_client, staff):
    request_code(api_client, phone=staff["phone"])
    response = api_client.post(
        VERIFY_URL,
        {"phone": staff["phone"], "otp": last_code(staff["phone"]), "totp": totp_now(staff["totp_secret"])},
    )
    assert response.status_code == 200
    assert response.json()["user"]["role"] == "verifier"


def test_admin_login_page_demands_a_totp_code(client, staff):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff["phone"], "password": staff["password"], "otp_token": ""}
    )
    assert response.status_code == 200  # the form again, not a redirect into the admin
    assert "_auth_user_id" not in client.session

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff["phone"], "password": staff["password"], "otp_token": totp_now(staff["totp_secret"])},
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
