"""Transactional outbox: work that must not be lost, written with the change that causes it.

`outbox_publish(topic, payload)` is called inside the service's transaction and writes one
`OutboxMessage` per handler registered for the topic (so one slow or failing handler never
holds up another). Nothing is sent until that transaction commits; a rollback leaves no
message at all.

Delivery: `outbox_drain()` claims due messages with `SELECT … FOR UPDATE SKIP LOCKED` and
runs each handler inside the same transaction that marks the message processed, so a
handler's database effects and the "done" mark commit together: a message is handled once
even when several drainers run at once. Handlers must still be idempotent (a handler that
calls an outside service does so after commit, keyed by the message id). A failing
handler is retried with backoff and parked as `failed` after `MAX_ATTEMPTS`.

Who drains: the relay (`manage.py outbox_relay`, the Procfile's `outbox` process) polls for
due messages every `OUTBOX_POLL_SECONDS` and drains while any arrive; several relays may run.
A Celery beat job drains every few seconds as well, so a stopped relay delays messages
instead of losing them. A commit costs the web process nothing beyond its INSERT: no broker
round trip, no task per commit. With Celery eager (no Redis: the embedded default and the
tests) the drain runs in-process right after the commit, so every flow completes without a
worker.
"""

import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, close_old_connections, models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
Handler = Callable[[dict], None]
_handlers: dict[str, dict[str, Handler]] = {}


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSED = "processed"
        FAILED = "failed"

    topic = models.CharField(max_length=64)
    handler = models.CharField(max_length=128)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    available_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "core"
        indexes = [
            models.Index(
                fields=("available_at", "id"),
                name="outbox_pending_idx",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.handler} ({self.status})"


def outbox_handler(topic: str):
    """Register a handler for a topic. Handlers live in `<app>/handlers.py`, take the
    payload dict and must be idempotent."""

    def register(function: Handler) -> Handler:
        name = f"{function.__module__}.{function.__qualname__}"
        _handlers.setdefault(topic, {})[name] = function
        return function

    return register


def registered_handlers(topic: str) -> dict[str, Handler]:
    return dict(_handlers.get(topic, {}))


def handler_names(topic: str) -> list[str]:
    """The names a message of `topic` is written for, in registration order."""
    return list(_handlers.get(topic, {}))


def outbox_publish(*, topic: str, payload: dict) -> int:
    """Write the topic's messages in the caller's transaction (required)."""
    return outbox_publish_many(events=[(topic, payload)])


def outbox_publish_many(*, events: list[tuple[str, dict]]) -> int:
    """Several events in one INSERT (the hot path publishes a trade and a listing change):
    one message per registered handler of each topic. Returns how many were written."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_publish must run inside transaction.atomic().")
    rows = [(topic, name, payload) for topic, payload in events for name in _handlers.get(topic, {})]
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        # Written out: the ORM's bulk_create compiled more slowly than this runs.
        now = timezone.now()
        topics, names, payloads = zip(*rows, strict=True)
        sql = (f"INSERT INTO {connection.ops.quote_name(OutboxMessage._meta.db_table)} "  # noqa: S608
               "(topic, handler, payload, status, attempts, last_error, available_at, created_at) "
               "SELECT message.topic, message.handler, message.payload, %s, 0, '', %s, %s "
               "FROM unnest(%s::varchar[], %s::varchar[], %s::jsonb[]) AS message(topic, handler, payload)")
        with connection.cursor() as cursor:
            cursor.execute(sql, [OutboxMessage.Status.PENDING, now, now, list(topics), list(names),
                                 [json.dumps(payload, cls=DjangoJSONEncoder) for payload in payloads]])
    else:
        OutboxMessage.objects.bulk_create([OutboxMessage(topic=topic, handler=name, payload=payload)
                                           for topic, name, payload in rows])
    outbox_written()
    return len(rows)


def outbox_written() -> None:
    """Have the messages just written delivered once they commit. `outbox_publish_many`
    calls it; a writer that inserts messages itself (a database function: `trading_settle`)
    calls it after, in its transaction or, outside one, after its statement committed.
    Only the eager mode does anything here: otherwise the relay and beat find the rows."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(outbox_drain)


def _resolve(message: OutboxMessage) -> Handler | None:
    return _handlers.get(message.topic, {}).get(message.handler)


def outbox_drain(*, batch_size: int = 100, now=None, stop: threading.Event | None = None) -> int:
    """Deliver due messages; returns how many were processed. Safe to run concurrently.
    With `stop`, returns once it is set, after the message in hand."""
    processed = 0
    while stop is None or not stop.is_set():
        handled_in_batch = 0
        ids = list(
            OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, available_at__lte=now or timezone.now())
            .order_by("available_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return processed
        for message_id in ids:
            if stop is not None and stop.is_set():
                return processed
            outcome = _deliver_one(message_id)
            if outcome is not None:
                handled_in_batch += 1
                processed += int(outcome)
        if handled_in_batch == 0:
            return processed  # everything left is claimed by another drainer
    return processed


def _deliver_one(message_id: int) -> bool | None:
    """Deliver one message. True: handled; False: failed this time; None: someone else has it."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return None
        handler = _resolve(message)
        try:
            if handler is None:
                raise LookupError(f"No handler {message.handler!r} is registered for {message.topic!r}.")
            with transaction.atomic():  # a savepoint: a failing handler leaves no half-write
                handler(message.payload)
        except Exception as exc:
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
                logger.error("outbox message %s parked after %s attempts", message.pk, message.attempts)
            else:
                message.available_at = timezone.now() + timedelta(seconds=2**message.attempts)
                logger.warning("outbox message %s failed (attempt %s)", message.pk, message.attempts, exc_info=True)
            message.save(update_fields=["attempts", "last_error", "status", "available_at"])
            return False
        message.status = OutboxMessage.Status.PROCESSED
        message.processed_at = timezone.now()
        message.attempts += 1
        message.save(update_fields=["status", "processed_at", "attempts"])
        return True


def outbox_relay(*, poll_seconds: float, stop: threading.Event) -> int:
    """Drain until `stop` is set: again at once while messages keep coming, otherwise after
    `poll_seconds` (the wait ends early when `stop` is set). The connection goes back after
    each pass, as after a request; a database error (a restart, a killed connection) is
    logged and the next poll tries again. Returns how many messages were processed."""
    processed = 0
    while not stop.is_set():
        handled = 0
        try:
            handled = outbox_drain(stop=stop)
        except DatabaseError:
            logger.warning("outbox relay: the database is unavailable; retrying", exc_info=True)
        finally:
            close_old_connections()
        processed += handled
        if handled == 0:
            stop.wait(poll_seconds)
    return processed
