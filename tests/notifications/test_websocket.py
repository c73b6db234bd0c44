"""WebSocket behaviour through the real ASGI application (routing, origin check, JWT
middleware, consumers) with Channels' WebsocketCommunicator. pytest-asyncio is not used:
each test runs its scenario with `async_to_sync`."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

import config.settings as project_settings
from accounts.enums import Role
from accounts.models import User
from accounts.services import impersonation_start, token_for_user, user_update_by_staff
from config.asgi import application
from core.audit import AuditEvent
from notifications.services import notification_mark_all_read
from tests.accounts.factories import UserFactory
from tests.notifications.conftest import publish
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]


def access_for(user) -> str:
    return str(token_for_user(user).access_token)


def run(scenario):
    async_to_sync(scenario)()


async def open_socket(path: str, *, token: str | None = None, subprotocols=None) -> WebsocketCommunicator:
    url = f"{path}?token={token}" if token else path
    socket = WebsocketCommunicator(application, url, headers=ORIGIN, subprotocols=subprotocols)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    return socket


async def expect_closed(socket: WebsocketCommunicator, code: int) -> None:
    message = await socket.receive_output(timeout=5)
    assert message == {"type": "websocket.close", "code": code}


def _expired(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-5))
    return str(token)


@pytest.mark.parametrize("token_for", [
    lambda user: None,
    lambda user: "not-a-jwt",
    _expired,
    lambda user: str(token_for_user(user)),  # a refresh token is not an access token
    lambda user: access_for(user)[:-4] + "AAAA",  # tampered signature
], ids=["missing", "garbage", "expired", "refresh-token", "tampered"])
def test_notifications_socket_refuses_a_bad_token_with_4401(token_for):
    token = token_for(UserFactory())

    async def scenario():
        socket = await open_socket("/ws/notifications/", token=token)
        await expect_closed(socket, 4401)

    run(scenario)


def test_a_deactivated_user_is_refused():
    user = UserFactory()
    token = access_for(user)
    user.is_active = False
    user.save()

    async def scenario():
        await expect_closed(await open_socket("/ws/notifications/", token=token), 4401)

    run(scenario)


def test_connect_with_query_token_sends_the_unread_count():
    user = UserFactory()
    NotificationFactory.create_batch(2, user=user)
    NotificationFactory()  # someone else's
    token = access_for(user)

    async def scenario():
        socket = await open_socket("/ws/notifications/", token=token)
        assert await socket.receive_json_from(timeout=5) == {"type": "unread_count", "unread_count": 2}
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
        await socket.disconnect()

    run(scenario)


def test_token_in_the_subprotocol_header_is_accepted_without_echoing_it():
    token = access_for(UserFactory())

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/notifications/", headers=ORIGIN,
                                       subprotocols=["bearer", token])
        connected, subprotocol = await socket.connect(timeout=5)
        assert (connected, subprotocol) == (True, "bearer")
        assert await socket.receive_json_from(timeout=5) == {"type": "unread_count", "unread_count": 0}
        await socket.disconnect()

    run(scenario)


def test_each_user_gets_only_their_own_notifications():
    alice, bob = UserFactory(), UserFactory()
    alice_token, bob_token = access_for(alice), access_for(bob)

    async def scenario():
        alice_socket = await open_socket("/ws/notifications/", token=alice_token)
        bob_socket = await open_socket("/ws/notifications/", token=bob_token)
        await alice_socket.receive_json_from(timeout=5)
        await bob_socket.receive_json_from(timeout=5)

        await database_sync_to_async(publish)(
            "deposit.credited", {"user_id": bob.id, "deposit_id": 5, "amount": "100.00"})

        pushed = await bob_socket.receive_json_from(timeout=5)
        assert pushed["type"] == "notification"
        assert pushed["unread_count"] == 1
        assert (pushed["notification"]["kind"], pushed["notification"]["data"]) == (
            "deposit_credited", {"deposit_id": 5, "amount": "100.00"})
        assert await alice_socket.receive_nothing(timeout=0.3)
        await alice_socket.disconnect()
        await bob_socket.disconnect()

    run(scenario)


def test_a_trade_reaches_both_parties_live_and_in_their_lists(api_client):
    buyer, seller = UserFactory(), UserFactory()
    buyer_token, seller_token = access_for(buyer), access_for(seller)
    trade = {"trade_id": 77, "listing_id": 5, "offering_id": 2, "buyer_id": buyer.id, "seller_id": seller.id,
             "units": 10, "price_per_unit": "1000.00", "amount": "10000.00"}

    async def scenario():
        sockets = {"buy": await open_socket("/ws/notifications/", token=buyer_token),
                   "sell": await open_socket("/ws/notifications/", token=seller_token)}
        for socket in sockets.values():
            await socket.receive_json_from(timeout=5)
        await database_sync_to_async(publish)("trade.executed", trade)
        for side, socket in sockets.items():
            pushed = await socket.receive_json_from(timeout=5)
            assert pushed["notification"]["data"]["side"] == side
            assert pushed["notification"]["data"]["trade_id"] == 77
            await socket.disconnect()

    run(scenario)
    for user, title in ((buyer, "Units bought"), (seller, "Units sold")):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_for(user)}")
        assert [item["title"] for item in api_client.get("/api/v1/notifications/").json()["results"]] == [title]


def test_marking_read_elsewhere_updates_the_count_on_every_socket():
    user = UserFactory()
    NotificationFactory.create_batch(2, user=user)
    token = access_for(user)

    async def scenario():
        phone = await open_socket("/ws/notifications/", token=token)
        laptop = await open_socket("/ws/notifications/", token=token)
        for socket in (phone, laptop):
            assert (await socket.receive_json_from(timeout=5))["unread_count"] == 2
        await database_sync_to_async(notification_mark_all_read)(user=user)
        for socket in (phone, laptop):
            assert await socket.receive_json_from(timeout=5) == {"type": "unread_count", "unread_count": 0}
            await socket.disconnect()

    run(scenario)


def test_the_socket_closes_with_4401_when_the_token_expires():
    token = AccessToken.for_user(UserFactory())
    # A token's exp is whole seconds (truncated), so a 1 s lifetime could leave a few
    # milliseconds and the connect itself be refused; 3 s leaves more than 2 s connected.
    token.set_exp(lifetime=timedelta(seconds=3))
    raw = str(token)

    async def scenario():
        socket = await open_socket("/ws/notifications/", token=raw)
        assert (await socket.receive_json_from(timeout=5))["type"] == "unread_count"
        await expect_closed(socket, 4401)

    run(scenario)


def test_a_marketplace_update_reaches_an_anonymous_watcher():
    async def scenario():
        watcher = await open_socket("/ws/marketplace/")
        await database_sync_to_async(publish)("listing.changed", {
            "listing_id": 5, "offering_id": 2, "units_remaining": 90, "status": "open",
            "price_per_unit": "1000", "best_bid": None})
        assert await watcher.receive_json_from(timeout=5) == {"type": "listing", "listing": {
            "listing_id": 5, "offering_id": 2, "units_remaining": 90, "status": "open",
            "price_per_unit": "1000.00", "best_bid": None}}
        await watcher.disconnect()

    run(scenario)


def test_notifications_flow_through_channels_redis(settings):
    """The production layer: channels-redis against the real Redis of this test run."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {**project_settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": "tranche-test-notifications"},
    }}
    user = UserFactory()
    token = access_for(user)

    async def scenario():
        socket = await open_socket("/ws/notifications/", token=token)
        watcher = await open_socket("/ws/marketplace/")
        await socket.receive_json_from(timeout=5)
        await database_sync_to_async(publish)(
            "withdrawal.paid", {"user_id": user.id, "withdrawal_id": 3, "amount": "250.00"})
        pushed = await socket.receive_json_from(timeout=5)
        assert (pushed["notification"]["kind"], pushed["unread_count"]) == ("withdrawal_paid", 1)
        await database_sync_to_async(publish)("listing.changed", {
            "listing_id": 6, "offering_id": 2, "units_remaining": 1, "status": "open",
            "price_per_unit": "10.00", "best_bid": "9.50"})
        assert (await watcher.receive_json_from(timeout=5))["listing"]["best_bid"] == "9.50"
        await socket.disconnect()
        await watcher.disconnect()
        await asyncio.sleep(0)

    run(scenario)


def test_an_idle_redis_consumer_outlives_the_layer_blocking_read():
    """channels-redis blocks 5 s in BZPOPMIN; a socket timeout no longer than that kills every
    idle consumer (and its WebSocket) with a redis TimeoutError."""
    from channels_redis.core import RedisChannelLayer
    from channels_redis.utils import create_pool, decode_hosts

    layer_settings = project_settings.CHANNEL_LAYERS["default"]
    if layer_settings["BACKEND"] != "channels_redis.core.RedisChannelLayer":
        pytest.skip("the project runs the in-memory layer without REDIS_URL")
    pool = create_pool(decode_hosts(layer_settings["CONFIG"]["hosts"])[0])
    socket_timeout = pool.make_connection().socket_timeout  # what a connection really uses
    assert socket_timeout is None or socket_timeout > RedisChannelLayer.brpop_timeout


# --- impersonation: the same checks as over HTTP, and the connect audited ----------------------

def _impersonation(user=None):
    super_admin = UserFactory(role=Role.SUPER_ADMIN, is_staff=True)
    user = user or UserFactory()
    return super_admin, user, impersonation_start(actor=super_admin, user_id=user.pk, reason="support call").access


def test_an_impersonation_socket_acts_as_the_user_and_its_connect_is_audited():
    super_admin, user, token = _impersonation()
    NotificationFactory(user=user)

    async def scenario():
        socket = await open_socket("/ws/notifications/", token=token)
        # Theirs, and the "Support is viewing your account" notice the impersonation sent them.
        assert await socket.receive_json_from(timeout=5) == {"type": "unread_count", "unread_count": 2}
        await socket.disconnect()

    run(scenario)
    event = AuditEvent.objects.get(action="impersonation.request")
    assert (event.actor_id, event.impersonator_id, event.data) == (
        user.pk, super_admin.pk, {"method": "WEBSOCKET", "path": "/ws/notifications/"})


@pytest.mark.parametrize("revoke", [
    lambda super_admin: User.objects.filter(pk=super_admin.pk).update(role=Role.ADMIN),
    lambda super_admin: User.objects.filter(pk=super_admin.pk).update(is_active=False),
], ids=["no-longer-super-admin", "deactivated"])
def test_an_impersonation_socket_is_refused_once_the_impersonator_is_revoked(revoke):
    super_admin, _user, token = _impersonation()
    revoke(super_admin)

    async def scenario():
        await expect_closed(await open_socket("/ws/notifications/", token=token), 4401)

    run(scenario)
    assert not AuditEvent.objects.filter(action="impersonation.request").exists()


def test_an_impersonation_socket_for_a_user_made_staff_since_is_refused():
    _super_admin, user, token = _impersonation()
    User.objects.filter(pk=user.pk).update(role=Role.VERIFIER, is_staff=True)

    async def scenario():
        await expect_closed(await open_socket("/ws/notifications/", token=token), 4401)

    run(scenario)


# --- a staff change re-checks the sockets already open ------------------------------------------

def test_deactivating_a_user_closes_their_open_socket():
    admin = UserFactory(role=Role.ADMIN, is_staff=True)
    user = UserFactory()
    token = access_for(user)

    async def scenario():
        socket = await open_socket("/ws/notifications/", token=token)
        assert (await socket.receive_json_from(timeout=5))["type"] == "unread_count"
        await database_sync_to_async(user_update_by_staff)(actor=admin, user_id=user.pk, is_active=False)
        await expect_closed(socket, 4401)

    run(scenario)


def test_demoting_the_impersonator_closes_the_impersonated_socket_and_not_the_users_own():
    super_admin, user, impersonated_token = _impersonation()
    other_super_admin = UserFactory(role=Role.SUPER_ADMIN, is_staff=True)
    own_token = access_for(user)

    async def scenario():
        impersonated = await open_socket("/ws/notifications/", token=impersonated_token)
        own = await open_socket("/ws/notifications/", token=own_token)
        for socket in (impersonated, own):
            assert (await socket.receive_json_from(timeout=5))["type"] == "unread_count"
        await database_sync_to_async(user_update_by_staff)(actor=other_super_admin, user_id=super_admin.pk,
                                                           role=Role.ADMIN)
        await expect_closed(impersonated, 4401)
        # The user's own socket re-checked too (the same user group) and stays open.
        await own.send_json_to({"type": "ping"})
        assert await own.receive_json_from(timeout=5) == {"type": "pong"}
        await own.disconnect()

    run(scenario)
