"""The units half of `reconcile`: for every offering, holdings (the platform's inventory
included) add up to its total units, each holding equals the sum of its unit transfers, no
holding lists more than it holds, and open listings account for every listed unit."""

from collections import defaultdict

from django.db.models import Q, Sum

from trading.enums import ListingStatus
from trading.models import Holding, Listing, Offering, UnitTransfer


def units_differences() -> list[str]:
    differences: list[str] = []
    held = dict(Holding.objects.values_list("offering_id").annotate(total=Sum("units")))
    retired = dict(
        UnitTransfer.objects.filter(to_holding__isnull=True).values_list("offering_id").annotate(total=Sum("units"))
    )
    for offering_id, total_units in Offering.objects.values_list("id", "total_units"):
        holdings_total = held.get(offering_id, 0) + retired.get(offering_id, 0)
        if holdings_total != total_units and offering_id in held:
            differences.append(
                f"offering {offering_id}: holdings {held.get(offering_id, 0)} + retired "
                f"{retired.get(offering_id, 0)} != total units {total_units}"
            )

    incoming = dict(UnitTransfer.objects.filter(to_holding__isnull=False).values_list("to_holding_id")
                    .annotate(total=Sum("units")))
    outgoing = dict(UnitTransfer.objects.filter(from_holding__isnull=False).values_list("from_holding_id")
                    .annotate(total=Sum("units")))
    listed = defaultdict(int, Listing.objects.filter(status=ListingStatus.OPEN).values_list("seller_holding_id")
                        .annotate(total=Sum("units_remaining")))
    for holding_id, units, units_listed in Holding.objects.filter(
        Q(units__gt=0) | Q(units_listed__gt=0) | Q(pk__in=incoming)
    ).values_list("id", "units", "units_listed"):
        moved = incoming.get(holding_id, 0) - outgoing.get(holding_id, 0)
        if moved != units:
            differences.append(f"holding {holding_id}: units {units} but its transfers sum to {moved}")
        if units_listed > units:
            differences.append(f"holding {holding_id}: lists {units_listed} of {units} units")
        if listed[holding_id] != units_listed:
            differences.append(
                f"holding {holding_id}: units_listed {units_listed} but open listings offer {listed[holding_id]}"
            )
    return differences
