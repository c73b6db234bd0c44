"""Live pushes over the Channels layer, and the marketplace throttle.

Everything here runs after a commit (from `transaction.on_commit` or a Celery task) and is
best effort: a push that fails is logged and dropped, because the REST list is the record
and a client that reconnects reads it.

Marketplace throttle (`marketplace_listing_changed`): a burst of trades on one listing must
send at most a few updates a second, latest state wins, and the rule must hold across any
number of processes. State lives in the cache (Redis in production), never in a process:

- `latest:<listing>` holds the newest state and a random token;
- `slot:<listing>` is taken with an atomic SET NX PX for `MARKETPLACE_PUSH_INTERVAL_MS`:
  whoever takes it sends the latest state at once (leading edge);
- an event that finds the slot taken sets `pending:<listing>` (SET NX) and, if it was the
  first to do so, schedules `marketplace_flush_task` for one interval later (trailing
  edge). The flush takes the slot again, clears `pending`, and sends whatever is latest
  then, unless that exact state (token) was already sent.

So each listing sends at most one update per interval, the last state of a burst always goes
out within about one interval, and losing a process loses at most a duplicate, never the
final state (a stuck `pending` expires and the next event schedules a new flush). With
Celery eager (embedded default) the flush runs at once, so there is no delay to throttle.
"""

import asyncio
import logging
import os
import threading
import uuid

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

MARKETPLACE_GROUP = "marketplace"
LISTING_FIELDS = ("listing_id", "offering_id", "units_remaining", "status", "price_per_unit", "best_bid")


def user_group(user_id: int) -> str:
    return f"notifications.user.{user_id}"


def impersonator_group(impersonator_id: int) -> str:
    """The sockets a super admin opened as other users."""
    return f"notifications.impersonator.{impersonator_id}"


def notification_payload(notification) -> dict:
    """The notification as clients see it, over REST and WebSocket alike."""
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
        "is_read": notification.read_at is not None,
    }


PUSH_TIMEOUT_SECONDS = 5.0
_sender: tuple[int, asyncio.AbstractEventLoop] | None = None
_sender_lock = threading.Lock()


def _sender_loop() -> asyncio.AbstractEventLoop:
    """This process's event loop for pushes from sync code, run by a daemon thread and made
    on first use (so after any fork). channels-redis keeps its connections per event loop:
    `async_to_sync` made a new loop, and new connections, for every push (the cost of each
    is in docs/benchmarks.md, "Marketplace buy")."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-push", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


def _group_send(group: str, message: dict) -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        if isinstance(layer, InMemoryChannelLayer):  # its queues belong to the consumers' own loop
            async_to_sync(layer.group_send)(group, message)
        else:
            sent = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _sender_loop())
            try:
                sent.result(timeout=PUSH_TIMEOUT_SECONDS)
            except TimeoutError:
                sent.cancel()
                raise
    except Exception:
        logger.warning("live push to %s failed; clients will catch up over REST", group, exc_info=True)
        return False
    return True


def push_notification(*, user_id: int, notification: dict, unread_count: int) -> bool:
    return _group_send(
        user_group(user_id),
        {"type": "notification.created", "notification": notification, "unread_count": unread_count},
    )


def push_unread_count(*, user_id: int, unread_count: int) -> bool:
    return _group_send(user_group(user_id), {"type": "unread.count", "unread_count": unread_count})


def push_session_recheck(*, user_id: int) -> None:
    """The user's role or active flag changed: their sockets, and those they opened as someone
    else, check again whether they may stay open."""
    for group in (user_group(user_id), impersonator_group(user_id)):
        _group_send(group, {"type": "session.recheck"})


# --- Marketplace --------------------------------------------------------------------------

def _interval() -> float:
    return settings.MARKETPLACE_PUSH_INTERVAL_MS / 1000


def _key(name: str, listing_id) -> str:
    return f"notifications:marketplace:{name}:{listing_id}"


def marketplace_listing_changed(*, listing: dict) -> None:
    """Record a listing's new state and push it now or within one interval (see above).
    A field the event leaves out (trading does not know the best bid) keeps its last value."""
    previous = (cache.get(_key("latest", listing.get("listing_id"))) or {}).get("listing", {})
    listing = {field: listing[field] if field in listing else previous.get(field) for field in LISTING_FIELDS}
    listing_id = listing["listing_id"]
    interval = _interval()
    cache.set(_key("latest", listing_id), {"token": uuid.uuid4().hex, "listing": listing}, timeout=3600)
    if cache.add(_key("slot", listing_id), 1, timeout=interval):
        _send_latest(listing_id)
    elif cache.add(_key("pending", listing_id), 1, timeout=max(2.0, 4 * interval)):
        from notifications.tasks import marketplace_flush_task

        try:
            marketplace_flush_task.apply_async(args=(listing_id,), countdown=interval)
        except Exception:  # the next event on this listing schedules a flush again
            cache.delete(_key("pending", listing_id))
            logger.warning("could not schedule the marketplace flush for listing %s", listing_id, exc_info=True)


def marketplace_flush(*, listing_id) -> bool:
    """Trailing edge: send the latest state unless it has gone out already."""
    cache.set(_key("slot", listing_id), 1, timeout=_interval())
    cache.delete(_key("pending", listing_id))
    return _send_latest(listing_id)


def _send_latest(listing_id) -> bool:
    latest = cache.get(_key("latest", listing_id))
    if latest is None or cache.get(_key("sent", listing_id)) == latest["token"]:
        return False
    cache.set(_key("sent", listing_id), latest["token"], timeout=3600)
    return _group_send(MARKETPLACE_GROUP, {"type": "listing.changed", "listing": latest["listing"]})
