"""Trading: fractionalize, post, buy, sell, cancel, expire (DESIGN.md §5–6).

Every service that changes units or money runs in one `transaction.atomic()` and locks in
the global order: offering (only when its status changes) → listing → bids → holdings by
id → ledger accounts by id (the last inside `wallet.services.ledger_post`). Outer services
are wrapped in `retry_on_deadlock`, which retries a deadlock or serialization failure only
at the outermost level.

The buy is the hot path. Everything that does not need the listing's lock (the onboarding
gate, reading the buyer's accounts, opening their wallet) happens before the transaction,
so the lock is held only for the writes themselves.
"""

import contextlib
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

import irr
from core import context
from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from core.money import ZERO, fit_decimal, to_money
from core.outbox import OutboxMessage, handler_names, outbox_publish, outbox_publish_many, outbox_written
from core.sql import use_hand_written_sql
from core.transactions import service_atomic
from invoices.enums import OfferingStatus
from invoices.offering_models import Offering
from invoices.services.offerings import offering_configure, offering_remaining_flows
from kyc.permissions import raise_for_gate_refusal, require_can_trade
from kyc.selectors import trader_gate_sql
from trading.enums import ListingKind, ListingStatus, UnitTransferKind
from trading.errors import (
    BelowMinimumUnits,
    InsufficientUnits,
    ListingClosed,
    OfferingNotTradable,
    SelfTrade,
)
from trading.models import Holding, Listing, Trade, UnitTransfer
from wallet.enums import AccountKind
from wallet.services import (
    WalletAccounts,
    retry_on_deadlock,
    wallet_cached,
    wallet_system_account,
    wallet_transfer,
)

TRADABLE = (OfferingStatus.POSTED, OfferingStatus.SOLD_OUT)


def fee_for(amount: Decimal, bps: int) -> Decimal:
    """Fee in paise on `amount` at `bps` basis points, rounded half up."""
    if not bps:
        return ZERO
    return (amount * Decimal(bps) / Decimal(10000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def listing_xirr(*, offering: Offering, price: Decimal, as_of: dt.date) -> Decimal | None:
    flows = offering_remaining_flows(offering=offering, after=as_of)
    if not flows:
        return None
    try:
        rate = irr.xirr_at_price(flows, as_of, price)
    except irr.IrrError:
        return None
    # A price far below the flows gives a yield beyond the column (₹1 for a ₹1,000 unit):
    # stored as unknown, like a price with no yield at all, never overflowing the insert.
    field = Listing._meta.get_field("xirr")
    return fit_decimal(Decimal(repr(round(rate, 8))), max_digits=field.max_digits,
                       decimal_places=field.decimal_places)


# --- Fractionalization and posting ---------------------------------------------------------

@retry_on_deadlock
def offering_fractionalize(*, organization, invoice_id: int, total_units: int, schedule_kind: str,
                           annual_rate: Decimal | None = None, frequency: str = "", balloon_share=None,
                           price_per_unit: Decimal | None = None, target_xirr: Decimal | None = None,
                           created_by) -> Offering:
    """Configure the offering (invoices) and issue all its units to the platform's inventory,
    in one transaction."""
    with transaction.atomic():
        offering = offering_configure(
            organization=organization, invoice_id=invoice_id, total_units=total_units, schedule_kind=schedule_kind,
            annual_rate=annual_rate, frequency=frequency, balloon_share=balloon_share,
            price_per_unit=price_per_unit, target_xirr=target_xirr, created_by=created_by,
        )
        inventory = Holding.objects.create(owner=None, offering=offering, units=total_units)
        UnitTransfer.objects.create(offering=offering, to_holding=inventory, units=total_units,
                                    kind=UnitTransferKind.ISSUE, reference=f"offering:{offering.pk}")
        audit_record(action="offering.fractionalized", actor=created_by, target=offering,
                     data={"total_units": total_units, "unit_face_value": offering.unit_face_value,
                           "issue_price": offering.issue_price})
    return offering


def _validate_listing_terms(*, units: int, price_per_unit: Decimal, min_units: int, opens_at, closes_at, now):
    if units < 1:
        raise InvalidInput("Offer at least one unit.", attr="units")
    if price_per_unit <= 0:
        raise InvalidInput("The price must be positive.", attr="price_per_unit")
    if not 1 <= min_units <= units:
        raise InvalidInput("The minimum must be between 1 and the units offered.", attr="min_units")
    if closes_at is not None and closes_at <= max(now, opens_at):
        raise InvalidInput("The listing must close after it opens and in the future.", attr="closes_at")


@retry_on_deadlock
def listing_post_primary(*, organization, offering_id: int, units: int, price_per_unit: Decimal, min_units: int = 1,
                         opens_at=None, closes_at=None, created_by) -> Listing:
    """Offer units from the platform's inventory, by an admin of the organization the
    offering came from (another organization's offering is a 404). Locks the offering, then
    the inventory."""
    now = timezone.now()
    opens_at = opens_at or now
    price_per_unit = to_money(price_per_unit)
    _validate_listing_terms(units=units, price_per_unit=price_per_unit, min_units=min_units, opens_at=opens_at,
                            closes_at=closes_at, now=now)
    with transaction.atomic():
        offering = Offering.objects.select_for_update().filter(pk=offering_id, organization=organization).first()
        if offering is None:
            raise NotFound("No such offering.")
        if offering.status not in (OfferingStatus.CONFIGURED, *TRADABLE):
            raise OfferingNotTradable(f"The offering is {offering.get_status_display().lower()}.")
        inventory = Holding.objects.select_for_update().get(offering=offering, owner__isnull=True)
        if inventory.free_units < units:
            raise InsufficientUnits(f"The inventory has {inventory.free_units} free units.", attr="units")
        Holding.objects.filter(pk=inventory.pk).update(units_listed=F("units_listed") + units)
        listing = Listing.objects.create(
            offering=offering, kind=ListingKind.PRIMARY, seller=None, seller_holding=inventory,
            units_offered=units, units_remaining=units, price_per_unit=price_per_unit, min_units=min_units,
            opens_at=opens_at, closes_at=closes_at,
            xirr=listing_xirr(offering=offering, price=price_per_unit, as_of=timezone.localdate()),
            xirr_as_of=timezone.localdate(),
        )
        if offering.status == OfferingStatus.CONFIGURED:
            offering.status = OfferingStatus.POSTED
            offering.save(update_fields=["status"])
        audit_record(action="listing.posted", actor=created_by, target=listing,
                     data={"units": units, "price_per_unit": price_per_unit, "kind": "primary"})
        _publish_listing_changed(listing)
    return listing


@retry_on_deadlock
def listing_post_secondary(*, seller, offering_id: int, units: int, price_per_unit: Decimal, min_units: int = 1,
                           closes_at=None) -> Listing:
    """Offer some of the seller's free units. Locks the seller's holding."""
    now = timezone.now()
    price_per_unit = to_money(price_per_unit)
    _validate_listing_terms(units=units, price_per_unit=price_per_unit, min_units=min_units, opens_at=now,
                            closes_at=closes_at, now=now)
    require_can_trade(user=seller)
    with service_atomic():
        holding = (Holding.objects.select_for_update().select_related("offering")
                   .filter(owner=seller, offering_id=offering_id).first())
        if holding is None:
            raise InsufficientUnits("You hold no units of this offering.", attr="units")
        if holding.offering.status not in TRADABLE:
            raise OfferingNotTradable(f"The offering is {holding.offering.get_status_display().lower()}.")
        if holding.free_units < units:
            raise InsufficientUnits(f"You have {holding.free_units} units free to sell.", attr="units")
        Holding.objects.filter(pk=holding.pk).update(units_listed=F("units_listed") + units)
        listing = Listing.objects.create(
            offering=holding.offering, kind=ListingKind.SECONDARY, seller=seller, seller_holding=holding,
            units_offered=units, units_remaining=units, price_per_unit=price_per_unit, min_units=min_units,
            opens_at=now, closes_at=closes_at,
            xirr=listing_xirr(offering=holding.offering, price=price_per_unit, as_of=timezone.localdate()),
            xirr_as_of=timezone.localdate(),
        )
        audit_record(action="listing.posted", actor=seller, target=listing,
                     data={"units": units, "price_per_unit": price_per_unit, "kind": "secondary"})
        _publish_listing_changed(listing)
    return listing


# --- Closing listings ---------------------------------------------------------------------

def _close_locked_listing(listing: Listing, *, status: str, actor=None) -> None:
    """Close a listing whose row the caller has locked: return its unsold units to the
    seller's free units and tell other apps (bidding releases the listing's bids)."""
    holding = Holding.objects.select_for_update().get(pk=listing.seller_holding_id)
    if listing.units_remaining:
        Holding.objects.filter(pk=holding.pk).update(units_listed=F("units_listed") - listing.units_remaining)
    listing.status = status
    listing.closed_at = timezone.now()
    listing.save(update_fields=["status", "closed_at"])
    audit_record(action=f"listing.{status}", actor=actor, target=listing,
                 data={"units_returned": listing.units_remaining})
    _publish_listing_closed(listing)


@retry_on_deadlock
def listing_cancel(*, user, listing_id: int) -> Listing:
    """The seller withdraws the rest of their listing. Someone else's listing is a 404."""
    with service_atomic():
        listing = Listing.objects.select_for_update().filter(pk=listing_id, seller=user).first()
        if listing is None:
            raise NotFound("No such listing.")
        if listing.status != ListingStatus.OPEN:
            raise ListingClosed(f"The listing is already {listing.status}.")
        _close_locked_listing(listing, status=ListingStatus.CANCELLED, actor=user)
    return listing


@retry_on_deadlock
def listing_cancel_by_staff(*, actor, listing_id: int) -> Listing:
    with transaction.atomic():
        listing = Listing.objects.select_for_update().filter(pk=listing_id).first()
        if listing is None:
            raise NotFound("No such listing.")
        if listing.status != ListingStatus.OPEN:
            raise ListingClosed(f"The listing is already {listing.status}.")
        _close_locked_listing(listing, status=ListingStatus.CANCELLED, actor=actor)
    return listing


@retry_on_deadlock
def listing_close_for_offering(*, offering_id: int, status: str = ListingStatus.CANCELLED, actor=None) -> int:
    """Close every open listing of an offering (servicing: maturity, default), each through
    the path above (`listing.closed` is published, so bidding releases the bids). Locks the
    listings in id order, then each seller's holding: a caller that holds the offering's
    holdings must have locked these listings before them. Returns how many closed."""
    with transaction.atomic():
        listings = list(Listing.objects.select_for_update(of=("self",))
                        .filter(offering_id=offering_id, status=ListingStatus.OPEN).order_by("pk"))
        for listing in listings:
            _close_locked_listing(listing, status=status, actor=actor)
    return len(listings)


def listing_expire_due(*, now=None) -> int:
    """Expire open listings whose `closes_at` has passed (beat job). Each in its own
    transaction, skipping rows another process holds; returns how many expired."""
    now = now or timezone.now()
    expired = 0
    due = Listing.objects.filter(status=ListingStatus.OPEN, closes_at__lte=now).values_list("pk", flat=True)
    for listing_id in list(due[:1000]):
        expired += _expire_one(listing_id=listing_id, now=now)
    return expired


@retry_on_deadlock
def _expire_one(*, listing_id: int, now) -> int:
    with transaction.atomic():
        listing = (Listing.objects.select_for_update(skip_locked=True)
                   .filter(pk=listing_id, status=ListingStatus.OPEN, closes_at__lte=now).first())
        if listing is None:
            return 0
        _close_locked_listing(listing, status=ListingStatus.EXPIRED)
    return 1


# --- Buying -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fill:
    """What a settlement moved, for callers that need more than the trade row."""

    trade: Trade
    listing: Listing


def _payee(listing: Listing):
    if listing.kind == ListingKind.PRIMARY:
        return wallet_system_account(AccountKind.PLATFORM_PROCEEDS)
    return listing.seller


def _check_fill(listing: Listing, *, buyer, units: int, now) -> None:
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


def settle_locked_listing(*, listing: Listing, buyer, units: int, price_per_unit: Decimal,
                          pay_from_hold_reference: str | None = None, bid_id: int | None = None, now=None) -> Fill:
    """Move units and money for one fill of `listing`, whose row the caller has locked
    (and, for a bid, the bid row after it). Locks the two holdings by id, then the ledger
    accounts. Used by buys and by accepted bids; checks the listing's window, units, minimum
    and self-trade. `listing` is updated in place (units remaining, status)."""
    now = now or timezone.now()
    if use_hand_written_sql(HAND_WRITTEN_SQL):
        settled = _settle_in_database(listing_id=listing.pk, buyer=buyer, units=units, price_per_unit=price_per_unit,
                                      pay_from_hold_reference=pay_from_hold_reference, bid_id=bid_id, now=now)
        for name in ("units_remaining", "status", "closed_at"):
            setattr(listing, name, getattr(settled.listing, name))
        settled.trade.listing = listing
        return Fill(trade=settled.trade, listing=listing)
    fill = _settle_with_orm(listing=listing, buyer=buyer, units=units, price_per_unit=price_per_unit,
                            pay_from_hold_reference=pay_from_hold_reference, bid_id=bid_id, now=now)
    _publish_fill(fill)
    return fill


# On PostgreSQL a fill is one call of the database function `trading_settle()` (trading
# 0005): the locks, the checks, the entry, the unit moves and the outbox messages in one
# round trip. Elsewhere (SQLite) the ORM does all of it in Python, below. Tests switch this
# off to run the ORM path on PostgreSQL too (the `writers` fixture), so the two stay alike.
HAND_WRITTEN_SQL = True
BUY_ENTRY_KIND, BID_ENTRY_KIND = "trade.buy", "trade.bid"


def _settle_with_orm(*, listing: Listing, buyer, units: int, price_per_unit: Decimal,
                     pay_from_hold_reference: str | None, bid_id: int | None, now) -> Fill:
    from wallet.services import wallet_pay_from_hold

    _check_fill(listing, buyer=buyer, units=units, now=now)
    offering_id = listing.offering_id
    seller_holding, buyer_holding = _lock_holdings(seller_holding_id=listing.seller_holding_id, buyer=buyer,
                                                   offering_id=offering_id)

    amount = to_money(price_per_unit * units)
    buyer_fee = fee_for(amount, settings.BUYER_FEE_BPS)
    seller_fee = fee_for(amount, settings.SELLER_FEE_BPS) if listing.kind == ListingKind.SECONDARY else ZERO
    memo = f"{units} units of offering {offering_id}"
    if pay_from_hold_reference:
        entry = wallet_pay_from_hold(payer=buyer, payee=_payee(listing), amount=amount, fee=buyer_fee,
                                     payee_fee=seller_fee, reference=pay_from_hold_reference, kind=BID_ENTRY_KIND,
                                     created_by=buyer, memo=memo)
    else:
        entry = wallet_transfer(payer=buyer, payee=_payee(listing), amount=amount, fee=buyer_fee,
                                payee_fee=seller_fee, reference=f"listing:{listing.pk}", kind=BUY_ENTRY_KIND,
                                created_by=buyer, memo=memo)

    # The seller's cost of the units sold, at their average price (largest part first so
    # the last unit sold carries the rest of the cost exactly).
    if seller_holding.units == units:
        sold_cost = seller_holding.cost_basis
    else:
        sold_cost = to_money(seller_holding.cost_basis * units / seller_holding.units)
    listing.units_remaining -= units
    if listing.units_remaining == 0:
        listing.status = ListingStatus.FILLED
        listing.closed_at = now
    trade = Trade(
        listing=listing, offering_id=offering_id, buyer=buyer, seller_id=listing.seller_id, units=units,
        price_per_unit=price_per_unit, amount=amount, buyer_fee=buyer_fee, seller_fee=seller_fee,
        seller_cost_basis=sold_cost, journal_entry=entry, bid_id=bid_id, created_at=now,
    )
    Holding.objects.filter(pk=seller_holding.pk).update(
        units=F("units") - units, units_listed=F("units_listed") - units,
        cost_basis=F("cost_basis") - sold_cost, updated_at=now)
    Holding.objects.filter(pk=buyer_holding.pk).update(
        units=F("units") + units, cost_basis=F("cost_basis") + amount, updated_at=now)
    Listing.objects.filter(pk=listing.pk).update(units_remaining=listing.units_remaining, status=listing.status,
                                                 closed_at=listing.closed_at)
    trade.save(force_insert=True)
    UnitTransfer.objects.create(offering_id=offering_id, from_holding_id=seller_holding.pk,
                                to_holding_id=buyer_holding.pk, units=units, kind=UnitTransferKind.TRADE,
                                trade=trade, created_at=now)
    if listing.kind == ListingKind.PRIMARY and listing.units_remaining == 0:
        _mark_sold_out_if_done(offering_id)
    return Fill(trade=trade, listing=listing)


def _lock_holdings(*, seller_holding_id: int, buyer, offering_id: int) -> tuple[Holding, Holding]:
    """Lock the seller's holding and the buyer's (creating it on a first buy) in id order. A
    row this transaction has just inserted cannot be locked by anyone else, so creating the
    buyer's after locking the seller's keeps the order; a concurrent twin insert waits on the
    unique index, then inserts nothing (`ignore_conflicts`), and theirs is locked instead."""
    holdings = list(Holding.objects.select_for_update(of=("self",))
                    .filter(Q(pk=seller_holding_id) | Q(owner=buyer, offering_id=offering_id)).order_by("pk"))
    seller_holding = next(h for h in holdings if h.pk == seller_holding_id)
    buyer_holding = next((h for h in holdings if h.owner_id == buyer.pk), None)
    if buyer_holding is None:
        Holding.objects.bulk_create([Holding(owner=buyer, offering_id=offering_id)], ignore_conflicts=True)
        buyer_holding = Holding.objects.select_for_update().get(owner=buyer, offering_id=offering_id)
    return seller_holding, buyer_holding


# `trading_settle()`'s result: what it returns after `outcome` and the offering's status.
_LISTING_COLUMNS = ("id", "offering_id", "kind", "seller_id", "seller_holding_id", "units_offered", "units_remaining",
                    "price_per_unit", "min_units", "opens_at", "closes_at", "status", "xirr", "xirr_as_of",
                    "created_at", "closed_at")
_SETTLE_SQL = (  # {buyer}: the buyer's id, as a parameter or through the onboarding gate
    "SELECT * FROM trading_settle(%s::bigint, {buyer}, %s::integer, %s::numeric, %s::timestamptz, "
    "%s::varchar[], %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::varchar, "
    "%s::integer, %s::integer, %s::bigint, %s::varchar, %s::bigint, %s::bigint, %s::bigint, %s::varchar, "
    "%s::varchar, %s::bigint, %s::inet, %s::varchar, %s::varchar, %s::varchar[], %s::varchar[], %s::varchar[])"
)
REFUSED_IN_DATABASE = "TRD01"  # trading_settle's SQLSTATE for a refusal it raises


def _settle_in_database(*, listing_id: int, buyer, units: int, price_per_unit: Decimal | None,
                        pay_from_hold_reference: str | None, bid_id: int | None, now,
                        accounts: WalletAccounts | None = None) -> Fill:
    """One call of `trading_settle()` (see its migration), then the same errors as the ORM
    path: a refused fill is put to `_check_fill`, so each rule is worded in one place. Runs
    in the caller's transaction, or outside any as one statement that commits alone.

    Given the buyer's `accounts`, the statement also meets the onboarding gate: the buyer's
    id reaches `trading_settle()` through `kyc_trader()`, whose refusal becomes `KycRequired`
    or `BankAccountRequired`. Without them the caller has met the gate, and the wallet is
    opened here."""
    from wallet.services import wallet_open

    if accounts is None:
        buyer_sql, buyer_params = "%s::bigint", [buyer.pk]
        accounts = wallet_open(user=buyer)
    else:
        buyer_sql, buyer_params = trader_gate_sql(user=buyer)
    sql = _SETTLE_SQL.format(buyer=buyer_sql)
    request = context.current()
    params = [
        listing_id, *buyer_params, units, price_per_unit, now, list(TRADABLE), ListingStatus.OPEN, ListingStatus.FILLED,
        ListingKind.PRIMARY, OfferingStatus.POSTED, OfferingStatus.SOLD_OUT, UnitTransferKind.TRADE,
        AccountKind.AVAILABLE, settings.BUYER_FEE_BPS, settings.SELLER_FEE_BPS,
        (accounts.held if pay_from_hold_reference else accounts.available).pk, pay_from_hold_reference,
        wallet_system_account(AccountKind.FEES).pk, wallet_system_account(AccountKind.PLATFORM_PROCEEDS).pk,
        bid_id, BID_ENTRY_KIND if pay_from_hold_reference else BUY_ENTRY_KIND,
        pay_from_hold_reference or f"listing:{listing_id}", request.impersonator_id, request.ip, request.request_id,
        OutboxMessage.Status.PENDING, handler_names("trade.executed"), handler_names("listing.closed"),
        handler_names("listing.changed"),
    ]
    row = _call_settle(sql, params, reference=pay_from_hold_reference)
    if row[0] == "no_payee_wallet":  # the seller's accounts were never opened: open them, go again
        wallet_open(user=get_user_model().objects.get(pk=row[2 + _LISTING_COLUMNS.index("seller_id")]))
        row = _call_settle(sql, params, reference=pay_from_hold_reference)
    outcome, offering_status = row[:2]
    width = len(_LISTING_COLUMNS)
    trade_id, entry_id, amount, buyer_fee, seller_fee, sold_cost = row[2 + width:]
    if outcome == "not_found":
        raise NotFound("No such listing.")
    values = dict(zip(_LISTING_COLUMNS, row[2:2 + width], strict=True))
    listing = Listing.from_db(connection.alias, None,
                              [values[field.attname] for field in Listing._meta.concrete_fields])
    listing.offering = Offering.from_db(connection.alias, ["id", "status"], [listing.offering_id, offering_status])
    if outcome == "refused":
        _check_fill(listing, buyer=buyer, units=units, now=now)
        raise RuntimeError(f"trading_settle refused a fill of listing {listing_id} that _check_fill allows.")
    if outcome != "ok":
        raise RuntimeError(f"trading_settle answered {outcome!r}.")
    outbox_written()
    trade = Trade(
        pk=trade_id, listing=listing, offering_id=listing.offering_id, buyer=buyer, seller_id=listing.seller_id,
        units=units, price_per_unit=listing.price_per_unit if price_per_unit is None else price_per_unit,
        amount=amount, buyer_fee=buyer_fee, seller_fee=seller_fee, seller_cost_basis=sold_cost,
        journal_entry_id=entry_id, bid_id=bid_id, created_at=now,
    )
    trade._state.adding = False
    trade._state.db = connection.alias
    return Fill(trade=trade, listing=listing)


def _call_settle(sql: str, params: list, *, reference: str | None) -> tuple:
    """Run `trading_settle()`; its raised refusals become the gate's and the wallet's errors."""
    from wallet.services import hold_exceeded, insufficient_funds

    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except DatabaseError as error:
        raise_for_gate_refusal(error)
        cause = error.__cause__
        if getattr(cause, "sqlstate", None) != REFUSED_IN_DATABASE:
            raise
        figures = cause.diag.message_detail.split(" ")
        if cause.diag.message_primary == "hold_exceeded":
            held, total = (Decimal(figure) for figure in figures)
            raise hold_exceeded(held=held, reference=reference, total=total) from None
        kind, balance, after = figures
        raise insufficient_funds(kind=kind, balance=Decimal(balance), after=Decimal(after)) from None


def _publish_fill(fill: Fill) -> None:
    trade, listing = fill.trade, fill.listing
    events = [("trade.executed", {
        "trade_id": trade.pk, "listing_id": listing.pk, "offering_id": trade.offering_id, "buyer_id": trade.buyer_id,
        "seller_id": listing.seller_id, "units": trade.units, "price_per_unit": str(trade.price_per_unit),
        "amount": str(trade.amount), "bid_id": trade.bid_id,
    })]
    if listing.status == ListingStatus.FILLED:
        events.append(("listing.closed", _listing_closed_payload(listing)))
    events.append(("listing.changed", _listing_changed_payload(listing)))
    outbox_publish_many(events=events)


def _mark_sold_out_if_done(offering_id: int) -> None:
    inventory_units = Holding.objects.filter(offering_id=offering_id, owner__isnull=True).values_list(
        "units", flat=True).first()
    if not inventory_units:
        Offering.objects.filter(pk=offering_id, status=OfferingStatus.POSTED).update(status=OfferingStatus.SOLD_OUT)


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
            fill = _settle_in_database(listing_id=listing_id, buyer=buyer, units=units, price_per_unit=None,
                                       pay_from_hold_reference=None, bid_id=None, now=now, accounts=accounts)
        return fill.trade
    with service_atomic():
        listing = (Listing.objects.select_for_update(of=("self",)).select_related("offering")
                   .filter(pk=listing_id).first())
        if listing is None:
            raise NotFound("No such listing.")
        fill = _settle_with_orm(listing=listing, buyer=buyer, units=units, price_per_unit=listing.price_per_unit,
                                pay_from_hold_reference=None, bid_id=None, now=now)
        _publish_fill(fill)
    return fill.trade


# --- Events ---------------------------------------------------------------------------------

def _listing_changed_payload(listing: Listing) -> dict:
    return {"listing_id": listing.pk, "offering_id": listing.offering_id, "units_remaining": listing.units_remaining,
            "status": listing.status, "price_per_unit": str(listing.price_per_unit)}  # best_bid: bidding's


def _listing_closed_payload(listing: Listing) -> dict:
    return {"listing_id": listing.pk, "offering_id": listing.offering_id, "status": listing.status}


def _publish_listing_changed(listing: Listing) -> None:
    outbox_publish(topic="listing.changed", payload=_listing_changed_payload(listing))


def _publish_listing_closed(listing: Listing) -> None:
    outbox_publish_many(events=[("listing.closed", _listing_closed_payload(listing)),
                                ("listing.changed", _listing_changed_payload(listing))])
