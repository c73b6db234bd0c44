"""Settlement: one fill of a listing — a buy, or an accepted bid paid from its hold — moving
units seller → buyer and money buyer → seller (fees to `fees`; a primary sale's proceeds
to `platform_proceeds`) in one transaction (DESIGN.md §6, ADR 0005).

- `rules.py`: what may be bought, what it costs, what is announced (Python, once).
- `orm.py`: the fill through the ORM (SQLite, and the tests on PostgreSQL beside the other).
- `sql.py` with the database function `trading_settle()`: the fill in one round trip on
  PostgreSQL, the production path.

Lock order: the listing, the seller's and buyer's holdings by id, the bid's wallet hold,
the user ledger accounts by id (the last two inside the wallet's posting).
"""

import contextlib
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from core.errors import InvalidInput, NotFound
from core.outbox import outbox_publish_many
from core.retry import retry_on_deadlock
from core.sql import use_hand_written_sql
from core.transactions import service_atomic
from kyc.permissions import require_can_trade
from trading.models import Listing, Trade
from trading.settlement.orm import settle_with_orm
from trading.settlement.rules import Fill, fill_events
from trading.settlement.sql import settle_in_database
from wallet.services import wallet_cached

__all__ = ["HAND_WRITTEN_SQL", "Fill", "listing_buy", "settle_locked_listing"]

# On PostgreSQL a fill is one call of the database function `trading_settle()` (trading
# 0005): the locks, the checks, the entry, the unit moves and the outbox messages in one
# round trip. Elsewhere (SQLite) the ORM does all of it in Python, below. Tests switch this
# off to run the ORM path on PostgreSQL too (the `writers` fixture), so the two stay alike.
HAND_WRITTEN_SQL = True


def settle_locked_listing(*, listing: Listing, buyer, units: int, price_per_unit: Decimal,
                          pay_from_hold_reference: str | None = None, bid_id: int | None = None, now=None) -> Fill:
    """Move units and money for one fill of `listing`, whose row the caller has locked
    (and, for a bid, the bid row after it). Locks the two holdings by id, then the ledger
    accounts. Used by buys and by accepted bids; checks the listing's window, units, minimum
    and self-trade. `listing` is updated in place (units remaining, status)."""
    now = now or timezone.now()
    if use_hand_written_sql(HAND_WRITTEN_SQL):
        settled = settle_in_database(listing_id=listing.pk, buyer=buyer, units=units, price_per_unit=price_per_unit,
                                      pay_from_hold_reference=pay_from_hold_reference, bid_id=bid_id, now=now)
        for name in ("units_remaining", "status", "closed_at"):
            setattr(listing, name, getattr(settled.listing, name))
        settled.trade.listing = listing
        return Fill(trade=settled.trade, listing=listing)
    fill = settle_with_orm(listing=listing, buyer=buyer, units=units, price_per_unit=price_per_unit,
                            pay_from_hold_reference=pay_from_hold_reference, bid_id=bid_id, now=now)
    outbox_publish_many(events=fill_events(fill.trade, fill.listing))
    return fill


@retry_on_deadlock
def listing_buy(*, buyer, listing_id: int, units: int) -> Trade:
    """Buy `units` of an open listing at its price: buyer pays amount + buyer fee, the
    seller (or the platform) receives amount − seller fee, fees go to `fees`, units move
    seller → buyer. Lock order: listing → holdings by id → ledger accounts by id."""
    if units < 1:
        raise InvalidInput("Buy at least one unit.", attr="units")
    hand_written = use_hand_written_sql(HAND_WRITTEN_SQL)
    # The onboarding gate. Once this process knows the buyer's wallet, the settling statement
    # meets it itself (one round trip fewer). Until then it is met first: finding the wallet
    # opens it when missing, and a refused buyer's attempt must not open one.
    accounts = wallet_cached(user=buyer) if hand_written else None
    if accounts is None:
        require_can_trade(user=buyer)
    now = timezone.now()
    if hand_written:
        # One statement (the function locks the listing itself): outside any transaction it
        # commits on its own; inside one, in a savepoint unless it is the request's own.
        with service_atomic() if connection.in_atomic_block else contextlib.nullcontext():
            fill = settle_in_database(listing_id=listing_id, buyer=buyer, units=units, price_per_unit=None,
                                       pay_from_hold_reference=None, bid_id=None, now=now, accounts=accounts)
        return fill.trade
    with service_atomic():
        listing = (Listing.objects.select_for_update(of=("self",)).select_related("offering")
                   .filter(pk=listing_id).first())
        if listing is None:
            raise NotFound("No such listing.")
        fill = settle_with_orm(listing=listing, buyer=buyer, units=units, price_per_unit=listing.price_per_unit,
                                pay_from_hold_reference=None, bid_id=None, now=now)
        outbox_publish_many(events=fill_events(fill.trade, fill.listing))
    return fill.trade
