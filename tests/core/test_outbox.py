import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

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


@pytest.mark.django_db(transaction=True)
def test_outside_eager_mode_a_commit_enqueues_nothing_and_leaves_the_message_for_the_relay(settings, monkeypatch):
    from core.tasks import outbox_drain_task

    settings.CELERY_TASK_ALWAYS_EAGER = False
    enqueued = []
    monkeypatch.setattr(outbox_drain_task, "delay", lambda *args, **kwargs: enqueued.append(1))
    with transaction.atomic():
        outbox_publish(topic="test.event", payload={"n": 1})
    assert enqueued == []
    assert delivered == []
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PENDING


def _start_relay(poll_seconds: float = 0.02) -> tuple[threading.Thread, threading.Event, list[int]]:
    stop, result = threading.Event(), []

    def run():
        try:
            result.append(outbox.outbox_relay(poll_seconds=poll_seconds, stop=stop))
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, stop, result


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_relay_delivers_messages_as_they_commit_and_stops_when_asked(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    thread, stop, result = _start_relay()
    try:
        for n in range(3):
            with transaction.atomic():
                outbox_publish(topic="test.event", payload={"n": n})
            assert _wait_for(lambda n=n: len(delivered) == n + 1), f"message {n} was not delivered"
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert result == [3]
    assert [p["n"] for p in delivered] == [0, 1, 2]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.PROCESSED}


relay_stop = threading.Event()


@outbox.outbox_handler("test.stop_after")
def stop_the_relay(payload: dict) -> None:
    delivered.append(payload)
    relay_stop.set()  # as SIGTERM does, in the middle of a backlog


@pytest.mark.django_db(transaction=True)
def test_a_stopped_relay_finishes_the_message_in_hand_and_leaves_the_backlog(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    relay_stop.clear()
    with transaction.atomic():
        for n in range(5):
            outbox_publish(topic="test.stop_after", payload={"n": n})
    assert outbox.outbox_relay(poll_seconds=0.01, stop=relay_stop) == 1
    assert delivered == [{"n": 0}]
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 4


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_relay_outlives_a_database_error(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    real_drain, failures = outbox.outbox_drain, []

    def drain_after_an_outage(**kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real_drain(**kwargs)

    monkeypatch.setattr(outbox, "outbox_drain", drain_after_an_outage)
    with transaction.atomic():
        outbox_publish(topic="test.event", payload={"n": 7})
    thread, stop, result = _start_relay()
    try:
        assert _wait_for(lambda: delivered == [{"n": 7}])
    finally:
        stop.set()
        thread.join(timeout=10)
    assert failures == [1, 1]
    assert result == [1]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_relay_command_delivers_and_exits_cleanly_on_sigterm(settings):
    """The Procfile's `outbox` process itself, against this test's database."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with transaction.atomic():  # a real topic: the subprocess has only the project's handlers
        outbox_publish(topic="listing.changed", payload={"listing_id": 1, "offering_id": 1, "units_remaining": 0,
                                                         "status": "filled", "price_per_unit": "1000.00"})
    database = connection.settings_dict
    env = {**os.environ, "CELERY_EAGER": "0",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"}
    relay = subprocess.Popen([sys.executable, "manage.py", "outbox_relay", "--poll", "0.05"], cwd=settings.BASE_DIR,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _wait_for(lambda: OutboxMessage.objects.get().status == OutboxMessage.Status.PROCESSED, seconds=30), \
            "the relay process did not deliver the message"
    finally:
        relay.send_signal(signal.SIGTERM)
        output, _ = relay.communicate(timeout=20)
    assert relay.returncode == 0, output
    assert "stopped after 1 message(s)" in output
