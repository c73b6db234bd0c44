"""Listings: post (primary, from the platform's inventory; secondary, from an investor's
holding), cancel, close all of an offering's, expire. Buying from a listing is
`trading.settlement`.

Each service runs in one transaction and locks in the global order: offering (only when
its status changes) → listing → holdings by id. Outer services are wrapped in
`retry_on_deadlock`, which retries a deadlock or serialization failure only at the
outermost level.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

import irr
from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from core.money import fit_decimal, to_money
from core.retry import retry_on_deadlock
from core.transactions import service_atomic
from kyc.permissions import require_can_trade
from trading.enums import ListingKind, ListingStatus, OfferingStatus
from trading.errors import InsufficientUnits, ListingClosed, OfferingNotTradable
from trading.models import Holding, Listing, Offering
from trading.selectors import offering_remaining_flows
from trading.services.offerings import TRADABLE, offering_mark_posted
from trading.settlement.rules import publish_listing_changed, publish_listing_closed


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
        offering_mark_posted(offering=offering)
        audit_record(action="listing.posted", actor=created_by, target=listing,
                     data={"units": units, "price_per_unit": price_per_unit, "kind": "primary"})
        publish_listing_changed(listing)
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
        publish_listing_changed(listing)
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
    publish_listing_closed(listing)


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
