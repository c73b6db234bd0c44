"""The fill's rules, written once in Python: what may be bought, what it costs, what is
announced. The ORM path (`orm.py`) applies them directly; the database function
(`settle.sql`) applies the same arithmetic in SQL, and on a refusal hands the listing back
to `check_fill`, so each rule is worded here only. A test runs both writers over random
fills and compares rows and outbox payloads (tests/trading/test_settlement_writers.py).

Rounding: amounts are `round(price × units, 2)`, fees `round(amount × bps / 10000, 2)`,
both half up (PostgreSQL's numeric `round` is half away from zero, the same for these
positive amounts). The seller's cost of the units sold is their average cost, all of it
when the holding is sold out, so the last unit carries the rest of the cost exactly.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.money import ZERO, to_money
from core.outbox import outbox_publish, outbox_publish_many
from trading.enums import ListingKind, ListingStatus, OfferingStatus
from trading.errors import BelowMinimumUnits, InsufficientUnits, ListingClosed, OfferingNotTradable, SelfTrade
from trading.models import Listing, Trade

TRADABLE = (OfferingStatus.POSTED, OfferingStatus.SOLD_OUT)
BUY_ENTRY_KIND, BID_ENTRY_KIND = "trade.buy", "trade.bid"
TRADE_TOPIC, LISTING_CLOSED_TOPIC, LISTING_CHANGED_TOPIC = "trade.executed", "listing.closed", "listing.changed"


@dataclass(frozen=True)
class Fill:
    """What a settlement moved, for callers that need more than the trade row."""

    trade: Trade
    listing: Listing


def fee_for(amount: Decimal, bps: int) -> Decimal:
    """Fee in paise on `amount` at `bps` basis points, rounded half up."""
    if not bps:
        return ZERO
    return (amount * Decimal(bps) / Decimal(10000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FillFigures:
    amount: Decimal
    buyer_fee: Decimal
    seller_fee: Decimal


def fill_figures(*, listing_kind: str, price_per_unit: Decimal, units: int, buyer_fee_bps: int,
                 seller_fee_bps: int) -> FillFigures:
    """What the buyer pays (amount + buyer fee) and the seller's fee (secondary sales only)."""
    amount = to_money(price_per_unit * units)
    seller_fee = fee_for(amount, seller_fee_bps) if listing_kind == ListingKind.SECONDARY else ZERO
    return FillFigures(amount=amount, buyer_fee=fee_for(amount, buyer_fee_bps), seller_fee=seller_fee)


def sold_cost(*, holding_units: int, holding_cost: Decimal, units: int) -> Decimal:
    """The seller's cost of `units` of a holding of `holding_units` that cost `holding_cost`."""
    if holding_units == units:
        return holding_cost
    return to_money(holding_cost * units / holding_units)


def entry_reference(*, listing_id: int, hold_reference: str | None) -> str:
    """A buy's journal entry names its listing; a bid's fill names the hold it pays from."""
    return hold_reference or f"listing:{listing_id}"


def check_fill(listing: Listing, *, buyer, units: int, now) -> None:
    if listing.offering.status not in TRADABLE:
        raise OfferingNotTradable(f"The offering is {listing.offering.get_status_display().lower()}.")
    if not listing.is_open_at(now):
        if listing.status == ListingStatus.OPEN and listing.opens_at > now:
            raise ListingClosed("The listing has not opened yet.")
        raise ListingClosed(f"The listing is {listing.status if listing.status != 'open' else 'closed'}.")
    if listing.seller_id is not None and listing.seller_id == buyer.pk:
        raise SelfTrade()
    if units > listing.units_remaining:
        raise InsufficientUnits(f"Only {listing.units_remaining} units remain.", attr="units")
    # The last few units may be fewer than the minimum; then the minimum is what remains.
    if units < min(listing.min_units, listing.units_remaining):
        raise BelowMinimumUnits(f"Buy at least {min(listing.min_units, listing.units_remaining)} units.",
                                attr="units")


def listing_after_fill(listing: Listing, *, units: int, now: dt.datetime) -> None:
    """What a fill does to the listing (in place): fewer units remain, and none left fills it."""
    listing.units_remaining -= units
    if listing.units_remaining == 0:
        listing.status = ListingStatus.FILLED
        listing.closed_at = now


# --- Events -----------------------------------------------------------------------------------

def trade_executed_payload(trade: Trade, listing: Listing) -> dict:
    return {
        "trade_id": trade.pk, "listing_id": listing.pk, "offering_id": trade.offering_id, "buyer_id": trade.buyer_id,
        "seller_id": listing.seller_id, "units": trade.units, "price_per_unit": str(trade.price_per_unit),
        "amount": str(trade.amount), "bid_id": trade.bid_id,
    }


def listing_changed_payload(listing: Listing) -> dict:
    return {"listing_id": listing.pk, "offering_id": listing.offering_id, "units_remaining": listing.units_remaining,
            "status": listing.status, "price_per_unit": str(listing.price_per_unit)}  # best_bid: bidding's


def listing_closed_payload(listing: Listing) -> dict:
    return {"listing_id": listing.pk, "offering_id": listing.offering_id, "status": listing.status}


def fill_events(trade: Trade, listing: Listing) -> list[tuple[str, dict]]:
    """A fill's events, in the order they are written: the trade, the listing's end when the
    fill filled it, the listing's change."""
    events = [(TRADE_TOPIC, trade_executed_payload(trade, listing))]
    if listing.status == ListingStatus.FILLED:
        events.append((LISTING_CLOSED_TOPIC, listing_closed_payload(listing)))
    events.append((LISTING_CHANGED_TOPIC, listing_changed_payload(listing)))
    return events


def publish_listing_changed(listing: Listing) -> None:
    outbox_publish(topic=LISTING_CHANGED_TOPIC, payload=listing_changed_payload(listing))


def publish_listing_closed(listing: Listing) -> None:
    outbox_publish_many(events=[(LISTING_CLOSED_TOPIC, listing_closed_payload(listing)),
                                (LISTING_CHANGED_TOPIC, listing_changed_payload(listing))])
