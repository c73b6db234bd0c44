"""Bids on investors' listings (DESIGN.md §6).

- `Bid(listing, bidder, units, price_per_unit, held_amount, status, …)`: an offer to buy
  `units` more units of a listing below its ask. `units` is what the bid still wants (it
  shrinks as the seller accepts parts); `units_filled` is what accepted parts bought.
  `seller` is copied from the listing (it never changes) so "bids on my listings" is one
  indexed filter.
- The money: while a bid is `open` or `partially_accepted` the wallet holds
  `units × price + buyer fee` for it under the reference `bid:<id>` (`WalletHold`), and
  `held_amount` is the bid's own view of that hold. Both change together, only under the
  bid's row lock, so a hold is released or paid at most once; `reconcile` compares the two
  (see `bidding/holds.py`). Every other status holds nothing (a CHECK says so).
- One active bid per bidder per listing: a partial unique index.
- `BidEvent`: the append-only history of every change (on PostgreSQL a trigger refuses
  UPDATE and DELETE), with the state after the change and the trade it made, if any.

Lock order (every service): listing, then bid, then holdings, then wallet hold and ledger
accounts — the order buying uses, so bids and buys never deadlock each other.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from bidding.enums import ACTIVE_STATUSES, BidEventKind, BidStatus
from core.money import ZERO, MoneyField


class Bid(models.Model):
    listing = models.ForeignKey("trading.Listing", on_delete=models.PROTECT, related_name="bids")
    bidder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bids_placed")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bids_received",
                               help_text="The listing's seller (copied; a listing's seller never changes).")
    units = models.PositiveIntegerField(help_text="Units the bid still wants.")
    units_filled = models.PositiveIntegerField(default=0, help_text="Units bought through accepted parts.")
    price_per_unit = MoneyField()
    held_amount = MoneyField(default=ZERO, help_text="What the wallet holds for this bid (reference bid:<id>).")
    status = models.CharField(max_length=20, choices=BidStatus.choices, default=BidStatus.OPEN)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=("bidder", "listing"), condition=Q(status__in=ACTIVE_STATUSES),
                                    name="bid_one_active_per_bidder_listing"),
            models.CheckConstraint(condition=Q(price_per_unit__gt=0), name="bid_price_positive"),
            models.CheckConstraint(condition=Q(held_amount__gte=0), name="bid_held_nonneg"),
            models.CheckConstraint(condition=~Q(status__in=ACTIVE_STATUSES) | Q(units__gt=0),
                                   name="bid_active_wants_units"),
            models.CheckConstraint(condition=Q(status__in=ACTIVE_STATUSES) | Q(held_amount=0),
                                   name="bid_closed_holds_nothing"),
            models.CheckConstraint(condition=~Q(bidder=F("seller")), name="bid_not_on_own_listing"),
        ]
        indexes = [
            models.Index(fields=("listing", "status")),
            models.Index(fields=("bidder", "status")),
            models.Index(fields=("seller", "status")),
            models.Index(fields=("status", "expires_at")),
        ]

    def __str__(self) -> str:
        return f"Bid {self.pk}: {self.units} × {self.price_per_unit} ({self.status})"

    @property
    def reference(self) -> str:
        """The wallet hold's reference."""
        return f"bid:{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class BidEvent(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=BidEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", help_text="Empty for the system (expiry, listing end).")
    # The bid's state after the change.
    status = models.CharField(max_length=20, choices=BidStatus.choices)
    units = models.PositiveIntegerField()
    units_filled = models.PositiveIntegerField()
    price_per_unit = MoneyField()
    held_amount = MoneyField()
    trade = models.ForeignKey("trading.Trade", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=("bid", "id"))]

    def __str__(self) -> str:
        return f"bid {self.bid_id} {self.kind}"
