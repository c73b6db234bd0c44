# Money and units both balance after every bidding test: the trading fixture, re-exported.
import pytest

from core import outbox

BID_TOPICS = ("bid.placed", "bid.modified", "bid.accepted", "bid.rejected", "bid.expired", "bid.withdrawn",
              "bid.closed", "listing.changed")


@pytest.fixture(autouse=True)
def outbox_listener():
    """An outbox message is written only for topics someone handles, and nobody handles
    `bid.modified` or `bid.withdrawn` yet: listen to every bid topic, so tests see what the
    services publish, and stop listening afterwards."""

    def listen(payload: dict) -> None:
        pass

    for topic in BID_TOPICS:
        outbox.outbox_handler(topic)(listen)
    yield
    name = f"{listen.__module__}.{listen.__qualname__}"
    for topic in BID_TOPICS:
        outbox._handlers.get(topic, {}).pop(name, None)
