import pytest

from accounts.services import token_for_user
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

REFRESH_URL = "/api/v1/auth/token/refresh/"


def test_refresh_rotates_and_the_old_refresh_is_refused(api_client):
    old = str(token_for_user(UserFactory()))
    response = api_client.post(REFRESH_URL, {"refresh": old})
    assert response.status_code == 200
    new = response.json()["refresh"]
    assert new != old and response.json()["access"]

    again = api_client.post(REFRESH_URL, {"refresh": old})
    assert again.status_code == 401
    assert again.json()["type"] == "client_error"
    assert again.json()["errors"][0]["code"] == "token_not_valid"
    assert api_client.post(REFRESH_URL, {"refresh": new}).status_code == 200


def test_logout_blacklists_the_refresh_token(api_client):
    refresh = str(token_for_user(UserFactory()))
    response = api_client.post("/api/v1/auth/logout/", {"refresh": refresh})
    assert response.status_code == 205
    assert api_client.post(REFRESH_URL, {"refresh": refresh}).status_code == 401


def test_logout_with_garbage_is_a_401(api_client):
    response = api_client.post("/api/v1/auth/logout/", {"refresh": "not-a-token"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_a_deactivated_user_is_refused_at_once(api_client):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for_user(user).access_token}")
    assert api_client.get("/api/v1/me/").status_code == 200
    user.is_active = False
    user.save()
    assert api_client.get("/api/v1/me/").status_code == 401


def test_me_can_be_patched(investor_client, investor):
    response = investor_client.patch("/api/v1/me/", {"name": "Asha Rao", "email": "asha@example.com"})
    assert response.status_code == 200
    assert response.json()["name"] == "Asha Rao"
    investor.refresh_from_db()
    assert (investor.name, investor.email) == ("Asha Rao", "asha@example.com")


def test_me_refuses_a_bad_email_and_changes_nothing(investor_client, investor):
    before = investor.email
    response = investor_client.patch("/api/v1/me/", {"email": "not-an-email"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "email"
    investor.refresh_from_db()
    assert investor.email == before
