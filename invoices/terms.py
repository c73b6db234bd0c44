"""The primary platform's formulas (DESIGN.md §5), pure functions on Decimals.

- finance amount  = min(max_invoice_amount, invoice amount) * max_invoice_percent / 100
- finance percent = finance amount / invoice amount * 100
- interest        = principal * annual rate / 100 * days / 365   (simple, 365-day year)
- net disbursal   = finance amount - interest                    (interest taken upfront)
- utilization     = used limit / limit * 100

Money is quantized to paise (half up) at the last step only; percentages to 0.01.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from core.money import to_money

HUNDRED = Decimal(100)
DAYS_IN_YEAR = Decimal(365)
PERCENT_PLACES = Decimal("0.01")


def _decimals(*values) -> None:
    for value in values:
        if not isinstance(value, Decimal | int) or isinstance(value, bool):
            raise TypeError(f"Expected a Decimal, got {type(value).__name__}: floats never reach money maths.")


def finance_amount_for(*, invoice_amount: Decimal, max_invoice_amount: Decimal,
                       max_invoice_percent: Decimal) -> Decimal:
    _decimals(invoice_amount, max_invoice_amount, max_invoice_percent)
    return to_money(min(max_invoice_amount, invoice_amount) * max_invoice_percent / HUNDRED)


def finance_percentage_for(*, finance_amount: Decimal, invoice_amount: Decimal) -> Decimal:
    _decimals(finance_amount, invoice_amount)
    return (finance_amount / invoice_amount * HUNDRED).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def interest_for(*, principal: Decimal, annual_rate_percent: Decimal, days: int) -> Decimal:
    _decimals(principal, annual_rate_percent, days)
    if days <= 0:
        return to_money(0)
    return to_money(principal * annual_rate_percent / HUNDRED * Decimal(days) / DAYS_IN_YEAR)


def tenor_days(*, start: date, end: date) -> int:
    return (end - start).days


def utilization_percent(*, used: Decimal, limit: Decimal) -> Decimal:
    _decimals(used, limit)
    if limit <= 0:
        return Decimal("0.00")
    return (used / limit * HUNDRED).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
