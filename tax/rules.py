"""TDS on the interest of one income line: a distribution line today (DESIGN.md §7). Pure rules:
the callers read what they need (`tax.selectors.tax_context`) and write the answer
(`tax.services.tds_deduction_record`).

The rule is data (`TaxRule`): the row in force on the day of the credit gives the section,
the rate with a valid PAN, the rate without one, and the yearly threshold per investor.

For one investor and financial year (April–March), with `interest_so_far` the interest
credited to them earlier in the year and `brought_to_tax` the interest already covered by
a deduction row (deducted or declared):

- an accepted Form 15G/15H for the year → nothing withheld; a row with reason `declaration`
  records the interest (26Q reports such payees too);
- `interest_so_far + interest <= threshold` → nothing withheld, no row;
- otherwise the base is everything not yet brought to tax (`interest_so_far + interest -
  brought_to_tax`), so the credit that crosses the threshold withholds on the whole year so
  far (catch-up) and later credits on their own interest; `tds = base × rate`, rounded
  half up to paise;
- TDS never exceeds what the line credits (principal + interest): if the catch-up would,
  the base is cut to what the line can bear and the rest is caught up by the next credit.

A valid PAN: a verified KYC profile with a PAN (kyc). Anything else is "no valid PAN".
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db.models import Q

from core.money import PAISA, ZERO
from tax.enums import DeductionReason, TaxRuleKind
from tax.errors import NoTaxRule
from tax.models import TaxRule


def financial_year(day: dt.date) -> str:
    """India's financial year label: 2026-04-01 … 2027-03-31 is "2026-27"."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def financial_year_bounds(label: str) -> tuple[dt.date, dt.date]:
    """"2026-27" → (2026-04-01, 2027-03-31). Raises ValueError on anything else."""
    try:
        start_text, end_text = label.split("-")
        start = int(start_text)
        if len(start_text) != 4 or len(end_text) != 2 or (start + 1) % 100 != int(end_text):
            raise ValueError
    except ValueError:
        raise ValueError(f"{label!r} is not a financial year like 2026-27.") from None
    return dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def tax_rule_in_force(*, day: dt.date, kind: str = TaxRuleKind.INTEREST) -> TaxRule:
    rule = (TaxRule.objects.filter(kind=kind, effective_from__lte=day)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
            .order_by("-effective_from").first())
    if rule is None:
        raise NoTaxRule(f"No TDS rule is in force on {day.isoformat()}.")
    return rule


@dataclass(frozen=True)
class PanInfo:
    valid: bool
    masked: str
    index: str


def pan_info(profile) -> PanInfo:
    """From a `kyc.KYCProfile` (or None): a verified profile with a PAN is a valid PAN."""
    from kyc.enums import KYCStatus

    if profile is None or not profile.pan:
        return PanInfo(valid=False, masked="", index="")
    return PanInfo(valid=profile.status == KYCStatus.VERIFIED, masked=profile.masked_pan, index=profile.pan_index)


@dataclass(frozen=True)
class TdsDecision:
    tds: Decimal
    base: Decimal  # the deduction row's gross; ZERO when no row is written
    rate: Decimal
    reason: str | None  # DeductionReason, or None for "no row"


def tds_for_line(*, rule: TaxRule, interest: Decimal, line_cash: Decimal, interest_so_far: Decimal,
                 brought_to_tax: Decimal, pan_valid: bool, declared: bool) -> TdsDecision:
    """The TDS of one line (see the module docstring). Pure: no queries."""
    if interest <= 0:
        return TdsDecision(tds=ZERO, base=ZERO, rate=ZERO, reason=None)
    if declared:
        return TdsDecision(tds=ZERO, base=interest, rate=ZERO, reason=DeductionReason.DECLARATION)
    year_total = interest_so_far + interest
    if year_total <= rule.yearly_threshold:
        return TdsDecision(tds=ZERO, base=ZERO, rate=ZERO, reason=None)
    rate = rule.rate_with_pan if pan_valid else rule.rate_without_pan
    base = year_total - brought_to_tax
    if base <= 0 or rate == 0:
        return TdsDecision(tds=ZERO, base=ZERO, rate=rate, reason=None)
    tds = (base * rate).quantize(PAISA, rounding=ROUND_HALF_UP)
    if tds > line_cash:
        # The line cannot bear the whole catch-up: tax as much of the base as it can.
        base = (line_cash / rate).quantize(PAISA, rounding=ROUND_DOWN)
        tds = (base * rate).quantize(PAISA, rounding=ROUND_HALF_UP)
        while tds > line_cash:
            base -= PAISA
            tds = (base * rate).quantize(PAISA, rounding=ROUND_HALF_UP)
        if base <= 0:
            return TdsDecision(tds=ZERO, base=ZERO, rate=rate, reason=None)
    return TdsDecision(tds=tds, base=base, rate=rate, reason=DeductionReason.DEDUCTED)
