"""Demo servicing: repayments distributed to the holders of the marketplace demo's offerings
(`world.listings`), with TDS (the large investor's interest crosses the yearly threshold).
Runs after trading's demo and before bidding's (INSTALLED_APPS order), through the services.
"""

from decimal import Decimal

from django.utils import timezone

from accounts.enums import Role
from accounts.tenancy import platform_organization
from servicing.services import distribution_record
from trading.models import OfferingCashFlow


def _scheduled(offering_id: int, *, first_only: bool) -> Decimal:
    flows = OfferingCashFlow.objects.filter(offering_id=offering_id).order_by("sequence")
    flows = flows[:1] if first_only else flows
    units = flows[0].offering.total_units if flows else 0
    return sum(((flow.principal + flow.interest) * units for flow in flows), Decimal("0.00"))


def seed(world) -> None:
    """Repayments: the large bullet offering repaid in full (its holders are paid, the units
    retire, the large investor's interest is taxed), and the first instalment of a monthly one."""
    admin = world.users.get(Role.ADMIN)
    listings = getattr(world, "listings", [])
    if admin is None or not listings:
        world.progress("servicing: skipped (no offerings posted)")
        return
    organization = platform_organization()
    today = timezone.localdate()
    plans = [(listings[0].offering_id, False)]
    plans += [(listing.offering_id, True) for listing in listings[2:3]]
    recorded = [distribution_record(organization=organization, offering_id=offering_id,
                                    amount=_scheduled(offering_id, first_only=first_only), received_on=today,
                                    reference=f"DEMO-REPAY-{offering_id}", actor=admin).distribution
                for offering_id, first_only in plans]
    for distribution in recorded:
        distribution.refresh_from_db()  # the outbox runs it after the record commits
    paid = sum(distribution.status == "paid" for distribution in recorded)
    world.progress(f"servicing: {len(recorded)} repayments recorded, {paid} distributed to holders")
