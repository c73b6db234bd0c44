"""The marketplace throttle (notifications/live.py): per listing, the first change of a
burst goes out at once, the rest collapse into one trailing update with the latest state.
The delayed flush is a Celery task with a countdown; here its scheduling is recorded and
the flush is run by hand, as the worker would one interval later."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache

from notifications import live
from notifications.tasks import marketplace_flush_task


def _listing(listing_id: int, units: int) -> dict:
    return {"listing_id": listing_id, "offering_id": 2, "units_remaining": units, "status": "open",
            "price_per_unit": "1000.00", "best_bid": None}


@pytest.fixture
def scheduled(monkeypatch):
    calls = []
    monkeypatch.setattr(marketplace_flush_task, "apply_async",
                        lambda args, countdown: calls.append((tuple(args), countdown)))
    return calls


async def _watch():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(live.MARKETPLACE_GROUP, channel)
    return layer, channel


async def _received(layer, channel, timeout=0.2) -> list[int]:
    units = []
    while True:
        try:
            message = await asyncio.wait_for(layer.receive(channel), timeout)
        except TimeoutError:
            return units
        assert message["type"] == "listing.changed"
        units.append((message["listing"]["listing_id"], message["listing"]["units_remaining"]))


def test_a_burst_sends_the_first_at_once_and_only_the_latest_after(settings, scheduled):
    settings.MARKETPLACE_PUSH_INTERVAL_MS = 5000  # long enough that the burst surely fits in one interval

    async def scenario():
        layer, channel = await _watch()
        for units in range(100, 80, -1):
            await sync_to_async(live.marketplace_listing_changed)(listing=_listing(1, units))
        assert await _received(layer, channel) == [(1, 100)]
        assert scheduled == [((1,), 5.0)]  # one flush for the whole burst

        assert await sync_to_async(live.marketplace_flush)(listing_id=1) is True
        assert await _received(layer, channel) == [(1, 81)]
        # Nothing newer since: a second flush (a duplicate task) sends nothing.
        assert await sync_to_async(live.marketplace_flush)(listing_id=1) is False
        assert await _received(layer, channel) == []

    async_to_sync(scenario)()


def test_listings_are_throttled_independently(settings, scheduled):
    settings.MARKETPLACE_PUSH_INTERVAL_MS = 5000

    async def scenario():
        layer, channel = await _watch()
        for units in (10, 9, 8):
            for listing_id in (1, 2):
                await sync_to_async(live.marketplace_listing_changed)(listing=_listing(listing_id, units))
        assert sorted(await _received(layer, channel)) == [(1, 10), (2, 10)]
        assert sorted(scheduled) == [((1,), 5.0), ((2,), 5.0)]

    async_to_sync(scenario)()


def test_the_slot_is_shared_through_the_cache_not_the_process(settings, scheduled):
    """Another process holding the listing's slot (a key in Redis) defers this one's send."""
    settings.MARKETPLACE_PUSH_INTERVAL_MS = 5000
    cache.add("notifications:marketplace:slot:3", 1, timeout=5)

    async def scenario():
        layer, channel = await _watch()
        await sync_to_async(live.marketplace_listing_changed)(listing=_listing(3, 7))
        assert await _received(layer, channel) == []
        assert scheduled == [((3,), 5.0)]

    async_to_sync(scenario)()


def test_after_a_quiet_interval_a_change_goes_out_at_once(settings, scheduled):
    settings.MARKETPLACE_PUSH_INTERVAL_MS = 100

    async def scenario():
        layer, channel = await _watch()
        await sync_to_async(live.marketplace_listing_changed)(listing=_listing(4, 50))
        await asyncio.sleep(0.25)
        await sync_to_async(live.marketplace_listing_changed)(listing=_listing(4, 49))
        assert await _received(layer, channel) == [(4, 50), (4, 49)]
        assert scheduled == []

    async_to_sync(scenario)()


class _HangingLayer:
    """A channel layer whose Redis never answers."""

    async def group_send(self, group, message):
        await asyncio.sleep(30)


def test_a_push_that_hangs_is_dropped_after_the_timeout_and_the_next_one_still_goes(monkeypatch):
    import time

    monkeypatch.setattr(live, "get_channel_layer", lambda: _HangingLayer())
    monkeypatch.setattr(live, "PUSH_TIMEOUT_SECONDS", 0.2)
    started = time.monotonic()
    assert live._group_send("marketplace", {"type": "listing.changed"}) is False
    assert time.monotonic() - started < 5

    sent = []

    class _Layer:
        async def group_send(self, group, message):
            sent.append((group, message["type"]))

    monkeypatch.setattr(live, "get_channel_layer", lambda: _Layer())
    assert live._group_send("marketplace", {"type": "listing.changed"}) is True  # the loop is still usable
    assert sent == [("marketplace", "listing.changed")]


def test_a_batch_of_changes_sends_each_listing_once_with_its_latest_state(settings, scheduled):
    """The outbox hands the handler a batch in commit order: one state per listing goes out
    (as one channel-layer message), the newest, with the fields later events left out kept."""
    from notifications.handlers import on_listing_changed

    settings.MARKETPLACE_PUSH_INTERVAL_MS = 5000
    payloads = [_listing(7, units) for units in range(50, 40, -1)] + [_listing(8, 5), _listing(8, 4)]
    payloads.append({"listing_id": 7, "offering_id": 2, "units_remaining": 40, "status": "open",
                     "price_per_unit": "1000", "best_bid": "990"})
    payloads.append({"listing_id": 7, "offering_id": 2, "units_remaining": 39, "status": "open",
                     "price_per_unit": "1000"})  # trading's events carry no best bid

    async def scenario():
        layer, channel = await _watch()
        await sync_to_async(on_listing_changed)(payloads)
        message = await asyncio.wait_for(layer.receive(channel), 1)
        assert message["type"] == "listings.changed"
        assert {listing["listing_id"]: (listing["units_remaining"], listing["best_bid"])
                for listing in message["listings"]} == {7: (39, "990.00"), 8: (4, None)}
        assert await _received(layer, channel) == []
        assert scheduled == []

        await sync_to_async(on_listing_changed)([_listing(7, 38)])  # inside the interval: held back
        assert await _received(layer, channel) == []
        assert scheduled == [((7,), 5.0)]

    async_to_sync(scenario)()
