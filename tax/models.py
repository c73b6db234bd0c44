"""Tax models (DESIGN.md §7): the TDS rule in force, investors' Form 15G/15H, and one row per
deduction. Any app that pays an investor income (servicing today, funds next) asks
`tax.rules` what to withhold and records the answer with `tax.services.tds_deduction_record`.

- `TaxRule`: the TDS rule in force (section code, rates with and without a valid PAN,
  yearly threshold, effective dates) — data, seeded by a migration.
- `TaxDeclaration`: an investor's Form 15G/15H for one financial year, accepted by staff.
- `TDSDeduction`: one row per income line whose amount was brought to tax (or declared),
  `gross = net + tds`; the line it was computed for is named by `source_type` and
  `source_id` (one deduction per line). These rows sum to the `tds_payable` account.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.money import MoneyField, money_expression
from tax.enums import DeclarationForm, DeclarationStatus, DeductionReason, TaxRuleKind

RATE = {"max_digits": 6, "decimal_places": 4}


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
    source_type = models.CharField(max_length=64, help_text="What paid the income: `servicing.distributionline`.")
    source_id = models.PositiveBigIntegerField()
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
            models.UniqueConstraint(fields=("source_type", "source_id"), name="tds_deduction_one_per_source"),
        ]
        indexes = [models.Index(fields=("user", "financial_year")),
                   models.Index(fields=("financial_year", "deducted_on"))]

    def __str__(self) -> str:
        return f"TDS {self.tds} on {self.gross} ({self.section}) for user {self.user_id}"
