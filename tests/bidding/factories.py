"""Bidding test helpers: an investor's listing and funded bidders, all made through the real
services (trading's factories underneath), so money and units balance from the start."""

from decimal import Decimal

from bidding.services import bid_place
from tests.trading.factories import make_offering, post_primary, trader
from trading.services import listing_buy, listing_post_secondary

SELLER_FUNDS = Decimal("20000.00")


def investor_listing(*, units: int = 10, price: str = "800.00", min_units: int = 1, seller_units: int = 20,
                     seller=None, primary=None, **kwargs):
    """A seller who bought `seller_units` from the platform at 800.00 and lists `units` of them
    at `price`. The seller keeps SELLER_FUNDS − cost of the units (16040.00 for 20 units)."""
    primary = primary or post_primary(make_offering(), units=100)
    seller = seller or trader(str(SELLER_FUNDS))
    listing_buy(buyer=seller, listing_id=primary.pk, units=seller_units)
    listing = listing_post_secondary(seller=seller, offering_id=primary.offering_id, units=units,
                                     price_per_unit=Decimal(price), min_units=min_units, **kwargs)
    listing.primary = primary
    return listing


def place(bidder, listing, units: int, price: str, **kwargs):
    return bid_place(bidder=bidder, listing_id=listing.pk, units=units, price_per_unit=Decimal(price), **kwargs)


def bidder(balance: str = "10000.00", **fields):
    return trader(balance, **fields)
