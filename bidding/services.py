"""Bids: place, modify, withdraw, reject, accept, expire, and close when the listing ends.

Locks. Every service that changes a bid runs in one `transaction.atomic()` and locks in the
global order of DESIGN.md §3: the listing (`select_for_update`), then the bid, then — inside
`trading.services.settle_locked_listing` — the holdings by id, then — inside the wallet's
services — the `WalletHold` row and the ledger accounts by id. Buying takes the listing lock
first too, so a buy and an accept of the same listing run one after the other and can never
oversell. Outer services are wrapped in `retry_on_deadlock`.

Money. An active bid holds `required(units, price) = units × price + buyer fee` under the
wallet reference `bid:<id>`, and `Bid.held_amount` mirrors the hold; both change together
under the bid's lock. Modify resizes the hold in one ledger entry; withdraw, reject, expiry
and the listing's end release it; accept pays the trade from it at the bid price. The fee is
rounded per trade, so `required(a) + required(b)` can differ from `required(a + b)` by a
paisa: after a partial accept the remainder's hold is computed afresh and the difference
released (or, in the rare case it falls a paisa short, topped up when the bidder has it).

A bid at or above the ask is not a bid: it buys at the ask through `listing_buy` (the
buyer never pays more than the ask), and is recorded as an accepted bid for the caller.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from bidding.enums import ACTIVE_STATUSES, BidEventKind, BidStatus
from bidding.errors import BidAlreadyOpen, BidNotOpen, ListingNotBiddable
from bidding.models import Bid, BidEvent
from core.audit import audit_record
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.money import ZERO, to_money
from core.outbox import outbox_publish
from core.retry import retry_on_deadlock
from core.transactions import service_atomic
from kyc.permissions import require_can_trade
from trading.enums import ListingKind, ListingStatus
from trading.errors import BelowMinimumUnits, InsufficientUnits, ListingClosed, SelfTrade
from trading.models import Listing, Trade
from trading.settlement import listing_buy, settle_locked_listing
from trading.settlement.rules import fee_for
from wallet.errors import InsufficientFunds
from wallet.selectors import wallet_balance
from wallet.services import wallet_hold, wallet_open, wallet_release

BIDDER, SELLER = "bidder", "seller"


def bid_required_amount(*, units: int, price_per_unit: Decimal) -> Decimal:
    """What a bid for `units` at `price_per_unit` holds: the trade value plus the buyer's fee,
    computed exactly as the settlement will charge it."""
    amount = to_money(price_per_unit * units)
    return amount + fee_for(amount, settings.BUYER_FEE_BPS)


@dataclass(frozen=True)
class BalanceCheck:
    listing_id: int
    units: int
    price_per_unit: Decimal
    required: Decimal
    available: Decimal
    sufficient: bool


def bid_check_balance(*, user, listing_id: int, units: int, price_per_unit: Decimal) -> BalanceCheck:
    """How much a bid would hold and whether the caller has it. Moves nothing. A price at or
    above the ask is priced at the ask, as placing it would buy there."""
    listing = Listing.objects.filter(pk=listing_id).only("pk", "price_per_unit").first()
    if listing is None:
        raise NotFound("No such listing.")
    price = min(to_money(price_per_unit), listing.price_per_unit)
    required = bid_required_amount(units=units, price_per_unit=price)
    available = wallet_balance(user=user).available
    return BalanceCheck(listing_id=listing.pk, units=units, price_per_unit=price, required=required,
                        available=available, sufficient=available >= required)


# --- Helpers (the caller holds the listing's and the bid's locks) ---------------------------

def _lock_listing(listing_id: int) -> Listing:
    listing = Listing.objects.select_for_update(of=("self",)).filter(pk=listing_id).first()
    if listing is None:
        raise NotFound("No such listing.")
    return listing


def _lock_bid_for(*, user, bid_id: int, party: str) -> tuple[Listing, Bid]:
    """Lock the bid's listing, then the bid. Someone who is neither its bidder nor its
    seller gets a 404; the other party of the bid gets a 403 (they can see the bid, but this
    action is not theirs)."""
    row = Bid.objects.filter(pk=bid_id).values("listing_id", "bidder_id", "seller_id").first()
    if row is None or user.pk not in (row["bidder_id"], row["seller_id"]):
        raise NotFound("No such bid.")
    if party == BIDDER and user.pk != row["bidder_id"]:
        raise PermissionDenied("Only the bidder can change or withdraw a bid.")
    if party == SELLER and user.pk != row["seller_id"]:
        raise PermissionDenied("Only the listing's seller can accept or reject a bid.")
    listing = _lock_listing(row["listing_id"])  # a bid's listing never changes
    bid = Bid.objects.select_for_update(of=("self",)).select_related("bidder").get(pk=bid_id)
    return listing, bid


def _require_active(bid: Bid, now) -> None:
    if not bid.is_active:
        raise BidNotOpen(f"The bid is {bid.get_status_display().lower()}.")
    if bid.expires_at is not None and bid.expires_at <= now:
        raise BidNotOpen("The bid has expired.")


def _check_terms(listing: Listing, *, bidder, units: int, now) -> None:
    """What a bid of `units` on `listing` must meet (the buy's own rules, checked early)."""
    if listing.kind != ListingKind.SECONDARY:
        raise ListingNotBiddable()
    if not listing.is_open_at(now):
        raise ListingClosed(f"The listing is {listing.status if listing.status != 'open' else 'closed'}.")
    if listing.seller_id == bidder.pk:
        raise SelfTrade("You cannot bid on your own listing.")
    if units > listing.units_remaining:
        raise InsufficientUnits(f"Only {listing.units_remaining} units remain.", attr="units")
    minimum = min(listing.min_units, listing.units_remaining)
    if units < minimum:
        raise BelowMinimumUnits(f"Bid for at least {minimum} units.", attr="units")


def _resize_hold(bid: Bid, *, target: Decimal, actor, best_effort: bool = False) -> None:
    """Make the wallet hold for `bid` equal `target` in one ledger entry: hold the extra or
    release the surplus. Refuses with `insufficient_funds` (the caller's transaction then
    rolls back) unless `best_effort`, when a hold it cannot grow is left as it is."""
    difference = target - bid.held_amount
    if difference > 0:
        try:
            wallet_hold(user=bid.bidder, amount=difference, reference=bid.reference, created_by=actor,
                        memo=f"bid {bid.pk}")
        except InsufficientFunds:
            if best_effort:
                return  # the savepoint inside wallet_hold rolled the attempt back
            raise
    elif difference < 0:
        wallet_release(user=bid.bidder, amount=-difference, reference=bid.reference, created_by=actor,
                       memo=f"bid {bid.pk}")
    bid.held_amount = target


def _record(bid: Bid, *, kind: str, actor, trade: Trade | None = None, data: dict | None = None) -> None:
    BidEvent.objects.create(bid=bid, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
                            status=bid.status, units=bid.units, units_filled=bid.units_filled,
                            price_per_unit=bid.price_per_unit, held_amount=bid.held_amount, trade=trade,
                            data=data or {})
    audit_record(action=f"bid.{kind}", actor=actor if getattr(actor, "pk", None) else None, target=bid,
                 data={"status": bid.status, "units": bid.units, "units_filled": bid.units_filled,
                       "price_per_unit": bid.price_per_unit, "held_amount": bid.held_amount,
                       "trade_id": trade.pk if trade else None, **(data or {})})


def _publish(bid: Bid, topic: str, *, units: int | None = None, **extra) -> None:
    outbox_publish(topic=topic, payload={
        "bid_id": bid.pk, "listing_id": bid.listing_id, "bidder_id": bid.bidder_id, "seller_id": bid.seller_id,
        "units": bid.units if units is None else units, "price_per_unit": str(bid.price_per_unit), **extra,
    })


def _publish_listing_changed(listing: Listing) -> None:
    """The marketplace push with the listing's best active bid (one aggregate query)."""
    best = Bid.objects.filter(listing_id=listing.pk, status__in=ACTIVE_STATUSES).aggregate(
        best=Max("price_per_unit"))["best"]
    outbox_publish(topic="listing.changed", payload={
        "listing_id": listing.pk, "offering_id": listing.offering_id, "units_remaining": listing.units_remaining,
        "status": listing.status, "price_per_unit": str(listing.price_per_unit),
        "best_bid": None if best is None else str(to_money(best)),  # SQLite's MAX drops the places
    })


def _close(bid: Bid, *, status: str, kind: str, topic: str, actor, now) -> None:
    """Release whatever the bid holds and close it (the caller holds its lock)."""
    released = bid.held_amount
    if released:
        wallet_release(user=bid.bidder, amount=released, reference=bid.reference, created_by=actor,
                       memo=f"bid {bid.pk} {status}")
    bid.held_amount = ZERO
    bid.status = status
    bid.closed_at = now
    bid.save(update_fields=["held_amount", "status", "closed_at", "updated_at"])
    _record(bid, kind=kind, actor=actor, data={"released": str(released)})
    _publish(bid, topic)


# --- Place and modify --------------------------------------------------------------------------

@retry_on_deadlock
def bid_place(*, bidder, listing_id: int, units: int, price_per_unit: Decimal, expires_at=None, now=None) -> Bid:
    """Bid for `units` of an investor's listing at `price_per_unit` below its ask, holding
    `units × price + buyer fee`. At or above the ask it buys at the ask instead (see the
    module docstring). Locks the listing, then (in the wallet) the hold and the accounts."""
    now = now or timezone.now()
    price = to_money(price_per_unit)
    if units < 1:
        raise InvalidInput("Bid for at least one unit.", attr="units")
    if price <= 0:
        raise InvalidInput("The price must be positive.", attr="price_per_unit")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("The bid must expire in the future.", attr="expires_at")
    require_can_trade(user=bidder)
    wallet_open(user=bidder)  # outside the lock: a first bid must not insert accounts under it
    with service_atomic():
        listing = _lock_listing(listing_id)
        _check_terms(listing, bidder=bidder, units=units, now=now)
        if price >= listing.price_per_unit:
            return _buy_at_ask(listing=listing, bidder=bidder, units=units, bid_price=price, now=now)
        if Bid.objects.filter(listing=listing, bidder=bidder, status__in=ACTIVE_STATUSES).exists():
            raise BidAlreadyOpen()
        bid = Bid.objects.create(listing=listing, bidder=bidder, seller_id=listing.seller_id, units=units,
                                 price_per_unit=price, expires_at=expires_at, created_at=now)
        _resize_hold(bid, target=bid_required_amount(units=units, price_per_unit=price), actor=bidder)
        bid.save(update_fields=["held_amount", "updated_at"])
        _record(bid, kind=BidEventKind.PLACED, actor=bidder)
        _publish(bid, "bid.placed")
        _publish_listing_changed(listing)
    return bid


def _buy_at_ask(*, listing: Listing, bidder, units: int, bid_price: Decimal, now) -> Bid:
    """The bid meets the ask: buy at the ask through the marketplace's buy (which re-locks
    the listing we already hold, so nothing can change in between) and record it as a bid
    accepted at the ask, so the caller gets a bid back with nothing held."""
    trade = listing_buy(buyer=bidder, listing_id=listing.pk, units=units)
    bid = Bid.objects.create(listing=listing, bidder=bidder, seller_id=listing.seller_id, units=0,
                             units_filled=units, price_per_unit=trade.price_per_unit, status=BidStatus.ACCEPTED,
                             created_at=now, closed_at=now)
    bid.trade = trade
    _record(bid, kind=BidEventKind.EXECUTED_AT_ASK, actor=bidder, trade=trade, data={"bid_price": str(bid_price)})
    return bid


@retry_on_deadlock
def bid_modify(*, bidder, bid_id: int, units: int | None = None, price_per_unit: Decimal | None = None,
               now=None) -> Bid:
    """Change an active bid's units and/or price; the hold is resized in one ledger entry.
    Refused with `insufficient_funds` if the extra cannot be held, leaving the bid as it was.
    A new price at or above the ask buys at the ask (the hold is released and the trade paid
    from available money, in one transaction)."""
    now = now or timezone.now()
    wallet_open(user=bidder)
    with service_atomic():
        listing, bid = _lock_bid_for(user=bidder, bid_id=bid_id, party=BIDDER)
        _require_active(bid, now)
        new_units = bid.units if units is None else units
        new_price = bid.price_per_unit if price_per_unit is None else to_money(price_per_unit)
        if new_units < 1:
            raise InvalidInput("Bid for at least one unit.", attr="units")
        if new_price <= 0:
            raise InvalidInput("The price must be positive.", attr="price_per_unit")
        if (new_units, new_price) == (bid.units, bid.price_per_unit):
            return bid
        _check_terms(listing, bidder=bidder, units=new_units, now=now)
        before = {"units": bid.units, "price_per_unit": str(bid.price_per_unit), "held_amount": str(bid.held_amount)}
        if new_price >= listing.price_per_unit:
            return _modify_into_buy(listing=listing, bid=bid, units=new_units, bid_price=new_price, before=before,
                                    now=now)
        _resize_hold(bid, target=bid_required_amount(units=new_units, price_per_unit=new_price), actor=bidder)
        bid.units, bid.price_per_unit = new_units, new_price
        bid.save(update_fields=["units", "price_per_unit", "held_amount", "updated_at"])
        _record(bid, kind=BidEventKind.MODIFIED, actor=bidder, data={"before": before})
        _publish(bid, "bid.modified")
        _publish_listing_changed(listing)
    return bid


def _modify_into_buy(*, listing: Listing, bid: Bid, units: int, bid_price: Decimal, before: dict, now) -> Bid:
    bidder = bid.bidder
    if bid.held_amount:
        wallet_release(user=bidder, amount=bid.held_amount, reference=bid.reference, created_by=bidder,
                       memo=f"bid {bid.pk} raised to the ask")
    fill = settle_locked_listing(listing=listing, buyer=bidder, units=units, price_per_unit=listing.price_per_unit,
                                 bid_id=bid.pk, now=now)
    bid.held_amount = ZERO
    bid.units = 0
    bid.units_filled += units
    bid.price_per_unit = listing.price_per_unit
    bid.status = BidStatus.ACCEPTED
    bid.closed_at = now
    bid.save(update_fields=["held_amount", "units", "units_filled", "price_per_unit", "status", "closed_at",
                            "updated_at"])
    bid.trade = fill.trade
    _record(bid, kind=BidEventKind.EXECUTED_AT_ASK, actor=bidder, trade=fill.trade,
            data={"before": before, "bid_price": str(bid_price)})
    _publish(bid, "bid.accepted", units=units, trade_id=fill.trade.pk)
    return bid


# --- Closing without a trade ---------------------------------------------------------------------

@retry_on_deadlock
def bid_withdraw(*, bidder, bid_id: int, now=None) -> Bid:
    """The bidder takes the bid back; its hold is released once."""
    now = now or timezone.now()
    with service_atomic():
        listing, bid = _lock_bid_for(user=bidder, bid_id=bid_id, party=BIDDER)
        if not bid.is_active:
            raise BidNotOpen(f"The bid is {bid.get_status_display().lower()}.")
        _close(bid, status=BidStatus.WITHDRAWN, kind=BidEventKind.WITHDRAWN, topic="bid.withdrawn", actor=bidder,
               now=now)
        _publish_listing_changed(listing)
    return bid


@retry_on_deadlock
def bid_reject(*, seller, bid_id: int, now=None) -> Bid:
    """The seller turns the bid down; its hold goes back to the bidder once."""
    now = now or timezone.now()
    with service_atomic():
        listing, bid = _lock_bid_for(user=seller, bid_id=bid_id, party=SELLER)
        if not bid.is_active:
            raise BidNotOpen(f"The bid is {bid.get_status_display().lower()}.")
        _close(bid, status=BidStatus.REJECTED, kind=BidEventKind.REJECTED, topic="bid.rejected", actor=seller,
               now=now)
        _publish_listing_changed(listing)
    return bid


def bid_expire_due(*, now=None) -> int:
    """Expire active bids whose `expires_at` has passed (beat job), each in its own
    transaction; returns how many expired."""
    now = now or timezone.now()
    due = (Bid.objects.filter(status__in=ACTIVE_STATUSES, expires_at__lte=now).order_by("expires_at", "pk")
           .values_list("pk", "listing_id"))
    return sum(_expire_one(bid_id=bid_id, listing_id=listing_id, now=now) for bid_id, listing_id in list(due[:1000]))


@retry_on_deadlock
def _expire_one(*, bid_id: int, listing_id: int, now) -> int:
    with transaction.atomic():
        listing = _lock_listing(listing_id)
        bid = (Bid.objects.select_for_update(of=("self",)).select_related("bidder")
               .filter(pk=bid_id, status__in=ACTIVE_STATUSES, expires_at__lte=now).first())
        if bid is None:
            return 0  # accepted, withdrawn or closed meanwhile
        _close(bid, status=BidStatus.EXPIRED, kind=BidEventKind.EXPIRED, topic="bid.expired", actor=None, now=now)
        _publish_listing_changed(listing)
    return 1


def bids_close_for_listing(*, listing_id: int, now=None) -> int:
    """The listing ended (filled, cancelled, expired): close its active bids and release
    their holds. Runs inside the outbox drain's transaction; idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        listing = Listing.objects.select_for_update(of=("self",)).filter(pk=listing_id).first()
        if listing is None or listing.status == ListingStatus.OPEN:
            return 0
        bids = list(Bid.objects.select_for_update(of=("self",)).select_related("bidder")
                    .filter(listing_id=listing_id, status__in=ACTIVE_STATUSES).order_by("pk"))
        for bid in bids:
            _close(bid, status=BidStatus.CLOSED, kind=BidEventKind.CLOSED, topic="bid.closed", actor=None, now=now)
    return len(bids)


# --- Accept --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BidFill:
    bid: Bid
    trade: Trade


@retry_on_deadlock
def bid_accept(*, seller, bid_id: int, units: int | None = None, now=None) -> BidFill:
    """The seller sells `units` (all the bid wants by default) at the bid's price, paid from
    the bid's hold (the buyer's fee included). A partly accepted bid stays open for the rest
    with the hold of the rest; if the trade ends the listing, the rest is closed at once.
    Locks the listing, the bid, then (in the settlement) holdings and ledger accounts."""
    now = now or timezone.now()
    wallet_open(user=seller)  # the payee's accounts exist before any lock is taken
    with service_atomic():
        listing, bid = _lock_bid_for(user=seller, bid_id=bid_id, party=SELLER)
        _require_active(bid, now)
        units = bid.units if units is None else units
        if units < 1:
            raise InvalidInput("Accept at least one unit.", attr="units")
        if units > bid.units:
            raise InsufficientUnits(f"The bid is for {bid.units} units.", attr="units")
        price = bid.price_per_unit
        cost = bid_required_amount(units=units, price_per_unit=price)
        if bid.held_amount < cost:  # only after a partial accept that left the hold a paisa short
            _resize_hold(bid, target=cost, actor=seller)
        fill = settle_locked_listing(listing=listing, buyer=bid.bidder, units=units, price_per_unit=price,
                                     pay_from_hold_reference=bid.reference, bid_id=bid.pk, now=now)
        bid.held_amount -= cost
        bid.units -= units
        bid.units_filled += units
        if bid.units == 0:
            bid.status = BidStatus.ACCEPTED
        elif listing.status != ListingStatus.OPEN:
            bid.status = BidStatus.CLOSED  # the trade filled the listing: nothing more to buy
        else:
            bid.status = BidStatus.PARTIALLY_ACCEPTED
            _resize_hold(bid, target=bid_required_amount(units=bid.units, price_per_unit=price), actor=seller,
                         best_effort=True)
        if bid.status in (BidStatus.ACCEPTED, BidStatus.CLOSED):
            if bid.held_amount:
                wallet_release(user=bid.bidder, amount=bid.held_amount, reference=bid.reference, created_by=seller,
                               memo=f"bid {bid.pk} rounding")
                bid.held_amount = ZERO
            bid.closed_at = now
        bid.save(update_fields=["held_amount", "units", "units_filled", "status", "closed_at", "updated_at"])
        _record(bid, kind=BidEventKind.ACCEPTED, actor=seller, trade=fill.trade, data={"units": units})
        _publish(bid, "bid.accepted", units=units, trade_id=fill.trade.pk)
        _publish_listing_changed(listing)
    return BidFill(bid=bid, trade=fill.trade)
