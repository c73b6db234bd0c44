import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import token_for_user
from tests.accounts.factories import UserFactory


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters and the like live in the cache; each test starts with none.
    Each xdist worker has its own Redis database, so this never touches another worker."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def authenticate(client: APIClient, user) -> APIClient:
    """Authenticate with a real access token, so the JWT path is exercised."""
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for_user(user).access_token}")
    return client


@pytest.fixture
def investor(db):
    return UserFactory()


@pytest.fixture
def investor_client(investor) -> APIClient:
    return authenticate(APIClient(), investor)


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (row locks and SKIP LOCKED); SQLite serialises writers"
)
