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
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

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
    return _group_send_many([(group, message)]) == 1


def _group_send_many(sends: list[tuple[str, dict]]) -> int:
    """Send each (group, message), in one hand-over to the sender loop; returns how many went
    out. Groups are sent to side by side (their round trips overlap), each group's messages
    in the order given. A failed send is logged and the rest still go."""
    layer = get_channel_layer()
    if layer is None or not sends:
        return 0
    by_group: dict[str, list[dict]] = {}
    for group, message in sends:
        by_group.setdefault(group, []).append(message)

    async def send_in_order(group: str, messages: list[dict]) -> int:
        sent = 0
        for message in messages:
            try:
                await layer.group_send(group, message)
            except Exception:
                logger.warning("live push to %s failed; clients will catch up over REST", group, exc_info=True)
            else:
                sent += 1
        return sent

    async def send_all() -> int:
        listened = await _groups_with_members(layer, list(by_group))
        return sum(await asyncio.gather(*(send_in_order(group, messages) for group, messages in by_group.items()
                                          if group in listened)))

    try:
        if isinstance(layer, InMemoryChannelLayer):  # its queues belong to the consumers' own loop
            return async_to_sync(send_all)()
        future = asyncio.run_coroutine_threadsafe(send_all(), _sender_loop())
        try:
            return future.result(timeout=PUSH_TIMEOUT_SECONDS * max(len(messages) for messages in by_group.values()))
        except TimeoutError:
            future.cancel()
            raise
    except Exception:
        logger.warning("live pushes (%s) failed; clients will catch up over REST", len(sends), exc_info=True)
        return 0


async def _groups_with_members(layer, groups: list[str]) -> set[str]:
    """The groups someone listens to. On channels-redis, one pipelined ZCARD per Redis
    connection for all of them: most users have no socket open when their trade settles, and
    `group_send` to an empty group still costs two round trips (measured: 0.45 ms of CPU a
    push, bench/outbox.py). Other layers: all of them. Uses channels-redis's group key
    (`_group_key`, pinned version; tests/notifications cover a push reaching a socket)."""
    if not isinstance(layer, RedisChannelLayer):
        return set(groups)
    by_connection: dict[int, list[str]] = {}
    for group in groups:
        by_connection.setdefault(layer.consistent_hash(group), []).append(group)
    found = set()
    for index, names in by_connection.items():
        pipeline = layer.connection(index).pipeline(transaction=False)
        for name in names:
            pipeline.zcard(layer._group_key(name))
        found |= {name for name, members in zip(names, await pipeline.execute(), strict=True) if members}
    return found


def users_listening(*, user_ids) -> set[int]:
    """The users among `user_ids` with a notifications socket open (all of them on layers other
    than channels-redis), in one hand-over and one pipelined round trip."""
    user_ids = list(user_ids)
    layer = get_channel_layer()
    if not user_ids or layer is None:
        return set()
    if not isinstance(layer, RedisChannelLayer):
        return set(user_ids)
    groups = {user_group(user_id): user_id for user_id in user_ids}
    try:
        future = asyncio.run_coroutine_threadsafe(_groups_with_members(layer, list(groups)), _sender_loop())
        return {groups[group] for group in future.result(timeout=PUSH_TIMEOUT_SECONDS)}
    except Exception:
        logger.warning("could not tell who is listening; pushing to everyone", exc_info=True)
        return set(user_ids)


def push_notification(*, user_id: int, notification: dict, unread_count: int) -> bool:
    return push_notifications(pushes=[(user_id, notification, unread_count)]) == 1


def push_notifications(*, pushes: list[tuple[int, dict, int]]) -> int:
    """(user id, notification, unread count) each to the user's sockets, in one hand-over."""
    return _group_send_many([
        (user_group(user_id), {"type": "notification.created", "notification": notification,
                               "unread_count": unread_count})
        for user_id, notification, unread_count in pushes
    ])


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
    marketplace_listings_changed(listings=[listing])


def marketplace_listings_changed(*, listings: list[dict]) -> None:
    """Several changes at once, in commit order (the outbox handler's batch): the latest state
    of each listing is recorded now, in a few cache round trips for the whole batch, and
    whatever is due goes out after the caller's transaction commits (at once outside one).

    The states are recorded in the caller's transaction, not after it, because the outbox
    delivers a listing's changes in commit order one relay at a time only until it commits:
    recorded under that order, `latest` is always the newest state, and a push, which reads
    `latest` when it goes out, never sends an older one after a newer one."""
    if not listings:
        return
    latest_keys = {listing.get("listing_id"): _key("latest", listing.get("listing_id")) for listing in listings}
    previous = cache.get_many(list(latest_keys.values()))
    states: dict = {}
    for listing in listings:  # later wins; a field left out keeps the value before it
        listing_id = listing.get("listing_id")
        before = states.get(listing_id) or (previous.get(latest_keys[listing_id]) or {}).get("listing", {})
        states[listing_id] = {field: listing[field] if field in listing else before.get(field)
                              for field in LISTING_FIELDS}
    cache.set_many({latest_keys[listing_id]: {"token": uuid.uuid4().hex, "listing": state}
                    for listing_id, state in states.items()}, timeout=3600)
    interval = _interval()
    taken = _add_many([_key("slot", listing_id) for listing_id in states], timeout=interval)
    now = [listing_id for listing_id in states if _key("slot", listing_id) in taken]
    later = [listing_id for listing_id in states if listing_id not in now]
    flagged = _add_many([_key("pending", listing_id) for listing_id in later], timeout=max(2.0, 4 * interval))
    flush = [listing_id for listing_id in later if _key("pending", listing_id) in flagged]
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _push_or_schedule(now=now, flush=flush), robust=True)
    else:
        _push_or_schedule(now=now, flush=flush)


def _push_or_schedule(*, now: list, flush: list) -> None:
    _send_latest_many(now)
    from notifications.tasks import marketplace_flush_task

    for listing_id in flush:
        try:
            marketplace_flush_task.apply_async(args=(listing_id,), countdown=_interval())
        except Exception:  # the next event on this listing schedules a flush again
            cache.delete(_key("pending", listing_id))
            logger.warning("could not schedule the marketplace flush for listing %s", listing_id, exc_info=True)


def _add_many(keys: list[str], *, timeout: float) -> set[str]:
    """`cache.add` for each key; the ones added. On Redis one pipeline of `SET NX PX`."""
    if not keys:
        return set()
    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "get_client"):  # not django-redis: one at a time
        return {key for key in keys if cache.add(key, 1, timeout=timeout)}
    pipeline = client.get_client(write=True).pipeline(transaction=False)
    for key in keys:
        pipeline.set(cache.make_and_validate_key(key), 1, nx=True, px=max(int(timeout * 1000), 1))
    return {key for key, added in zip(keys, pipeline.execute(), strict=True) if added}


def marketplace_flush(*, listing_id) -> bool:
    """Trailing edge: send the latest state unless it has gone out already."""
    cache.set(_key("slot", listing_id), 1, timeout=_interval())
    cache.delete(_key("pending", listing_id))
    return _send_latest_many([listing_id]) == 1


def _send_latest_many(listing_ids: list) -> int:
    """Each listing's latest state, unless that exact state (its token) went out already."""
    if not listing_ids:
        return 0
    keys = {listing_id: (_key("latest", listing_id), _key("sent", listing_id)) for listing_id in listing_ids}
    found = cache.get_many([key for pair in keys.values() for key in pair])
    due = {listing_id: found[latest] for listing_id, (latest, sent) in keys.items()
           if latest in found and found.get(sent) != found[latest]["token"]}
    if not due:
        return 0
    cache.set_many({keys[listing_id][1]: latest["token"] for listing_id, latest in due.items()}, timeout=3600)
    states = [latest["listing"] for latest in due.values()]
    # Several listings travel as one channel-layer message; each `ws` process's hub still
    # writes one frame per listing to its sockets.
    message = ({"type": "listing.changed", "listing": states[0]} if len(states) == 1
               else {"type": "listings.changed", "listings": states})
    return len(states) if _group_send_many([(MARKETPLACE_GROUP, message)]) else 0
