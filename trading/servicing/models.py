"""Servicing models: what was received for an offering, who got what, and the tax withheld.

- `Distribution`: one repayment received for an offering (unique per offering and
  reference), `pending` until the job runs, then `paid`. Its cash waits in the offering's
  `escrow` account between the two (see docs/adr/0007-servicing.md).
- `DistributionCashFlow`: how much of each scheduled cash flow (in total, over all units)
  a distribution paid. The exact record of arrears; `OfferingCashFlow.paid_*` is the per-
  unit view of it (rounded down to paise until a flow is paid in full).
- `DistributionLine`: one holder's share on the record date (the platform's inventory is a
  line with no user): principal + interest = gross, gross - tds = net.
- `TaxRule`: the TDS rule in force (section code, rates with and without a valid PAN,
  yearly threshold, effective dates) — data, seeded by a migration.
- `TaxDeclaration`: an investor's Form 15G/15H for one financial year, accepted by staff.
- `TDSDeduction`: one row per line whose interest was brought to tax (or declared),
  `gross = net + tds`; these rows sum to the `tds_payable` account.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.money import ZERO, MoneyField, money_expression
from trading.servicing.enums import (
    DeclarationForm,
    DeclarationStatus,
    DeductionReason,
    DistributionSource,
    DistributionStatus,
    TaxRuleKind,
)

__all__ = ["Distribution", "DistributionCashFlow", "DistributionLine", "TDSDeduction", "TaxDeclaration", "TaxRule"]

RATE = {"max_digits": 6, "decimal_places": 4}


class Distribution(models.Model):
    offering = models.ForeignKey("invoices.Offering", on_delete=models.PROTECT, related_name="distributions")
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
    cash_flow = models.ForeignKey("invoices.OfferingCashFlow", on_delete=models.PROTECT, related_name="+")
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
    offering = models.ForeignKey("invoices.Offering", on_delete=models.PROTECT, related_name="+")
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


class TaxRule(models.Model):
    kind = models.CharField(max_length=16, choices=TaxRuleKind.choices, default=TaxRuleKind.INTEREST)
    section = models.CharField(max_length=32, help_text="Section code printed on statements and 26Q.")
    description = models.CharField(max_length=255, blank=True)
    rate_with_pan = models.DecimalField(**RATE, help_text="0.1000 = 10%")
    rate_without_pan = models.DecimalField(**RATE, help_text="No valid (or an inoperative) PAN.")
    no_pan_section = models.CharField(max_length=32, blank=True, help_text="e.g. 206AA")
    yearly_threshold = MoneyField(help_text="Interest per investor per financial year below which nothing is withheld.")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("kind", "-effective_from")
        constraints = [
            models.UniqueConstraint(fields=("kind", "effective_from"), name="tax_rule_kind_from_uniq"),
            models.CheckConstraint(condition=Q(rate_with_pan__gte=0, rate_with_pan__lte=1)
                                   & Q(rate_without_pan__gte=0, rate_without_pan__lte=1), name="tax_rule_rates"),
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                                   name="tax_rule_dates"),
        ]

    def __str__(self) -> str:
        return f"{self.section} from {self.effective_from}"


def _declaration_path(instance: "TaxDeclaration", filename: str) -> str:
    return f"tax-declarations/{uuid.uuid4().hex}.pdf"


class TaxDeclaration(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tax_declarations")
    financial_year = models.CharField(max_length=7, help_text="2026-27")
    form = models.CharField(max_length=3, choices=DeclarationForm.choices)
    file = models.FileField(upload_to=_declaration_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=DeclarationStatus.choices, default=DeclarationStatus.PENDING)
    note = models.CharField(max_length=255, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.UniqueConstraint(fields=("user", "financial_year"), condition=~Q(status="rejected"),
                                    name="tax_declaration_one_live_per_year"),
        ]
        indexes = [models.Index(fields=("status", "submitted_at"))]

    def __str__(self) -> str:
        return f"{self.form} {self.financial_year} of user {self.user_id} ({self.status})"


class TDSDeduction(models.Model):
    """`gross` is the interest this deduction was computed on: the line's interest, or at
    catch-up all of the year's interest not yet brought to tax. `gross = net + tds`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tds_deductions")
    distribution_line = models.OneToOneField(DistributionLine, on_delete=models.PROTECT, related_name="deduction")
    tax_rule = models.ForeignKey(TaxRule, on_delete=models.PROTECT, related_name="+")
    section = models.CharField(max_length=32)
    financial_year = models.CharField(max_length=7)
    pan_masked = models.CharField(max_length=16, blank=True)
    pan_index = models.CharField(max_length=64, blank=True, help_text="Blind index of the PAN (kyc).")
    pan_valid = models.BooleanField()
    reason = models.CharField(max_length=12, choices=DeductionReason.choices, default=DeductionReason.DEDUCTED)
    gross = MoneyField()
    rate = models.DecimalField(**RATE)
    tds = MoneyField()
    net = MoneyField()
    deducted_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-id",)
        constraints = [
            models.CheckConstraint(condition=Q(gross=money_expression(F("net") + F("tds"))),
                                   name="tds_deduction_adds_up"),
            models.CheckConstraint(condition=Q(tds__gte=0) & Q(net__gte=0), name="tds_deduction_nonneg"),
        ]
        indexes = [models.Index(fields=("user", "financial_year")),
                   models.Index(fields=("financial_year", "deducted_on"))]

    def __str__(self) -> str:
        return f"TDS {self.tds} on {self.gross} ({self.section}) for user {self.user_id}"
