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

pytestmark = pytest.mark.urls("tests.urls")
URL = "/api/v1/test/idempotent/"


def executions() -> int:
    return AuditEvent.objects.filter(action="test.idempotent").count()


@pytest.fixture
def client_and_user(db):
    user = UserFactory()
    return authenticate(APIClient(), user), user


def test_same_key_same_body_replays_the_first_response(client_and_user):
    client, _ = client_and_user
    key = str(uuid.uuid4())
    first = client.post(URL, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(URL, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert executions() == 1


def test_same_key_other_body_is_refused(client_and_user):
    client, _ = client_and_user
    key = str(uuid.uuid4())
    client.post(URL, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    response = client.post(URL, {"amount": "11.00"}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert executions() == 1


def test_keys_are_per_user(client_and_user):
    client, _ = client_and_user
    other = authenticate(APIClient(), UserFactory())
    key = str(uuid.uuid4())
    client.post(URL, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    response = other.post(URL, {"amount": "99.00"}, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201
    assert executions() == 2


def test_a_validation_error_is_stored_and_replayed(client_and_user):
    client, _ = client_and_user
    key = str(uuid.uuid4())
    first = client.post(URL, {"amount": "abc"}, HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(URL, {"amount": "abc"}, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 400
    assert first.json() == second.json()


def test_without_a_key_every_request_runs(client_and_user):
    client, _ = client_and_user
    client.post(URL, {"amount": "10.00"})
    client.post(URL, {"amount": "10.00"})
    assert executions() == 2


def test_an_expired_key_can_be_used_again(client_and_user):
    client, user = client_and_user
    key = str(uuid.uuid4())
    client.post(URL, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyKey.objects.filter(user=user, key=key).update(created_at=timezone.now() - timedelta(hours=25))
    response = client.post(URL, {"amount": "12.00"}, HTTP_IDEMPOTENCY_KEY=key)
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
def test_twenty_concurrent_requests_with_one_key_execute_once():
    user = UserFactory()
    key = str(uuid.uuid4())
    barrier = threading.Barrier(20)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    clients = [authenticate(APIClient(), user) for _ in range(20)]

    def call(client):
        barrier.wait(timeout=30)
        try:
            response = client.post(URL, {"amount": "10.00", "delay": 0.2}, HTTP_IDEMPOTENCY_KEY=key)
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
    replay = authenticate(APIClient(), user).post(URL, {"amount": "10.00", "delay": 0.2}, HTTP_IDEMPOTENCY_KEY=key)
    assert replay.status_code == 201
    assert replay.json()["id"] == AuditEvent.objects.get(action="test.idempotent").id


def test_a_key_left_in_progress_is_never_run_again(client_and_user):
    """A process that died after committing its effect but before storing the response
    leaves the key in progress; running the request again could move money twice."""
    client, _user = client_and_user
    client.post(URL, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="died")
    long_ago = timezone.now() - timedelta(hours=2)
    IdempotencyKey.objects.filter(key="died").update(status=IdempotencyKey.Status.IN_PROGRESS, response_body=None,
                                                     response_status=None, updated_at=long_ago)
    response = client.post(URL, {"amount": "10.00"}, HTTP_IDEMPOTENCY_KEY="died")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_key_in_progress"
    assert executions() == 1
