import threading

import pytest
from django.db import connection, transaction

from core import outbox
from core.outbox import OutboxMessage, outbox_drain, outbox_publish
from tests.conftest import requires_postgres

delivered: list[dict] = []
_lock = threading.Lock()


@outbox.outbox_handler("test.event")
def record_delivery(payload: dict) -> None:
    with _lock:
        delivered.append(payload)


@outbox.outbox_handler("test.flaky")
def always_fails(payload: dict) -> None:
    raise RuntimeError("downstream is down")


@pytest.fixture(autouse=True)
def _reset():
    delivered.clear()
    yield
    delivered.clear()


@pytest.mark.django_db(transaction=True)
def test_a_message_from_a_rolled_back_transaction_is_never_delivered():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox_publish(topic="test.event", payload={"n": 1})
        1 / 0  # noqa: B018
    outbox_drain()
    assert delivered == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_message_is_delivered_right_after_commit_when_eager():
    with transaction.atomic():
        outbox_publish(topic="test.event", payload={"n": 2})
        assert delivered == []  # nothing before commit
    assert delivered == [{"n": 2}]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PROCESSED
    outbox_drain()
    assert delivered == [{"n": 2}]


def test_publish_outside_a_transaction_is_a_bug(db):
    # pytest-django's `db` wraps the test in a transaction; leave it to be outside one.
    with pytest.raises(RuntimeError):
        connection.in_atomic_block = False
        try:
            outbox_publish(topic="test.event", payload={})
        finally:
            connection.in_atomic_block = True


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_is_retried_later_and_does_not_block_others(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # publish only; we drain by hand
    with transaction.atomic():
        outbox_publish(topic="test.flaky", payload={"n": 3})
        outbox_publish(topic="test.event", payload={"n": 4})
    outbox_drain()
    flaky = OutboxMessage.objects.get(topic="test.flaky")
    assert flaky.status == OutboxMessage.Status.PENDING
    assert flaky.attempts == 1 and "downstream is down" in flaky.last_error
    assert delivered == [{"n": 4}]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_drainers_at_once_deliver_each_message_once(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with transaction.atomic():
        for n in range(200):
            outbox_publish(topic="test.event", payload={"n": n})
    barrier = threading.Barrier(4)

    def drain():
        barrier.wait()
        try:
            outbox_drain(batch_size=10)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(p["n"] for p in delivered) == list(range(200))
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PROCESSED).count() == 200


@pytest.fixture
def queued_drains(settings, monkeypatch):
    """Celery not eager (as in production); count the drain tasks enqueued."""
    from core.tasks import outbox_drain_task

    settings.CELERY_TASK_ALWAYS_EAGER = False
    enqueued = []
    monkeypatch.setattr(outbox_drain_task, "delay", lambda: enqueued.append(1))
    return enqueued


@pytest.mark.django_db(transaction=True)
def test_commits_while_a_drain_is_queued_enqueue_no_other_and_that_drain_delivers_them(queued_drains):
    for n in range(3):
        with transaction.atomic():
            outbox_publish(topic="test.event", payload={"n": n})
    assert queued_drains == [1]  # one task for three commits
    assert delivered == []

    outbox.outbox_drain_scheduled()  # what the queued task runs
    assert sorted(p["n"] for p in delivered) == [0, 1, 2]

    with transaction.atomic():  # the flag went with that drain: the next commit queues one
        outbox_publish(topic="test.event", payload={"n": 3})
    assert queued_drains == [1, 1]


@pytest.mark.django_db(transaction=True)
def test_a_failed_enqueue_does_not_stop_the_next_commit_from_trying(settings, monkeypatch):
    from core.tasks import outbox_drain_task

    settings.CELERY_TASK_ALWAYS_EAGER = False
    attempts = []

    def broker_down():
        attempts.append(1)
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(outbox_drain_task, "delay", broker_down)
    for n in range(2):
        with transaction.atomic():  # the commit itself succeeds; beat would drain later
            outbox_publish(topic="test.event", payload={"n": n})
    assert attempts == [1, 1]
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 2
