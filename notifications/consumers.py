"""WebSocket consumers (served by the `ws` process).

`/ws/notifications/` — the signed-in user's notifications as they are created, and their
unread count (sent on connect and whenever it changes). One group per user, so every open
device gets each push. The connection is closed with 4401 at connect when the token is
missing, bad or expired, and again when the token expires while connected, or when a staff
change to the user (or to the super admin impersonating them) means a new connect would be
refused (`user.access_changed`, then `session_recheck`).

`/ws/marketplace/` — anyone may watch; listing changes arrive throttled (see live.py).

Server → client messages: `{"type": "notification", "notification": {...}, "unread_count": n}`,
`{"type": "unread_count", "unread_count": n}`, `{"type": "listing", "listing": {...}}`.
A client may send `{"type": "ping"}` and gets `{"type": "pong"}`.
"""

import asyncio
import json
import time
import weakref

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.authentication import session_still_admitted
from notifications import live
from notifications.selectors import notification_unread_count
from notifications.ws_auth import BEARER_SUBPROTOCOL, WS_UNAUTHORIZED


class PingMixin:
    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})


class NotificationConsumer(PingMixin, AsyncJsonWebsocketConsumer):
    group = None
    impersonator_group = None
    expiry_task = None

    async def connect(self):
        # Accept with the subprotocol the client offered (a browser drops a connection whose
        # answer lacks it), then close with a code the client can act on.
        subprotocol = BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in self.scope.get("subprotocols", []) else None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept(subprotocol)
            await self.close(code=WS_UNAUTHORIZED)
            return
        self.group = live.user_group(user.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        impersonator_id = self.scope.get("impersonator_id")
        if impersonator_id is not None:
            self.impersonator_group = live.impersonator_group(impersonator_id)
            await self.channel_layer.group_add(self.impersonator_group, self.channel_name)
        await self.accept(subprotocol)
        expires_at = self.scope.get("auth_token_expires_at")
        if expires_at:
            self.expiry_task = asyncio.ensure_future(self._close_at(expires_at))
        count = await database_sync_to_async(notification_unread_count)(user_id=user.id)
        await self.send_json({"type": "unread_count", "unread_count": count})

    async def _close_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(code=WS_UNAUTHORIZED)

    async def disconnect(self, code):
        if self.expiry_task is not None:
            self.expiry_task.cancel()
        for group in (self.group, self.impersonator_group):
            if group is not None:
                await self.channel_layer.group_discard(group, self.channel_name)

    async def session_recheck(self, event):
        """The user's (or the impersonator's) role or active flag changed: stay open only if
        a new connect would still be admitted."""
        admitted = await database_sync_to_async(session_still_admitted)(
            user_id=self.scope["user"].id, impersonator_id=self.scope.get("impersonator_id"))
        if not admitted:
            await self.close(code=WS_UNAUTHORIZED)

    async def notification_created(self, event):
        await self.send_json(
            {"type": "notification", "notification": event["notification"], "unread_count": event["unread_count"]}
        )

    async def unread_count(self, event):
        await self.send_json({"type": "unread_count", "unread_count": event["unread_count"]})


class MarketplaceHub:
    """One channel-layer subscription per process (per event loop), fanned out locally.

    Joining the layer group once per consumer would make every listing change cost one
    Redis message per watcher (1,000 watchers: 1,000 pushes, pops and decodes). Instead the
    process's hub is the group's only member from this process: one message per process,
    serialised once, written to each local socket. Nothing here decides what is sent (the
    throttle lives in Redis, see live.py), so any number of `ws` processes is safe."""

    REFRESH_SECONDS = 3600  # group membership expires (channels' group_expiry, a day)

    def __init__(self):
        self.watchers: set[AsyncJsonWebsocketConsumer] = set()
        self.task: asyncio.Task | None = None
        self.subscribed = asyncio.Event()

    async def subscribe(self, layer) -> None:
        """Returns once this process is in the group, so a watcher added next misses nothing."""
        if self.task is None or self.task.done():
            self.subscribed.clear()
            self.task = asyncio.ensure_future(self._run(layer))
        await self.subscribed.wait()

    def join(self, consumer) -> None:
        self.watchers.add(consumer)

    def leave(self, consumer) -> None:
        self.watchers.discard(consumer)

    async def _run(self, layer) -> None:
        channel = await layer.new_channel()
        joined_at = None
        while True:
            if joined_at is None or time.monotonic() - joined_at > self.REFRESH_SECONDS:
                await layer.group_add(live.MARKETPLACE_GROUP, channel)
                joined_at = time.monotonic()
                self.subscribed.set()
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=60)
            except TimeoutError:
                continue
            for listing in message.get("listings") or [message["listing"]]:  # live.py sends one or several
                text = json.dumps({"type": "listing", "listing": listing})
                for consumer in list(self.watchers):
                    try:
                        await consumer.send(text_data=text)
                    except Exception:  # a socket that is going away; its disconnect removes it
                        self.watchers.discard(consumer)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MarketplaceHub]" = weakref.WeakKeyDictionary()


def marketplace_hub() -> MarketplaceHub:
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = MarketplaceHub()
    return _hubs[loop]


class MarketplaceConsumer(PingMixin, AsyncJsonWebsocketConsumer):
    async def connect(self):
        hub = marketplace_hub()
        await hub.subscribe(self.channel_layer)
        await self.accept()
        hub.join(self)

    async def disconnect(self, code):
        marketplace_hub().leave(self)
