"""Demo bids: an investor's sell post with bids in every state — open (one expiring in three
days), accepted, partially accepted, withdrawn, rejected and expired — all through the
services, so the holds, the ledger and `reconcile` stay clean.

It uses an open investor listing if the marketplace's demo made one; otherwise it makes
its own from a financed invoice (`world.financed_invoices`, left by the invoices demo):
fractionalize it, post it on the primary market, let the first KYC-verified investor buy
some units and post part of them for resale."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.enums import Role
from bidding.services import bid_accept, bid_expire_due, bid_place, bid_reject, bid_withdraw
from kyc.selectors import onboarding_status
from trading.enums import ListingKind, ListingStatus
from trading.models import Listing, Offering
from trading.services import listing_buy, listing_post_primary, listing_post_secondary, offering_fractionalize
from wallet.selectors import wallet_balance


def _traders(world) -> list:
    return [user for user in world.users.get("investors", []) if onboarding_status(user=user)["can_trade"]]


def _investor_listing(world, seller):
    listing = (Listing.objects.filter(kind=ListingKind.SECONDARY, status=ListingStatus.OPEN, seller=seller,
                                      units_remaining__gte=6).order_by("id").first())
    if listing is not None:
        return listing
    admin = world.users.get(Role.ADMIN)
    invoice = next((invoice for invoice in getattr(world, "financed_invoices", [])
                    if not Offering.objects.filter(invoice=invoice).exists()), None)
    if admin is None or invoice is None:
        return None
    finance_amount = invoice.finance_requests.order_by("-id").first().finance_amount
    total_units = next(n for n in (100, 50, 40, 25, 20, 10, 8, 5, 4, 2, 1) if int(finance_amount * 100) % n == 0)
    face_value = finance_amount / total_units
    offering = offering_fractionalize(organization=invoice.organization, invoice_id=invoice.pk,
                                      total_units=total_units, schedule_kind="bullet",
                                      price_per_unit=face_value.quantize(Decimal("0.01")), created_by=admin)
    primary = listing_post_primary(organization=invoice.organization, offering_id=offering.pk, units=total_units,
                                   price_per_unit=offering.issue_price, created_by=admin)
    affordable_units = int(wallet_balance(user=seller).available / (offering.issue_price * Decimal("1.01")))
    units = min(20, total_units, affordable_units)
    if units < 6:
        return None
    listing_buy(buyer=seller, listing_id=primary.pk, units=units)
    ask = (offering.issue_price * Decimal("1.02")).quantize(Decimal("0.01"))
    return listing_post_secondary(seller=seller, offering_id=offering.pk, units=units, price_per_unit=ask)


def seed(world) -> None:
    traders = _traders(world)
    if len(traders) < 3:
        world.progress("bids: skipped (needs three investors who can trade)")
        return
    seller, first, second = traders[:3]
    listing = _investor_listing(world, seller)
    if listing is None or listing.units_remaining < 6:
        world.progress("bids: skipped (no investor listing and no financed invoice to make one)")
        return
    ask = listing.price_per_unit
    below = [(ask * Decimal(share)).quantize(Decimal("0.01")) for share in ("0.97", "0.95", "0.93", "0.90")]
    units = max(2, min(listing.min_units, listing.units_remaining))

    def affordable(user, count, price) -> bool:
        return wallet_balance(user=user).available >= count * price * Decimal("1.01")

    states = []
    # The first investor: a bid the seller rejects, then one accepted in part (the rest stays open).
    if affordable(first, units * 2, below[0]):
        rejected = bid_place(bidder=first, listing_id=listing.pk, units=units, price_per_unit=below[3])
        bid_reject(seller=seller, bid_id=rejected.pk)
        partial = bid_place(bidder=first, listing_id=listing.pk, units=units * 2, price_per_unit=below[0])
        bid_accept(seller=seller, bid_id=partial.pk, units=units)
        states += ["rejected", "partially_accepted"]
    # A third investor (in a small world the second, before their own bids): a bid the seller accepts in full,
    # and one that lived five minutes (the beat job's sweep, run as if ten minutes on, expires it).
    third = traders[3] if len(traders) > 3 else second
    listing.refresh_from_db()
    if affordable(third, units * 2, below[1]) and listing.units_remaining >= units:
        accepted = bid_place(bidder=third, listing_id=listing.pk, units=units, price_per_unit=below[1])
        bid_accept(seller=seller, bid_id=accepted.pk)
        now = timezone.now()
        bid_place(bidder=third, listing_id=listing.pk, units=units, price_per_unit=below[3],
                  expires_at=now + timedelta(minutes=5), now=now)
        bid_expire_due(now=now + timedelta(minutes=10))
        states += ["accepted", "expired"]
    # The second investor: a withdrawn bid, then an open one that expires in three days.
    if affordable(second, units, below[1]):
        withdrawn = bid_place(bidder=second, listing_id=listing.pk, units=units, price_per_unit=below[2])
        bid_withdraw(bidder=second, bid_id=withdrawn.pk)
        bid_place(bidder=second, listing_id=listing.pk, units=units, price_per_unit=below[1],
                  expires_at=timezone.now() + timedelta(days=3))
        states += ["withdrawn", "open"]
    world.progress(f"bids on listing {listing.pk}: {', '.join(states) or 'none (bidders lack funds)'}")
