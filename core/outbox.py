"""Transactional outbox: work that must not be lost, written with the change that causes it.

`outbox_publish(topic, payload)` is called inside the service's transaction and writes one
`OutboxMessage` per handler registered for the topic (so one slow or failing handler never
holds up another). Nothing is sent until that transaction commits; a rollback leaves no
message at all.

Delivery (ADR 0009): a pass claims due messages with `SELECT … FOR UPDATE SKIP LOCKED`, runs
their handlers and marks them handled in the same transaction, so a handler's database
effects and the "done" mark commit together: a message's effects commit once even when
several relays run at once or one dies half-way (its transaction rolls back and another
relay takes the messages). A handler that calls an outside service does so after commit,
keyed by something in the payload, so it must still be idempotent. A failing handler is
retried with backoff and parked as `failed` after `MAX_ATTEMPTS`.

Two kinds of handler:
- plain (the default): one payload, one message per transaction, each in a savepoint. It may
  lock rows in the global order, as a request does (releasing a closed listing's bids
  locks wallet accounts).
- batch (`batch=True`): a list of payloads, called once for up to `OUTBOX_BATCH_SIZE`
  messages in one transaction beside the other batch handlers, each handler in one
  savepoint; the messages are then marked in one UPDATE. It must lock no row a request
  locks, since it would hold that lock for the whole batch and outside the global order.
  If the call fails, its messages are retried one by one so only the failing one waits.
  Notifications and the marketplace push are batch handlers: a buy's messages cost a
  fraction of a statement each instead of eight.

Order: messages are claimed in id order, and for one key (a listing, a wallet) id order is
commit order, since the writers of one key serialise on its row lock. A handler that
needs its key's events in that order says `ordered_by="<payload field>"`: one relay at a
time delivers to it (a transaction-scoped advisory lock per handler, tried, never waited
for), in id order, and a message of a key waits while an older one of that key waits for
a retry. Ordered today: `listing.changed` (the throttle keeps the latest state). The
others are idempotent per event and need no order (see docs/adr/0009).

Who drains: the relay (`manage.py outbox_relay`, the Procfile's `outbox` process, as many
as the load needs) drains what is due every `OUTBOX_POLL_SECONDS`, and again at once only
while batches come back full, so a light load is delivered in batches too. A Celery beat
job drains every few seconds as well, so stopped relays delay messages instead of losing
them. A commit costs the web process nothing beyond its INSERT:
no broker round trip, no task per commit. With Celery eager (no Redis: the embedded
default and the tests) the drain runs in-process right after the commit, so every flow
completes without a worker. `outbox_lag()` says how far behind delivery is (/readyz and
the admin dashboard show it).
"""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, close_old_connections, models, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
ORDERED_LOCK_CLASS = 7401  # the first key of the advisory locks that keep ordered handlers one relay at a time
Handler = Callable[[dict], None]
# topic → handler name → a callable of one payload. Tests register plain functions here too.
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
            # Retries coming due (and the head-of-line check of ordered handlers).
            models.Index(
                fields=("available_at", "id"),
                name="outbox_pending_idx",
                condition=models.Q(status="pending"),
            ),
            # The claim (oldest first, in commit order per key) and `outbox_lag()`.
            models.Index(fields=("id",), name="outbox_pending_id_idx", condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.handler} ({self.status})"


@dataclass(frozen=True)
class HandlerOptions:
    """How the relay delivers to one handler (see the module docstring)."""

    batch: Callable[[list[dict]], None] | None = None  # the handler itself, given a batch's payloads
    ordered_by: str | None = None  # payload field: messages with one value are handled in commit order

    def key(self, payload: dict) -> str | None:
        return None if self.ordered_by is None else str(payload.get(self.ordered_by))


_PLAIN = HandlerOptions()
_options: dict[str, HandlerOptions] = {}


def outbox_handler(topic: str, *, batch: bool = False, ordered_by: str | None = None):
    """Register a handler for a topic. Handlers live in `<app>/handlers.py` and must be
    idempotent. By default a handler takes one payload and runs alone in the transaction that
    marks its message, so it may lock rows (in the global order, as a request does).

    `batch=True`: the handler takes a list of payloads (oldest first) and is called once for
    many messages, in the batch's transaction beside other handlers' batches. It must lock no
    row that a request locks (it would hold the lock for the whole batch, outside the global
    order). `ordered_by="listing_id"`: messages whose payloads share that field's value are
    handled in the order they committed, one relay at a time for this handler."""

    def register(function):
        name = f"{function.__module__}.{function.__qualname__}"
        if batch:
            def one(payload: dict, function=function) -> None:
                function([payload])

            one.__name__ = one.__qualname__ = function.__name__
            _handlers.setdefault(topic, {})[name] = one
        else:
            _handlers.setdefault(topic, {})[name] = function
        _options[name] = HandlerOptions(batch=function if batch else None, ordered_by=ordered_by)
        return function

    return register


def handler_options(name: str) -> HandlerOptions:
    return _options.get(name, _PLAIN)


def registered_handlers(topic: str) -> dict[str, Handler]:
    """Name → a callable taking one payload (a batch handler given a list of one)."""
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


def _batch_names() -> set[str]:
    """Registered handlers that take batches."""
    registered = {name for by_name in _handlers.values() for name in by_name}
    return {name for name, options in _options.items() if options.batch is not None and name in registered}


def _ordered_names(*, batch: bool) -> list[str]:
    return sorted(name for name, options in _options.items()
                  if options.ordered_by is not None and (options.batch is not None) == batch)


def _lock_ordered(names: list[str]) -> set[str]:
    """The ordered handlers this transaction may deliver to: those whose lock it took (held
    until it ends, so one relay at a time delivers to each). SQLite runs one writer at a time
    anyway, so everything is ours there."""
    if not names:
        return set()
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return set(names)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM unnest(%s::text[]) AS name "
                       "WHERE pg_try_advisory_xact_lock(%s, hashtext(name))", [names, ORDERED_LOCK_CLASS])
        return {name for (name,) in cursor.fetchall()}


@dataclass(frozen=True)
class _Claimed:
    id: int
    topic: str
    handler: str
    payload: dict
    attempts: int


def outbox_drain(*, batch_size: int | None = None, now=None, stop: threading.Event | None = None) -> int:
    """Deliver the messages due now; returns how many were handled. Safe to run concurrently.
    A round delivers one batch of the batch handlers' messages (up to `batch_size`, one
    transaction), then up to `batch_size` of the other handlers' messages, one transaction
    each. Another round follows at once only while rounds come back full: messages that
    commit meanwhile wait for the caller's next poll, so a trickle is delivered in batches
    too rather than one round (a dozen statements) per message. With `stop`, returns once it
    is set, after the batch or the message in hand."""
    batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
    processed = 0
    while stop is None or not stop.is_set():
        # One statement when nothing is due (a relay polls every OUTBOX_POLL_SECONDS). In id
        # order (`exists()` would drop the ORDER BY), so the plan reads the pending index
        # whatever share of the table the last ANALYZE saw pending: after a backlog it chose
        # a scan of the whole table, ten times a second (bench/outbox.py stack).
        due = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, available_at__lte=now or timezone.now())
        if due.order_by("id").values_list("id", flat=True).first() is None:
            return processed
        attempted, handled = _deliver_pass(batch=True, limit=batch_size, now=now)
        processed += handled
        full = attempted >= batch_size
        for number in range(batch_size):
            if stop is not None and stop.is_set():
                return processed
            tried, handled = _deliver_pass(batch=False, limit=1, now=now)
            if not tried:
                break
            processed += handled
            full = full or number == batch_size - 1
        if not full:
            return processed  # all that was due is done, held back for order, or in other relays' hands
    return processed


def _deliver_pass(*, batch: bool, limit: int, now) -> tuple[int, int]:
    """Claim up to `limit` due messages (of the batch handlers, or of the others) with
    `FOR UPDATE SKIP LOCKED`, run their handlers, mark them; one transaction. Returns
    (attempted, handled): a message held back for its key's order is neither."""
    batch_names = _batch_names()
    if batch and not batch_names:
        return 0, 0
    with transaction.atomic():
        ordered = _ordered_names(batch=batch)
        owned = _lock_ordered(ordered)
        due = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            status=OutboxMessage.Status.PENDING, available_at__lte=now or timezone.now())
        if batch:
            due = due.filter(handler__in=sorted(name for name in batch_names if name not in ordered or name in owned))
        else:
            due = due.exclude(handler__in=sorted(batch_names | (set(ordered) - owned)))
        rows = [_Claimed(*row) for row in
                due.order_by("id").values_list("id", "topic", "handler", "payload", "attempts")[:limit]]
        if not rows:
            return 0, 0
        waiting = _waiting_heads(owned, now=now) if owned else {}
        done, failed = [], []
        for name, group in _by_handler(rows).items():
            options = handler_options(name)
            group = [row for row in group if not _behind(row, options, waiting)]
            if batch:
                _run_batch(name, options, group, done, failed, waiting)
            elif group:
                _run_one(group[0], done, failed)
        _mark(done=done, failed=failed)
    return len(done) + len(failed), len(done)


def _by_handler(rows: list[_Claimed]) -> dict[str, list[_Claimed]]:
    groups: dict[str, list[_Claimed]] = {}
    for row in rows:  # in id order, so each group is in commit order per key
        groups.setdefault(row.handler, []).append(row)
    return groups


def _waiting_heads(owned: set[str], *, now) -> dict[tuple[str, str], int]:
    """(handler, key) → the oldest message of that key waiting for a retry: the newer ones of
    that key wait behind it. Normally nothing (the query reads the pending index's future)."""
    heads: dict[tuple[str, str], int] = {}
    waiting = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, handler__in=sorted(owned),
                                           available_at__gt=now or timezone.now())
    for message_id, name, payload in waiting.values_list("id", "handler", "payload"):
        key = (name, handler_options(name).key(payload))
        heads[key] = min(heads.get(key, message_id), message_id)
    return heads


def _behind(row: _Claimed, options: HandlerOptions, waiting: dict[tuple[str, str], int]) -> bool:
    if options.ordered_by is None:
        return False
    head = waiting.get((row.handler, options.key(row.payload)))
    return head is not None and head < row.id


def _run_batch(name: str, options: HandlerOptions, group: list[_Claimed], done: list, failed: list,
               waiting: dict[tuple[str, str], int]) -> None:
    """The handler once for the group, in a savepoint; if it fails, once per message, so only
    the failing messages are retried (and, for an ordered handler, the rest of their key
    waits behind them)."""
    if not group:
        return
    if _resolve(group[0]) is None:
        done_nothing = LookupError(f"No handler {name!r} is registered for {group[0].topic!r}.")
        failed += [(row, done_nothing) for row in group]
        return
    try:
        with transaction.atomic():
            options.batch([row.payload for row in group])
    except Exception:
        logger.warning("outbox batch of %s messages for %s failed; delivering them one by one", len(group), name,
                       exc_info=True)
    else:
        done += group
        return
    for row in group:
        if _behind(row, options, waiting):
            continue
        try:
            with transaction.atomic():
                options.batch([row.payload])
        except Exception as exc:
            failed.append((row, exc))
            if options.ordered_by is not None:
                waiting[(row.handler, options.key(row.payload))] = row.id
        else:
            done.append(row)


def _run_one(row: _Claimed, done: list, failed: list) -> None:
    handler = _resolve(row)
    try:
        if handler is None:
            raise LookupError(f"No handler {row.handler!r} is registered for {row.topic!r}.")
        with transaction.atomic():  # a savepoint: a failing handler leaves no half-write
            handler(row.payload)
    except Exception as exc:
        failed.append((row, exc))
    else:
        done.append(row)


def _resolve(row: _Claimed) -> Handler | None:
    return _handlers.get(row.topic, {}).get(row.handler)


def _mark(*, done: list[_Claimed], failed: list[tuple[_Claimed, Exception]]) -> None:
    """The handled messages in one statement; each failed one is retried with backoff, or
    parked as `failed` after `MAX_ATTEMPTS`."""
    now = timezone.now()
    if done:
        OutboxMessage.objects.filter(id__in=[row.id for row in done]).update(
            status=OutboxMessage.Status.PROCESSED, processed_at=now, attempts=F("attempts") + 1)
    for row, exc in failed:
        attempts = row.attempts + 1
        changes = {"attempts": attempts, "last_error": f"{type(exc).__name__}: {exc}"[:2000]}
        if attempts >= MAX_ATTEMPTS:
            changes["status"] = OutboxMessage.Status.FAILED
            logger.error("outbox message %s parked after %s attempts", row.id, attempts)
        else:
            changes["available_at"] = now + timedelta(seconds=2**attempts)
            logger.warning("outbox message %s failed (attempt %s): %s", row.id, attempts, changes["last_error"],
                           exc_info=exc)
        OutboxMessage.objects.filter(id=row.id).update(**changes)


def outbox_lag(*, now=None) -> dict:
    """What is waiting for delivery: `pending` (the backlog), `oldest_pending_seconds` (how
    long the oldest message not yet tried has waited since it was written: the relays' lag),
    `retrying` (pending after a failed attempt) and `failed` (parked). Two index scans."""
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
    counts = pending.aggregate(pending=Count("id"), retrying=Count("id", filter=Q(attempts__gt=0)))
    oldest = pending.filter(attempts=0).order_by("id").values_list("created_at", flat=True).first()
    return {
        "pending": counts["pending"],
        "oldest_pending_seconds": round(max((now - oldest).total_seconds(), 0.0), 3) if oldest else 0.0,
        "retrying": counts["retrying"],
        "failed": OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).count(),
    }


def outbox_relay(*, poll_seconds: float, stop: threading.Event) -> int:
    """Drain until `stop` is set, every `poll_seconds` (the wait ends early when `stop` is
    set); a drain goes on by itself while batches come back full. The connection goes back
    after each pass, as after a request; a database error (a restart, a killed connection)
    is logged and the next poll tries again. Returns how many messages were processed."""
    processed = 0
    while not stop.is_set():
        try:
            processed += outbox_drain(stop=stop)
        except DatabaseError:
            logger.warning("outbox relay: the database is unavailable; retrying", exc_info=True)
        finally:
            close_old_connections()
        stop.wait(poll_seconds)
    return processed
