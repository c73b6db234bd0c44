"""Tax's part of `reconcile` (registered in `tax.apps`): the TDS deducted (every
`TDSDeduction.tds`) equals the `tds_payable` account."""

from django.db.models import Sum

from core.money import ZERO, to_money
from tax.models import TDSDeduction
from wallet.enums import AccountKind
from wallet.selectors import wallet_system_balance


def tds_differences() -> list[str]:
    # Quantized: on SQLite an aggregate comes back without its two places.
    deducted = to_money(TDSDeduction.objects.aggregate(total=Sum("tds"))["total"] or ZERO)
    payable = wallet_system_balance(kind=AccountKind.TDS_PAYABLE)
    if deducted != payable:
        return [f"tds: deductions sum to {deducted} but tds_payable holds {payable}"]
    return []
