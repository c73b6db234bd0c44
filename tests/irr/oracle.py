"""Helpers shared by the irr tests: an exact root finder (50-digit Decimal) and root checks.

pyxirr is the oracle for realistic series; where it and ``irr`` disagree beyond 1e-9 (it
stops Newton on |NPV| < 1e-9 in money, so at high rates it can be off by 1e-7), this exact
computation decides.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, localcontext


def scaled_value(rate: float, flows) -> tuple[float, float]:
    """Present value at ``rate`` scaled so no exponent is positive, and the scaled sum of
    |terms| (what its rounding error is relative to)."""
    first = min(date for date, _ in flows)
    years = [(date - first).days / 365 for date, _ in flows]
    log_rate = math.log1p(rate)
    shift = max(years) if log_rate < 0 else 0.0
    terms = [
        float(amount) * math.exp(-log_rate * (year - shift))
        for (_, amount), year in zip(flows, years, strict=True)
    ]
    return math.fsum(terms), math.fsum(abs(term) for term in terms)


def is_root(rate: float, flows, tolerance: float = 1e-9) -> bool:
    """Whether ``rate`` makes the flows' value zero, to float precision: a small residual,
    or a sign change within the float spacing of ``rate`` (near -100% a float rate cannot
    get closer)."""
    if not (math.isfinite(rate) and rate > -1.0):
        return False
    value, size = scaled_value(rate, flows)
    if abs(value) <= tolerance * size:
        return True
    spacing = 4 * math.ulp(1.0 + abs(rate))
    below, _ = scaled_value(max(rate - spacing, math.nextafter(-1.0, 0.0)), flows)
    above, _ = scaled_value(rate + spacing, flows)
    return below * value <= 0 or value * above <= 0


def exact_root_near(rate: float, flows, width: float = 1e-6) -> Decimal | None:
    """The exact root within ``width`` (relative) of ``rate``, by bisection in 50-digit
    Decimal arithmetic; None if the value does not change sign there."""
    with localcontext() as context:
        context.prec = 50
        first = min(date for date, _ in flows)

        def value(candidate: Decimal) -> Decimal:
            return sum(
                Decimal(amount) * (1 + candidate) ** (-Decimal((date - first).days) / 365)
                for date, amount in flows
            )

        spread = Decimal(repr(width)) * max(Decimal(1), abs(Decimal(repr(rate))))
        low = max(Decimal(repr(rate)) - spread, Decimal("-0.99999999999999"))
        high = Decimal(repr(rate)) + spread
        value_low = value(low)
        if value_low * value(high) > 0:
            return None
        enough = Decimal("1e-18") * max(Decimal(1), abs(low))
        for _ in range(200):
            if high - low <= enough:
                break
            middle = (low + high) / 2
            value_middle = value(middle)
            if (value_middle > 0) == (value_low > 0):
                low, value_low = middle, value_middle
            else:
                high = middle
        return low


def dated(start: dt.date, offsets_and_amounts) -> list[tuple[dt.date, Decimal]]:
    return [(start + dt.timedelta(days=offset), amount) for offset, amount in offsets_and_amounts]


def exact_nets(flows) -> list[tuple[int, Decimal]]:
    """The flows netted per date exactly (Decimal addition of the amounts as given), as
    (days from the earliest date, net) in date order, dates whose flows cancel left out."""
    first = min(date for date, _ in flows)
    nets: dict[int, Decimal] = {}
    with localcontext() as context:
        context.prec = 200  # exact for any sum of amounts in paise up to 10**100
        for date, amount in flows:
            day = (date - first).days
            nets[day] = nets.get(day, Decimal(0)) + Decimal(amount)
    return [(day, net) for day, net in sorted(nets.items()) if net]


def exact_value(log_rate: Decimal, nets, precision: int = 120) -> tuple[Decimal, Decimal]:
    """The netted flows' present value at s = ln(1 + r) and the sum of |terms| (what its
    size is judged against), in ``precision``-digit Decimal."""
    with localcontext() as context:
        context.prec = precision
        terms = [net * (-log_rate * day / 365).exp() for day, net in nets]
        return sum(terms), sum(abs(term) for term in terms)


def has_small_residual(rate: float, flows, tolerance: float = 1e-9) -> bool:
    """Whether ``rate`` is a root of the flows netted exactly per date: the present value at
    ``rate`` within ``tolerance`` of the sum of |terms|, or a sign change within four float
    spacings of ``rate`` (near -100% a float rate cannot come closer: 1 + r keeps few
    digits)."""
    if not (math.isfinite(rate) and rate > -1.0):
        return False
    nets = exact_nets(flows)

    def at(candidate: float) -> tuple[Decimal, Decimal]:
        with localcontext() as context:
            context.prec = 60
            return exact_value((1 + Decimal(candidate)).ln(), nets)

    value, size = at(rate)
    if abs(value) <= Decimal(tolerance) * size:
        return True
    spacing = 4 * math.ulp(1.0 + abs(rate))
    below, _ = at(max(rate - spacing, math.nextafter(-1.0, 0.0)))
    above, _ = at(rate + spacing)
    return below * value <= 0 or value * above <= 0
