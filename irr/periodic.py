"""Periodic cash flows: NPV, IRR and the level payment.

One flow per period, the first at period 0 (undiscounted), as in numpy-financial and
pyxirr's ``npv``; Excel's NPV instead discounts its first flow by one period. Rates are per
period. ``npv`` and ``pmt`` work in ``Decimal`` (whole powers are exact there); ``irr``
shares the root finder of ``xirr`` with times 0, 1, 2, ...
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal, localcontext

from irr._numbers import Rate, decimal_rate, float_rate, money, to_paise
from irr._roots import solve
from irr.errors import InvalidFlow, InvalidSchedule, NoSignChange, TooFewFlows

_PRECISION = 34


def npv(rate: Rate, amounts: Iterable[Decimal | int]) -> Decimal:
    """Present value at period 0 of one amount per period, rounded half up to paise."""
    factor_rate = decimal_rate(rate)
    with localcontext() as context:
        context.prec = _PRECISION
        discount = Decimal(1) / (1 + factor_rate)
        total, weight = Decimal(0), Decimal(1)
        for amount in amounts:
            total += money(amount) * weight
            weight *= discount
    return to_paise(total)


def irr(amounts: Iterable[Decimal | float | int], guess: Rate = 0.1) -> float:
    """The per-period rate at which the amounts' present value is zero.

    With several roots (amounts that change sign more than once) the root nearest
    ``guess``. Raises TooFewFlows, InvalidFlow, NoSignChange or DidNotConverge.
    """
    guess_value = float_rate(guess, "guess")
    try:
        values = [float(amount) for amount in amounts]
    except (TypeError, ValueError) as error:
        raise InvalidFlow("Every amount must be a number.") from error
    if len(values) < 2:
        raise TooFewFlows(f"A rate of return needs at least two amounts, got {len(values)}.")
    if not all(map(math.isfinite, values)):
        raise InvalidFlow("Every amount must be finite.")
    if min(values) >= 0 or max(values) <= 0:
        raise NoSignChange()
    return solve([float(period) for period in range(len(values))], values, guess_value)


def pmt(rate: Rate, periods: int, present_value: Decimal | int) -> Decimal:
    """The level payment per period that repays ``present_value`` over ``periods`` periods
    at ``rate`` per period, paid at each period's end, rounded half up to paise.

    Positive for a positive present value (Excel's PMT returns it negated).
    """
    per_period = decimal_rate(rate)
    principal = money(present_value, "present_value")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise InvalidSchedule(f"periods must be a whole number of at least 1, got {periods!r}")
    with localcontext() as context:
        # (1 + r) ** -n cancels against 1 for a tiny r: carry enough digits past r's own.
        context.prec = _PRECISION + max(0, -per_period.adjusted())
        if per_period == 0:
            return to_paise(principal / periods)
        annuity = (1 - (1 + per_period) ** -periods) / per_period
        return to_paise(principal / annuity)
