import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.audit import AuditEvent
from core.idempotency import IdempotencyKey, idempotency_purge
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate, requires_postgres
from tests.urls import IdempotentProbeApi

pytestmark = pytest.mark.urls("tests.urls")
URL = "/api/v1/test/idempotent/"  # the default: key, effect and response in one transaction
OUTSIDE = "/api/v1/test/idempotent-outside/"  # atomic=False: for views that call outside services


@pytest.fixture(params=[URL, OUTSIDE], ids=["atomic", "outside"])
def url(request):
    """Both modes keep the same contract; the tests marked so run against each."""
    return request.param


@pytest.fixture(autouse=True)
def _reset_probe_runs():
    IdempotentProbeApi.runs = 0


def executions() -> int:
    return AuditEvent.objects.filter(action="test.idempotent").count()


@pytest.fixture
def client_and_user(db):
    user = UserFactory()
    return authenticate(APIClient(), user), user


def test_same_key_same_body_replays_the_first_response(client_and_user, url):
    client, _ = client_and_user
    key = str(uuid.uuid4())
    first = client.post(url, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(url, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert executions() == 1


def test_same_key_other_body_is_refused(client_and_user, url):
    client, _ = client_and_user
    key = str(uuid.uuid4())
    client.post(url, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    response = client.post(url, {"amount": "11.00"}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert executions() == 1


def test_keys_are_per_user(client_and_user, url):
    client, _ = client_and_user
    other = authenticate(APIClient(), UserFactory())
    key = str(uuid.uuid4())
    client.post(url, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    response = other.post(url, {"amount": "99.00"}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201
    assert executions() == 2


def test_a_validation_error_is_stored_and_replayed(client_and_user, url):
    client, _ = client_and_user
    key = str(uuid.uuid4())
    first = client.post(url, {"amount": "abc"}, HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(url, {"amount": "abc"}, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 400
    assert first.json() == second.json()


def test_without_a_key_every_request_runs(client_and_user, url):
    client, _ = client_and_user
    client.post(url, {"amount": "10.00"})
    client.post(url, {"amount": "10.00"})
    assert executions() == 2


def test_an_expired_key_can_be_used_again(client_and_user, url):
    client, user = client_and_user
    key = str(uuid.uuid4())
    client.post(url, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyKey.objects.filter(user=user, key=key).update(created_at=timezone.now() - timedelta(hours=25))
    response = client.post(url, {"amount": "12.00"}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201
    assert executions() == 2


def test_purge_removes_only_expired_keys(client_and_user):
    client, _user = client_and_user
    client.post(URL, {"amount": "1.00"}, HTTP_IDEMPOTENCY_KEY="old")
    client.post(URL, {"amount": "1.00"}, HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", [URL, OUTSIDE], ids=["atomic", "outside"])
def test_twenty_concurrent_requests_with_one_key_execute_once(url):
    user = UserFactory()
    key = str(uuid.uuid4())
    barrier = threading.Barrier(20)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    clients = [authenticate(APIClient(), user) for _ in range(20)]

    def call(client):
        barrier.wait(timeout=30)
        try:
            response = client.post(url, {"amount": "10.00", "delay": 0.2}, HTTP_IDEMPOTENCY_KEY=key)
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert executions() == 1
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    for status, body in results:
        if status == 409:
            assert body["errors"][0]["code"] == "idempotency_key_in_progress"
    # After it finishes, the key replays the single execution.
    replay = authenticate(APIClient(), user).post(url, {"amount": "10.00", "delay": 0.2}, HTTP_IDEMPOTENCY_KEY=key)
    assert replay.status_code == 201
    assert replay.json()["id"] == AuditEvent.objects.get(action="test.idempotent").id


def test_a_key_left_in_progress_is_never_run_again(client_and_user, url):
    """A process that died after committing its effect but before storing the response
    leaves the key in progress; running the request again could move money twice."""
    client, _user = client_and_user
    client.post(url, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="died")
    long_ago = timezone.now() - timedelta(hours=2)
    IdempotencyKey.objects.filter(key="died").update(status=IdempotencyKey.Status.IN_PROGRESS, response_body=None,
                                                     response_status=None, updated_at=long_ago)
    response = client.post(url, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="died")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_key_in_progress"
    assert executions() == 1


def test_a_crash_after_the_effect_leaves_nothing_and_the_retry_runs_once(client_and_user):
    """The worker fails after the view wrote its effect: the effect is rolled back with the
    key, and the client's retry (same key, same body) runs it exactly once."""
    client, user = client_and_user
    client.raise_request_exception = False  # answer 500 as in production
    body = {"amount": "10.00", "then": "crash_once"}
    crashed = client.post(URL, body, HTTP_IDEMPOTENCY_KEY="k1")
    assert crashed.status_code == 500
    assert executions() == 0
    assert not IdempotencyKey.objects.filter(user=user, key="k1").exists()
    retried = client.post(URL, body, HTTP_IDEMPOTENCY_KEY="k1")
    assert retried.status_code == 201
    assert executions() == 1
    assert retried.json()["id"] == AuditEvent.objects.get(action="test.idempotent").id


def test_outside_mode_keeps_an_effect_a_crash_left_and_frees_the_key(client_and_user):
    """Why `atomic=False` is only for views that must call out: a crash after a committed
    effect frees the key, so the retry runs the view a second time."""
    client, _ = client_and_user
    client.raise_request_exception = False
    body = {"amount": "10.00", "then": "crash_once"}
    assert client.post(OUTSIDE, body, HTTP_IDEMPOTENCY_KEY="k1").status_code == 500
    assert executions() == 1
    assert client.post(OUTSIDE, body, HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    assert executions() == 2


def test_a_refusal_rolls_back_what_the_view_wrote_and_is_replayed(client_and_user):
    client, user = client_and_user
    body = {"amount": "10.00", "then": "refuse"}
    first = client.post(URL, body, HTTP_IDEMPOTENCY_KEY="k2")
    assert first.status_code == 409
    assert first.json()["errors"][0]["detail"] == "Refused after the effect."
    assert executions() == 0
    assert IdempotencyKey.objects.get(user=user, key="k2").status == IdempotencyKey.Status.COMPLETED
    second = client.post(URL, body, HTTP_IDEMPOTENCY_KEY="k2")
    assert (second.status_code, second.json()) == (409, first.json())
    assert second["Idempotent-Replayed"] == "true"
    assert IdempotentProbeApi.runs == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_deadlock_in_the_view_runs_the_whole_request_again():
    """Inside the key's transaction the services cannot retry themselves; the request does,
    from the claim on, and the first run's writes are gone."""
    client = authenticate(APIClient(), UserFactory())
    response = client.post(URL, {"amount": "10.00", "then": "deadlock_once"}, HTTP_IDEMPOTENCY_KEY="k3")
    assert response.status_code == 201
    assert IdempotentProbeApi.runs == 2
    assert executions() == 1
    assert IdempotencyKey.objects.get(key="k3").response_body == response.json()
