"""Units and their trading: the second ledger (DESIGN.md §3 and §6).

- `Holding(owner, offering, units, units_listed)`: who holds how many units of an offering.
  The platform's inventory is the holding whose owner is null (one per offering). The
  database enforces `units >= units_listed >= 0`.
- Every change of units is a `UnitTransfer` row tied to the trade or event that caused it,
  so for each offering the holdings sum to its total units, always (`reconcile` checks it).
- `Listing`: units offered for sale at a fixed price by the platform (primary) or an
  investor (secondary). Posting moves units from free to `units_listed`; cancelling,
  expiring or selling moves them out again.
- `Trade`: one fill of a listing (a buy, or an accepted bid), with its journal entry.

Lock order (every service): listing, then bids, then holdings by id, then ledger accounts.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.money import ZERO, MoneyField
from trading.enums import ListingKind, ListingStatus, UnitTransferKind


class Holding(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="holdings", help_text="Empty for the platform's inventory.")
    offering = models.ForeignKey("invoices.Offering", on_delete=models.PROTECT, related_name="holdings")
    units = models.PositiveIntegerField(default=0)
    units_listed = models.PositiveIntegerField(default=0)
    cost_basis = MoneyField(default=ZERO, help_text="What the units now held cost (fees excluded).")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("owner", "offering"), name="holding_owner_offering_uniq"),
            models.UniqueConstraint(fields=("offering",), condition=Q(owner__isnull=True),
                                    name="holding_one_inventory_per_offering"),
            models.CheckConstraint(condition=Q(units__gte=F("units_listed")), name="holding_listed_within_units"),
            models.CheckConstraint(condition=Q(units_listed__gte=0), name="holding_listed_nonneg"),
            models.CheckConstraint(condition=Q(cost_basis__gte=0), name="holding_cost_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id or 'platform'}: {self.units} of offering {self.offering_id}"

    @property
    def is_inventory(self) -> bool:
        return self.owner_id is None

    @property
    def free_units(self) -> int:
        return self.units - self.units_listed


class Listing(models.Model):
    offering = models.ForeignKey("invoices.Offering", on_delete=models.PROTECT, related_name="listings")
    kind = models.CharField(max_length=10, choices=ListingKind.choices)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="listings", help_text="Empty when the platform sells its inventory.")
    seller_holding = models.ForeignKey(Holding, on_delete=models.PROTECT, related_name="listings")
    units_offered = models.PositiveIntegerField()
    units_remaining = models.PositiveIntegerField()
    price_per_unit = MoneyField()
    min_units = models.PositiveIntegerField(default=1)
    opens_at = models.DateTimeField(default=timezone.now)
    closes_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ListingStatus.choices, default=ListingStatus.OPEN)
    xirr = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True,
                               help_text="Buyer's XIRR at this price, as of `xirr_as_of`.")
    xirr_as_of = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.CheckConstraint(condition=Q(units_remaining__lte=F("units_offered")),
                                   name="listing_remaining_within_offered"),
            models.CheckConstraint(condition=Q(units_offered__gt=0), name="listing_offered_positive"),
            models.CheckConstraint(condition=Q(price_per_unit__gt=0), name="listing_price_positive"),
            models.CheckConstraint(condition=Q(min_units__gte=1), name="listing_min_units_positive"),
            models.CheckConstraint(condition=~Q(status="open") | Q(units_remaining__gt=0),
                                   name="listing_open_has_units"),
            models.CheckConstraint(condition=Q(kind="primary", seller__isnull=True)
                                   | Q(kind="secondary", seller__isnull=False), name="listing_seller_matches_kind"),
        ]
        indexes = [
            models.Index(fields=("status", "closes_at")),
            models.Index(fields=("status", "xirr")),
            models.Index(fields=("seller", "status")),
        ]

    def __str__(self) -> str:
        return f"Listing {self.pk}: {self.units_remaining}/{self.units_offered} @ {self.price_per_unit}"

    def is_open_at(self, moment) -> bool:
        return (
            self.status == ListingStatus.OPEN
            and self.opens_at <= moment
            and (self.closes_at is None or moment < self.closes_at)
        )


class Trade(models.Model):
    # buyer, seller and offering lead the (…, created_at) indexes below, which serve their
    # lookups too, so they get no index of their own: a trade is written on every buy.
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="trades")
    offering = models.ForeignKey("invoices.Offering", on_delete=models.PROTECT, related_name="trades", db_index=False)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases",
                              db_index=False)
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="sales", db_index=False)
    units = models.PositiveIntegerField()
    price_per_unit = MoneyField()
    amount = MoneyField()
    buyer_fee = MoneyField(default=ZERO)
    seller_fee = MoneyField(default=ZERO)
    seller_cost_basis = MoneyField(default=ZERO, help_text="Cost of the units sold, at the seller's average price.")
    journal_entry = models.ForeignKey("wallet.JournalEntry", on_delete=models.PROTECT, related_name="+")
    bid_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Set when an accepted bid made it.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.CheckConstraint(condition=Q(units__gt=0), name="trade_units_positive"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="trade_amount_positive"),
            models.CheckConstraint(condition=~Q(buyer=F("seller")), name="trade_no_self_trade"),
        ]
        indexes = [models.Index(fields=("buyer", "created_at")), models.Index(fields=("seller", "created_at")),
                   models.Index(fields=("offering", "created_at"))]

    def __str__(self) -> str:
        return f"Trade {self.pk}: {self.units} × {self.price_per_unit}"

    @property
    def total(self):
        return self.amount + self.buyer_fee


class UnitTransfer(models.Model):
    offering = models.ForeignKey("invoices.Offering", on_delete=models.PROTECT, related_name="unit_transfers")
    from_holding = models.ForeignKey(Holding, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     help_text="Empty when units are issued.")
    to_holding = models.ForeignKey(Holding, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   help_text="Empty when units are retired.")
    units = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=UnitTransferKind.choices)
    trade = models.ForeignKey(Trade, null=True, blank=True, on_delete=models.PROTECT, related_name="unit_transfers")
    reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(units__gt=0), name="unit_transfer_units_positive"),
            models.CheckConstraint(condition=Q(from_holding__isnull=False) | Q(to_holding__isnull=False),
                                   name="unit_transfer_has_a_side"),
        ]

    def __str__(self) -> str:
        return f"{self.units} units ({self.kind})"

