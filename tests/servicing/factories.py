"""Servicing test helpers: offerings big enough for TDS thresholds, holders who bought
through the real marketplace, and running a recorded repayment."""

from decimal import Decimal

from invoices.models import Counterparty, Program
from servicing.services import distribution_record
from tests.invoices.conftest import build_world
from tests.trading.factories import make_offering, post_primary, trader
from trading.services import listing_buy

# A day to build offerings on when a test's figures depend on the schedule's dates (the
# factories date invoices from today, and interest follows the days in each period).
BUILT_ON = "2026-11-22 10:00:00+05:30"


def big_world():
    """A world whose program finances up to ₹1 crore per invoice."""
    world = build_world(signatures_required=1)
    Program.objects.filter(pk=world.program.pk).update(max_limit_amount=Decimal("100000000.00"),
                                                        max_invoice_amount=Decimal("50000000.00"))
    Counterparty.objects.filter(pk=world.counterparty.pk).update(limit_amount=Decimal("50000000.00"))
    return world


def big_offering(*, amount: str = "2500000.00", total_units: int = 100, **kwargs):
    """Finance 80% of `amount` (₹20 lakh by default), cut into `total_units` units."""
    return make_offering(world=big_world(), amount=amount, total_units=total_units, price_per_unit=None,
                         target_xirr="0.12", **kwargs)


def holders(offering, units: list[int], *, price: str | None = None):
    """Post the whole inventory and have one new trader buy each of `units`; returns them."""
    price = price or str(offering.issue_price)
    listing = post_primary(offering, units=offering.total_units, price=price)
    people = []
    for count in units:
        buyer = trader(str(Decimal(price) * count * 2 + 1000))
        listing_buy(buyer=buyer, listing_id=listing.pk, units=count)
        people.append(buyer)
    return people, listing


def record(offering, amount: str, reference: str = "UTR-1", received_on=None):
    from django.utils import timezone

    return distribution_record(organization=offering.organization, offering_id=offering.pk, amount=Decimal(amount),
                               received_on=received_on or timezone.localdate(), reference=reference,
                               actor=offering.world.admin).distribution
