"""Servicing models: what was received for an offering and who got what (the tax withheld on
each line is the tax app's: `tax.models`).

- `Distribution`: one repayment received for an offering (unique per offering and
  reference), `pending` until the job runs, then `paid`. Its cash waits in the offering's
  `escrow` account between the two (see docs/adr/0007-servicing.md).
- `DistributionCashFlow`: how much of each scheduled cash flow (in total, over all units)
  a distribution paid. The exact record of arrears; `OfferingCashFlow.paid_*` is the per-
  unit view of it (rounded down to paise until a flow is paid in full).
- `DistributionLine`: one holder's share on the record date (the platform's inventory is a
  line with no user): principal + interest = gross, gross - tds = net.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.money import ZERO, MoneyField, money_expression
from servicing.enums import DistributionSource, DistributionStatus


class Distribution(models.Model):
    offering = models.ForeignKey("trading.Offering", on_delete=models.PROTECT, related_name="distributions")
    reference = models.CharField(max_length=100)
    amount = MoneyField(help_text="Everything this distribution pays out (what sits in escrow for it).")
    received_on = models.DateField()
    source = models.CharField(max_length=10, choices=DistributionSource.choices, default=DistributionSource.ADMIN)
    interest_topup = MoneyField(default=ZERO, help_text="Invoice repayments: the holders' interest, funded from "
                                                        "the interest the platform took upfront.")
    status = models.CharField(max_length=10, choices=DistributionStatus.choices, default=DistributionStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    receipt_entry = models.ForeignKey("wallet.JournalEntry", on_delete=models.PROTECT, related_name="+")
    # Filled when paid.
    journal_entry = models.ForeignKey("wallet.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    record_date = models.DateField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    principal = MoneyField(default=ZERO)
    interest = MoneyField(default=ZERO)
    tds = MoneyField(default=ZERO)
    spread = MoneyField(default=ZERO, help_text="Received beyond what the schedule owed: to `fees`.")
    shortfall = MoneyField(default=ZERO, help_text="Owed on the due cash flows and not paid (stays due).")
    matured = models.BooleanField(default=False)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=("offering", "reference"), name="distribution_offering_reference_uniq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="distribution_amount_positive"),
            models.CheckConstraint(condition=~Q(status="paid")
                                   | Q(amount=money_expression(F("principal") + F("interest") + F("spread"))),
                                   name="distribution_paid_adds_up"),
        ]
        indexes = [models.Index(fields=("offering", "status"))]

    def __str__(self) -> str:
        return f"Distribution {self.pk} of offering {self.offering_id}: {self.amount} ({self.status})"


class DistributionCashFlow(models.Model):
    distribution = models.ForeignKey(Distribution, on_delete=models.PROTECT, related_name="cash_flow_parts")
    cash_flow = models.ForeignKey("trading.OfferingCashFlow", on_delete=models.PROTECT, related_name="+")
    principal = MoneyField(help_text="Over all units.")
    interest = MoneyField(help_text="Over all units.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("distribution", "cash_flow"), name="distribution_cash_flow_uniq"),
            models.CheckConstraint(condition=Q(principal__gte=0) & Q(interest__gte=0),
                                   name="distribution_cash_flow_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.distribution_id} → cash flow {self.cash_flow_id}: {self.principal} + {self.interest}"


class DistributionLine(models.Model):
    distribution = models.ForeignKey(Distribution, on_delete=models.PROTECT, related_name="lines")
    offering = models.ForeignKey("trading.Offering", on_delete=models.PROTECT, related_name="+")
    holding = models.ForeignKey("trading.Holding", on_delete=models.PROTECT, related_name="distribution_lines")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="distribution_lines", help_text="Empty for the platform's inventory.")
    units = models.PositiveIntegerField()
    principal = MoneyField()
    interest = MoneyField()
    gross = MoneyField()
    tds = MoneyField(default=ZERO)
    net = MoneyField()
    paid_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=("distribution", "holding"), name="distribution_line_holding_uniq"),
            models.CheckConstraint(condition=Q(gross=money_expression(F("principal") + F("interest"))),
                                   name="distribution_line_gross"),
            models.CheckConstraint(condition=Q(net=money_expression(F("gross") - F("tds"))),
                                   name="distribution_line_net"),
            models.CheckConstraint(condition=Q(principal__gte=0) & Q(interest__gte=0) & Q(tds__gte=0)
                                   & Q(net__gte=0), name="distribution_line_nonneg"),
        ]
        indexes = [models.Index(fields=("user", "paid_on")), models.Index(fields=("user", "offering"))]

    def __str__(self) -> str:
        return f"{self.user_id or 'platform'}: {self.gross} - {self.tds} = {self.net}"
