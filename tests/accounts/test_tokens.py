from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_for_token
from accounts.services import token_for_user
from tests.accounts.factories import UserFactory
from tests.conftest import requires_postgres

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


# --- Loading the token's user (accounts.selectors.user_for_token) ---------------------------

def _bearer(api_client, token) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_whose_user_is_gone_is_refused(api_client):
    user = UserFactory()
    _bearer(api_client, token_for_user(user).access_token)
    User.objects.filter(pk=user.pk).delete()
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "user_not_found"


def test_a_token_whose_user_claim_is_not_a_number_is_refused_not_an_error(api_client):
    access = token_for_user(UserFactory()).access_token
    access["user_id"] = "1 OR 1=1"  # signed by us, so only a bug could make one; still no 500
    _bearer(api_client, access)
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


@pytest.mark.parametrize("hand_written", [True, False])
def test_the_user_is_loaded_as_the_orm_loads_it(hand_written, monkeypatch):
    monkeypatch.setattr("accounts.selectors.HAND_WRITTEN_SQL", hand_written)
    user = UserFactory(name="Asha Rao", email="asha@example.com")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now() - timedelta(days=2))
    expected = User.objects.get(pk=user.pk)

    loaded = user_for_token(user_id=user.pk)

    fields = [field.attname for field in User._meta.concrete_fields]
    assert [getattr(loaded, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert not loaded._state.adding and loaded._state.db == "default"
    assert user_for_token(user_id=user.pk + 1_000_000) is None


@requires_postgres
def test_on_postgresql_no_user_column_needs_a_converter():
    """The hand-written SELECT hands the driver's values to the model as they are; a field
    that needs Django's conversion from the database would break that, so this test fails
    when one is added (then convert, or take the ORM)."""
    table = User._meta.db_table
    needing = [field.name for field in User._meta.concrete_fields
               if field.get_db_converters(connection) or connection.ops.get_db_converters(field.get_col(table))]
    assert needing == []


def test_an_authenticated_request_loads_its_user_with_one_statement(investor_client, investor):
    with CaptureQueriesContext(connection) as queries:
        assert investor_client.get("/api/v1/me/").status_code == 200
    user_table = connection.ops.quote_name(User._meta.db_table)
    assert sum(f"FROM {user_table}" in query["sql"] for query in queries.captured_queries) == 1
