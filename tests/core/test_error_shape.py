import pytest
from django.test import override_settings

from tests.accounts.factories import UserFactory
from tests.conftest import authenticate

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls")]


def test_validation_error_names_the_field(api_client):
    response = api_client.post("/api/v1/auth/otp/", {})
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [{"code": "required", "detail": "This field is required.", "attr": "phone"}],
    }


def test_unauthenticated_is_401_in_shape(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "not_authenticated"
    assert response.json()["errors"][0]["attr"] is None


def test_a_bad_token_is_401_with_one_error(api_client):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "token_not_valid", "detail": "Given token not valid for any token type", "attr": None}],
    }
    assert response.has_header("WWW-Authenticate")


def test_forbidden_is_403_in_shape(api_client):
    authenticate(api_client, UserFactory())
    response = api_client.get("/api/v1/test/staff-only/")
    assert response.status_code == 403
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "permission_denied", "detail": "You do not have permission to perform this action.",
                    "attr": None}],
    }


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_path_is_404_in_shape(api_client, method):
    response = getattr(api_client, method)("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "not_found"


def test_rate_limited_is_429_with_retry_after(api_client):
    api_client.post("/api/v1/auth/otp/", {"phone": "9876543210"})
    response = api_client.post("/api/v1/auth/otp/", {"phone": "9876543210"})
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "rate_limited"
    assert response.has_header("Retry-After")


@override_settings(DEBUG=False)
def test_unhandled_exception_is_500_without_a_stack_trace(api_client):
    api_client.raise_request_exception = False
    authenticate(api_client, UserFactory())
    response = api_client.get("/api/v1/test/broken/")
    assert response.status_code == 500
    assert response.json() == {
        "type": "server_error",
        "errors": [{"code": "error", "detail": "Server Error (500)", "attr": None}],
    }
    assert b"hunter2" not in response.content and b"Traceback" not in response.content


def test_request_id_is_echoed_or_made(api_client):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    made = api_client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
    assert made["X-Request-ID"] != "<script>" and len(made["X-Request-ID"]) == 32
