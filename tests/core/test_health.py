import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import caches
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz(api_client):
    assert api_client.get("/healthz").json() == {"status": "ok"}


def test_readyz_all_up(api_client):
    response = api_client.get("/readyz")
    assert response.status_code == 200, response.json()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis():
    """A Redis server of the test's own, so it can be stopped without harming anyone else."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait()


def test_readyz_reports_a_redis_that_stops(api_client, own_redis):
    from config.celery import app

    process, url = own_redis
    redis_cache = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url,
                               "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}}}
    with override_settings(CACHES=redis_cache, CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=url):
        app.conf.broker_url = url
        try:
            assert api_client.get("/readyz").status_code == 200
            process.terminate()
            process.wait()
            caches["default"].close()
            response = api_client.get("/readyz")
        finally:
            app.conf.broker_url = None
            caches["default"].close()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert set(response.json()["down"]) == {"cache", "broker"}


def _an_old_message(seconds: float) -> None:
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from core.outbox import OutboxMessage, outbox_publish

    with override_settings(CELERY_TASK_ALWAYS_EAGER=False), transaction.atomic():
        outbox_publish(topic="listing.changed", payload={"listing_id": 1})
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_readyz_reports_the_outbox_backlog_and_lag(api_client):
    _an_old_message(90)
    response = api_client.get("/readyz")
    assert response.status_code == 200
    outbox = response.json()["outbox"]
    assert (outbox["pending"], outbox["retrying"], outbox["failed"]) == (1, 0, 0)
    assert 90 <= outbox["oldest_pending_seconds"] < 120


def test_a_lag_beyond_the_setting_fails_readiness(api_client, settings):
    _an_old_message(90)
    settings.OUTBOX_READY_MAX_LAG_SECONDS = 120
    assert api_client.get("/readyz").status_code == 200
    settings.OUTBOX_READY_MAX_LAG_SECONDS = 60
    response = api_client.get("/readyz")
    assert response.status_code == 503
    assert set(response.json()["down"]) == {"outbox"}
    assert response.json()["outbox"]["pending"] == 1
