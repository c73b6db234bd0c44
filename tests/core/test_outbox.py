import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

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


# --- Batches, order, exactly-once effects (ADR 0009) -------------------------------------------

batches: list[list[dict]] = []
ordered_seen: list[tuple[str, int]] = []
failing: set[tuple[str, int]] = set()


@outbox.outbox_handler("test.batch", batch=True)
def record_batch(payloads: list[dict]) -> None:
    with _lock:
        batches.append(list(payloads))


@outbox.outbox_handler("test.effect")
def effect_written(payload: dict) -> None:
    """The follow-up message a non-idempotent handler writes: one more row per run."""


@outbox.outbox_handler("test.not_idempotent", batch=True)
def write_an_effect_per_run(payloads: list[dict]) -> None:
    """Not idempotent: every run writes a row (a `test.effect` message) per payload, in the
    delivery transaction."""
    for payload in payloads:
        outbox_publish(topic="test.effect", payload={"n": payload["n"]})


@outbox.outbox_handler("test.ordered", batch=True, ordered_by="key")
def record_in_order(payloads: list[dict]) -> None:
    for payload in payloads:
        if (payload["key"], payload["seq"]) in failing:
            raise RuntimeError(f"{payload['key']}:{payload['seq']} fails")
    time.sleep(0.005)  # long enough for another relay to overtake, were it allowed to
    with _lock:
        ordered_seen.extend((payload["key"], payload["seq"]) for payload in payloads)


@pytest.fixture(autouse=True)
def _reset_batches():
    batches.clear()
    ordered_seen.clear()
    failing.clear()
    yield


@pytest.mark.django_db(transaction=True)
def test_a_batch_handler_gets_the_due_messages_in_one_call_oldest_first_and_each_is_marked_once(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with transaction.atomic():
        for n in range(30):
            outbox_publish(topic="test.batch", payload={"n": n})
        outbox_publish(topic="test.event", payload={"n": "plain"})
    assert outbox_drain(batch_size=12) == 31
    assert [[payload["n"] for payload in batch] for batch in batches] == [
        list(range(12)), list(range(12, 24)), list(range(24, 30))]
    assert delivered == [{"n": "plain"}]
    assert list(OutboxMessage.objects.values_list("status", "attempts").distinct()) == [
        (OutboxMessage.Status.PROCESSED, 1)]


@pytest.mark.django_db(transaction=True)
def test_a_failing_message_in_a_batch_waits_alone_while_the_rest_of_its_batch_is_handled(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def refuse_three(payloads):
        if any(payload["n"] == 3 for payload in payloads):
            raise RuntimeError("three is refused")
        record_batch(payloads)

    monkeypatch.setattr(outbox, "_options", {**outbox._options, "tests.core.test_outbox.record_batch":
                                             outbox.HandlerOptions(batch=refuse_three)})
    with transaction.atomic():
        for n in range(6):
            outbox_publish(topic="test.batch", payload={"n": n})
    assert outbox_drain() == 5
    assert sorted(payload["n"] for batch in batches for payload in batch) == [0, 1, 2, 4, 5]
    refused = OutboxMessage.objects.get(payload__n=3)
    assert (refused.status, refused.attempts) == (OutboxMessage.Status.PENDING, 1)
    assert "three is refused" in refused.last_error


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_relay_that_dies_mid_batch_leaves_no_effect_and_each_message_takes_effect_exactly_once(settings,
                                                                                                 monkeypatch):
    """A non-idempotent handler's writes commit with the mark or not at all: a relay killed
    after the handlers ran but before its batch committed leaves nothing, and the next
    relay's delivery is the only one that counts. No message is lost either."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with transaction.atomic():
        for n in range(40):
            outbox_publish(topic="test.not_idempotent", payload={"n": n})
    real_mark, crashes = outbox._mark, []

    def die_before_the_mark(**kwargs):
        if not crashes:
            crashes.append(1)
            raise SystemExit("the relay process dies between its handlers and its commit")
        return real_mark(**kwargs)

    monkeypatch.setattr(outbox, "_mark", die_before_the_mark)

    def dying_relay():
        try:
            outbox_drain(batch_size=25)
        except SystemExit:
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=dying_relay)
    thread.start()
    thread.join(timeout=30)
    assert crashes == [1]
    assert not OutboxMessage.objects.filter(topic="test.effect").exists()  # rolled back with the batch
    assert OutboxMessage.objects.filter(topic="test.not_idempotent", status=OutboxMessage.Status.PENDING).count() == 40

    outbox_drain(batch_size=25)
    effects = sorted(OutboxMessage.objects.filter(topic="test.effect").values_list("payload__n", flat=True))
    assert effects == list(range(40))  # each exactly once: none lost, none twice
    assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_several_relays_deliver_each_key_in_commit_order_while_messages_keep_coming(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    keys, per_key = ("a", "b", "c"), 60
    published = threading.Event()

    def publisher():
        try:
            for seq in range(per_key):
                for key in keys:
                    with transaction.atomic():
                        outbox_publish(topic="test.ordered", payload={"key": key, "seq": seq})
        finally:
            published.set()
            connection.close()

    def relay():
        try:
            while not published.is_set() or OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).exists():
                outbox_drain(batch_size=7)
        finally:
            connection.close()

    threads = [threading.Thread(target=publisher)] + [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for key in keys:
        assert [seq for seen, seq in ordered_seen if seen == key] == list(range(per_key)), f"key {key} out of order"


@pytest.mark.django_db(transaction=True)
def test_a_message_waiting_for_a_retry_holds_back_the_newer_ones_of_its_key_only(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    failing.add(("a", 1))
    with transaction.atomic():
        for key, seq in (("a", 1), ("a", 2), ("b", 1), ("a", 3), ("b", 2)):
            outbox_publish(topic="test.ordered", payload={"key": key, "seq": seq})
    outbox_drain()
    assert ordered_seen == [("b", 1), ("b", 2)]
    waiting = {(m.payload["key"], m.payload["seq"]): (m.status, m.attempts) for m in OutboxMessage.objects.all()}
    assert waiting[("a", 1)] == (OutboxMessage.Status.PENDING, 1)
    assert waiting[("a", 2)] == waiting[("a", 3)] == (OutboxMessage.Status.PENDING, 0)

    outbox_drain()  # the retry is not due yet: nothing of key a moves
    assert ordered_seen == [("b", 1), ("b", 2)]
    failing.clear()  # downstream is back, and the retry comes due
    OutboxMessage.objects.filter(payload__key="a", payload__seq=1).update(available_at=timezone.now())
    outbox_drain()
    assert ordered_seen == [("b", 1), ("b", 2), ("a", 1), ("a", 2), ("a", 3)]


@pytest.mark.django_db(transaction=True)
def test_lag_counts_the_backlog_and_ages_the_oldest_message_not_yet_tried(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with transaction.atomic():
        outbox_publish(topic="test.event", payload={"n": 1})
        outbox_publish(topic="test.flaky", payload={"n": 2})
        outbox_publish(topic="test.event", payload={"n": 3})
    now = timezone.now()
    first, second, third = OutboxMessage.objects.order_by("id")
    OutboxMessage.objects.filter(pk=second.pk).update(attempts=2, created_at=now - timedelta(seconds=300))
    OutboxMessage.objects.filter(pk=third.pk).update(created_at=now - timedelta(seconds=40))
    OutboxMessage.objects.filter(pk=first.pk).update(status=OutboxMessage.Status.FAILED)
    assert outbox.outbox_lag(now=now) == {"pending": 2, "oldest_pending_seconds": 40.0, "retrying": 1, "failed": 1}


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_relay_command_runs_several_relay_processes_and_stops_them_on_sigterm(settings):
    """`--processes 2`, as the Procfile's OUTBOX_CONCURRENCY asks: both relay, one SIGTERM stops all."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    database = connection.settings_dict
    env = {**os.environ, "CELERY_EAGER": "0",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"}
    relay = subprocess.Popen([sys.executable, "manage.py", "outbox_relay", "--poll", "0.05", "--processes", "2"],
                             cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(relay.stdout), daemon=True)
    reader.start()
    try:
        assert _wait_for(lambda: sum("polling every" in line for line in lines) == 2, seconds=60), lines
        for listing_id in range(1, 41):
            with transaction.atomic():
                outbox_publish(topic="listing.changed", payload={"listing_id": listing_id, "offering_id": 1,
                                                                 "units_remaining": 0, "status": "filled",
                                                                 "price_per_unit": "1000.00"})
        assert _wait_for(lambda: not OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).exists(),
                         seconds=60), "the relay processes did not deliver the messages"
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=30)
        reader.join(timeout=10)
    output = "".join(lines)
    assert relay.returncode == 0, output
    assert output.count("outbox relay: stopped after") == 2, output
    assert "all relay processes stopped" in output
