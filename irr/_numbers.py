"""Coercion of money and rates at the package's edges.

Money is ``Decimal`` in paise: it comes in as ``Decimal`` (or ``int``/``str``; a ``float``
is refused where an amount is stored) and goes out quantized with ROUND_HALF_UP. Rates
may be ``float`` or ``Decimal``; the solvers work in ``float`` (double precision is about
1e-16 relative, far below a paisa on any realistic amount) and quantize only at the end.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from irr.errors import InvalidFlow, InvalidRate

PAISA = Decimal("0.01")

Rate = float | Decimal
Money = Decimal | int


def to_paise(value: Decimal) -> Decimal:
    """Round to whole paise, half up (the one rounding rule for money)."""
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def float_to_money(value: float, places: int | None = 2) -> Decimal:
    """A float result as Decimal: rounded half up to ``places``, or unrounded if None."""
    if not math.isfinite(value):
        raise InvalidFlow("The result is not a finite amount.")
    if places is None:
        return Decimal(repr(value))
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Money | str, name: str = "amount") -> Decimal:
    """A money input as Decimal; floats are refused (a float on a money path is a bug)."""
    if isinstance(value, bool | float):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    try:
        result = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise InvalidFlow(f"{name} is not an amount: {value!r}") from error
    if not result.is_finite():
        raise InvalidFlow(f"{name} must be finite, got {value!r}")
    return result


def float_rate(rate: Rate, name: str = "rate") -> float:
    """A rate as float, refused at or below -100% (no discount factor exists there)."""
    try:
        value = float(rate)
    except (TypeError, ValueError) as error:
        raise InvalidRate(f"{name} is not a number: {rate!r}") from error
    if not (math.isfinite(value) and value > -1.0):
        raise InvalidRate(f"{name} must be a finite number above -1 (-100%), got {rate!r}")
    return value


def decimal_rate(rate: Rate, name: str = "rate") -> Decimal:
    """A rate as Decimal; a float goes through its shortest repr (0.12, not 0.11999...)."""
    float_rate(rate, name)
    return Decimal(repr(rate)) if isinstance(rate, float) else Decimal(rate)
