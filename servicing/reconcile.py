"""Servicing's part of `reconcile` (registered in `servicing.apps`):

- each offering's `escrow` holds exactly the cash of its pending distributions (a paid one
  empties what it received);
- each paid distribution adds up: its lines' gross plus the spread equals what it paid out,
  and the lines' TDS equals the distribution's.
"""

from collections import defaultdict

from django.db.models import Sum

from core.money import ZERO, to_money
from servicing.enums import DistributionStatus
from servicing.models import Distribution, DistributionLine
from wallet.enums import AccountKind
from wallet.selectors import wallet_system_balance


def servicing_differences() -> list[str]:
    differences: list[str] = []
    # Sums are quantized: on SQLite an aggregate comes back without its two places.
    pending = defaultdict(lambda: ZERO, ((offering_id, to_money(total)) for offering_id, total in Distribution.objects
                                         .filter(status=DistributionStatus.PENDING)
                                         .values_list("offering_id").annotate(total=Sum("amount"))))
    # Servicing is the only writer of offering escrows; one balance query per offering serviced.
    for offering_id in Distribution.objects.order_by("offering_id").values_list("offering_id", flat=True).distinct():
        balance = wallet_system_balance(kind=AccountKind.ESCROW, offering_id=offering_id)
        if balance != pending[offering_id]:
            differences.append(f"offering {offering_id}: escrow holds {balance} but pending distributions "
                               f"total {pending[offering_id]}")

    lines = {row["distribution_id"]: {"gross": to_money(row["gross"]), "tds": to_money(row["tds"])}
             for row in DistributionLine.objects.values("distribution_id").annotate(gross=Sum("gross"), tds=Sum("tds"))}
    for distribution_id, amount, spread, tds in Distribution.objects.filter(
            status=DistributionStatus.PAID).values_list("pk", "amount", "spread", "tds"):
        row = lines.get(distribution_id, {"gross": ZERO, "tds": ZERO})
        if row["gross"] + spread != amount or row["tds"] != tds:
            differences.append(f"distribution {distribution_id}: lines {row['gross']} + spread {spread} != {amount} "
                               f"or lines' TDS {row['tds']} != {tds}")
    return differences
