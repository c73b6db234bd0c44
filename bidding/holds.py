"""The bidding side of `reconcile`'s hold check: every active bid's `held_amount`, keyed by
the wallet reference it holds under. The wallet reports any `bid:` hold that differs."""

from decimal import Decimal

from wallet.holds import register_hold_provider


@register_hold_provider("bid")
def bid_holds() -> dict[str, Decimal]:
    from bidding.models import Bid

    return {f"bid:{pk}": held for pk, held in Bid.objects.filter(held_amount__gt=0).values_list("pk", "held_amount")}
