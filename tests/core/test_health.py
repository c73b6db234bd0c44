import pytest
from django.core.cache import caches
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz(api_client):
    assert api_client.get("/healthz").json() == {"status": "ok"}


def test_readyz_all_up(api_client):
    response = api_client.get("/readyz")
    assert response.status_code == 200, response.json()


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@override_settings(
    CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": DEAD_REDIS,
                        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}}},
    CELERY_TASK_ALWAYS_EAGER=False,
    CELERY_BROKER_URL=DEAD_REDIS,
)
def test_readyz_reports_a_stopped_redis(api_client):
    from config.celery import app

    app.conf.broker_url = DEAD_REDIS
    try:
        response = api_client.get("/readyz")
    finally:
        app.conf.broker_url = None
        caches["default"].close()
    assert response.status_code == 503
    assert set(response.json()["down"]) == {"cache", "broker"}
    assert response.json()["status"] == "unavailable"
