"""Money: Decimal with two places, quantized ROUND_HALF_UP at the last step only.

Floats are refused outright: a float on a money path is a bug, so `to_money(0.1)` raises
rather than quietly carrying 0.1000000000000000055511151231257827.
"""

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

from core.errors import InvalidInput

PAISA = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_DIGITS = 18
DECIMAL_PLACES = 2
MAX_AMOUNT = Decimal("9999999999999999.99")  # what NUMERIC(18,2) can hold


class MoneyOutOfRange(InvalidInput):
    """A computed amount beyond what NUMERIC(18,2) holds: refused where it is computed, never
    left to overflow a column (or a response) further down."""

    code = "amount_out_of_range"
    default_detail = "The amount is larger than the platform can hold."


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantize to paise, half up. Accepts Decimal, int or a numeric string, never a float.
    Every money value passes here before it is stored (`MoneyField`), so an amount beyond
    `MAX_AMOUNT` raises `MoneyOutOfRange` (400) instead of overflowing its column."""
    if isinstance(value, float):
        raise TypeError("Money must not be a float; pass a Decimal or a string.")
    if isinstance(value, bool):
        raise TypeError("Money must not be a bool.")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"Not a number: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"Not a finite amount: {value!r}")
    if abs(amount) > MAX_AMOUNT:
        raise MoneyOutOfRange(f"The amount is larger than {MAX_AMOUNT:,} and cannot be held.")
    return amount.quantize(PAISA, rounding=ROUND_HALF_UP)


def fit_decimal(value: Decimal | None, *, max_digits: int, decimal_places: int) -> Decimal | None:
    """`value` rounded half up to `decimal_places`, or None when it does not fit a
    `NUMERIC(max_digits, decimal_places)` column: for a computed rate that is a fact about the
    price (a yield of a million percent is not one worth storing), not an error of the caller."""
    if value is None or not value.is_finite():
        return None
    rounded = value.quantize(Decimal(1).scaleb(-decimal_places), rounding=ROUND_HALF_UP)
    if abs(rounded) >= Decimal(10) ** (max_digits - decimal_places):
        return None
    return rounded


def allocate(total: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split `total` into parts proportional to `weights` that add up to `total` exactly.

    Largest-remainder method in paise: each part gets the floor of its exact share, and the
    paise left over go one each to the parts with the largest remainders (ties to the
    earlier part, so the result is deterministic). No part differs from its exact share by
    a paisa or more. Works for negative totals too (the sign is carried through).

    All of it is integer arithmetic: the weights are scaled to integers (Decimal weights by
    a power of ten), so part i's share is ``paise * w_i / W`` with remainder
    ``paise * w_i mod W``, and equal remainders compare equal. (Comparing 28-digit decimal
    quotients told 11/37 from 11/37 and gave the paisa to the later part: issue 24.)
    """
    total = to_money(total)
    if not weights:
        raise ValueError("allocate needs at least one weight.")
    integer_weights = _integer_weights(weights)
    weight_sum = sum(integer_weights)
    if weight_sum == 0:
        raise ValueError("Weights must not all be zero.")

    sign = -1 if total < 0 else 1
    total_paise = int(abs(total) / PAISA)
    shares = [divmod(total_paise * weight, weight_sum) for weight in integer_weights]  # (floor, remainder)
    floors = [floor for floor, _ in shares]
    leftover = total_paise - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda index: (-shares[index][1], index))
    for index in by_remainder[:leftover]:
        floors[index] += 1
    return [sign * Decimal(paise) * PAISA for paise in floors]


def _integer_weights(weights: Sequence[Decimal | int]) -> list[int]:
    """The weights as integers in the same proportions: each as an exact fraction, all over
    their common denominator (a power of ten for Decimal weights)."""
    try:
        ratios = [Decimal(weight).as_integer_ratio() for weight in weights]
    except (InvalidOperation, TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"Weights must be finite numbers: {list(weights)!r}") from exc
    if any(numerator < 0 for numerator, _ in ratios):
        raise ValueError("Weights must not be negative.")
    denominator = math.lcm(*(denominator for _, denominator in ratios))
    return [numerator * (denominator // each) for numerator, each in ratios]


class MoneyField(models.DecimalField):
    """NUMERIC(18,2). Values are quantized in Python before they reach the database."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_digits") == MAX_DIGITS:
            del kwargs["max_digits"]
        if kwargs.get("decimal_places") == DECIMAL_PLACES:
            del kwargs["decimal_places"]
        return name, path, args, kwargs

    def get_db_prep_save(self, value, connection):
        if value is not None and not hasattr(value, "resolve_expression"):
            value = to_money(value)
        return super().get_db_prep_save(value, connection)


def money_expression(expression):
    """`expression` rounded to paise, for CHECK constraints that add money columns: exact on
    PostgreSQL's numeric, and it keeps SQLite (which stores decimals as floating point, so
    100.10 - 10.01 is 90.08999…) agreeing with what Python wrote."""
    from django.db.models.functions import Round

    return Round(expression, DECIMAL_PLACES)
