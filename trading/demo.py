"""Demo marketplace: the primary platform's financed invoices cut into offerings of every
schedule kind (`world.offerings` of them), posted for sale on the primary market;
investors buy, resell (secondary listings) and buy from each other. All through the
services, so the ledger, the units and `reconcile` stay clean. Leaves `world.listings`
for servicing's demo and an investor's sell post with room for the bidding demo.
"""

from decimal import Decimal

import irr
from accounts.enums import Role
from accounts.tenancy import platform_organization
from core.errors import DomainError
from kyc.selectors import user_can_trade
from trading.services import listing_buy, listing_post_primary, listing_post_secondary, offering_fractionalize

# The first (large, ~115-day) invoice is a bullet; the others cycle through the kinds that
# pay monthly, falling back to a bullet where the tenor is too short for one.
PLANS = [
    ("bullet", "", {"target_xirr": Decimal("0.13")}),
    ("equal_principal", "monthly", {"target_xirr": Decimal("0.125")}),
    ("amortizing", "monthly", {"target_xirr": Decimal("0.125")}),
    ("balloon", "monthly", {"target_xirr": Decimal("0.13"), "balloon_share": Decimal("0.70")}),
    ("interest_only", "monthly", {"target_xirr": Decimal("0.12")}),
]
LARGE_INVESTOR_SHARE = Decimal("0.40")  # of the large bullet offering: enough interest for TDS


def _fractionalize(organization, admin, invoice, plan):
    kind, frequency, pricing = plan
    principal = invoice.finance_requests.order_by("-id").first().finance_amount
    units = irr.divisible_unit_counts(principal, near=100)[0]
    try:
        return offering_fractionalize(organization=organization, invoice_id=invoice.pk, total_units=units,
                                      schedule_kind=kind, frequency=frequency, created_by=admin, **pricing)
    except DomainError:  # e.g. a schedule too short for monthly payments: a bullet always fits
        return offering_fractionalize(organization=organization, invoice_id=invoice.pk, total_units=units,
                                      schedule_kind="bullet", target_xirr=pricing["target_xirr"], created_by=admin)


def _buy(buyer, listing, units) -> bool:
    try:
        listing_buy(buyer=buyer, listing_id=listing.pk, units=units)
    except DomainError:
        return False  # not enough money or units left: fine for a demo
    return True


def seed(world) -> None:
    admin = world.users.get(Role.ADMIN)
    financed = getattr(world, "financed_invoices", [])[: world.offerings]
    if admin is None or not financed:
        world.progress("marketplace: skipped (no financed invoices)")
        return
    organization = platform_organization()
    listings = []
    for number, invoice in enumerate(financed):
        plan = PLANS[0] if number == 0 else PLANS[1 + (number - 1) % (len(PLANS) - 1)]
        offering = _fractionalize(organization, admin, invoice, plan)
        listings.append(listing_post_primary(organization=organization, offering_id=offering.pk,
                                             units=offering.total_units, price_per_unit=offering.issue_price,
                                             min_units=1, created_by=admin))
    world.listings = listings
    traders = [user for user in world.users.get("investors", []) if user_can_trade(user=user)]
    large = world.users.get("large_investor")
    trades = 0
    if large is not None:
        big = listings[0]
        trades += _buy(large, big, int(big.units_offered * LARGE_INVESTOR_SHARE))
    for number, buyer in enumerate(traders):
        for listing in world.rng.sample(listings, k=1 + number % len(listings)):
            trades += _buy(buyer, listing, 1 + world.rng.randrange(5))
    resale = _resales(world, traders, listings)
    trades += resale
    world.progress(f"marketplace: {len(listings)} offerings posted, {trades} trades ({resale} secondary)")


def _resales(world, traders, listings) -> int:
    """The first trader buys a block and offers most of it (the bidding demo bids on it); the
    second offers a unit that the third buys: a secondary trade."""
    if len(traders) < 3 or len(listings) < 2:
        return 0
    from trading.models import Holding

    seller, reseller, buyer = traders[:3]
    block = listings[1]
    if _buy(seller, block, 10):
        listing_post_secondary(seller=seller, offering_id=block.offering_id, units=8,
                               price_per_unit=block.price_per_unit + Decimal("3.00"))
    holding = (Holding.objects.filter(owner=reseller, units__gt=0).exclude(offering_id=listings[0].offering_id)
               .order_by("pk").first())
    if holding is None:
        return 0
    resale = listing_post_secondary(seller=reseller, offering_id=holding.offering_id, units=1,
                                    price_per_unit=holding.offering.issue_price + Decimal("1.00"))
    return int(_buy(buyer, resale, 1))
