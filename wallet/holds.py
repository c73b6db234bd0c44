"""Hold providers: who owns each hold, so `reconcile` can compare two views of held money.

The wallet records, per reference (`bid:42`), how much it holds (`WalletHold`). The app that
owns the reference keeps its own view (`Bid.held_amount`). An app registers a provider for
its reference prefix, typically in its `handlers.py` or `AppConfig.ready()`:

    from wallet.holds import register_hold_provider

    @register_hold_provider("bid")
    def open_bid_holds() -> dict[str, Decimal]:
        return {f"bid:{bid.id}": bid.held_amount for bid in Bid.objects.filter(held_amount__gt=0)}

The provider returns every reference of its prefix that should hold money now, with the
amount. `reconcile` reports any reference where the two views differ, and any open hold
whose prefix no provider claims (money held for nobody).
"""

from collections.abc import Callable
from decimal import Decimal

HoldProvider = Callable[[], dict[str, Decimal]]
_providers: dict[str, HoldProvider] = {}


def register_hold_provider(prefix: str):
    if not prefix or ":" in prefix:
        raise ValueError("A hold provider prefix is the part of the reference before ':'.")

    def register(function: HoldProvider) -> HoldProvider:
        _providers[prefix] = function
        return function

    return register


def unregister_hold_provider(prefix: str) -> None:
    _providers.pop(prefix, None)


def hold_providers() -> dict[str, HoldProvider]:
    return dict(_providers)


def reference_prefix(reference: str) -> str:
    return reference.split(":", 1)[0]
