"""Rates of return and repayment schedules: pure functions on numpy and scipy, no Django.

- ``xirr``, ``xnpv``, ``xirr_many``, ``price_for_xirr``, ``xirr_at_price``: dated flows,
  actual/365 from the earliest date (Excel's and pyxirr's convention).
- ``npv``, ``irr``, ``pmt``: one flow per period.
- ``schedule``, ``unit_schedule``, ``per_unit``, ``divisible_unit_counts``: repayment
  schedules exact to the paisa under a rate ``convention`` (``effective_actual_365``, the
  default, whose XIRR at par is the rate; or ``nominal_monthly``, r / 12 a month).

Money is ``Decimal`` in and out (rounded half up to paise at the last step); rates are
``float`` or ``Decimal`` in and ``float`` out. Every failure the inputs can cause is an
``IrrError`` with a ``code``; the API maps it to 422.
"""

from irr.errors import (
    CannotAmortize,
    DidNotConverge,
    InvalidFlow,
    InvalidRate,
    InvalidSchedule,
    IrrError,
    NoSignChange,
    NotDivisible,
    TooFewFlows,
    UnitTooSmall,
)
from irr.periodic import irr, npv, pmt
from irr.schedules import (
    CONVENTIONS,
    EFFECTIVE_ACTUAL_365,
    FREQUENCIES,
    KINDS,
    NOMINAL_MONTHLY,
    PAR_TOLERANCE,
    CashFlow,
    Schedule,
    add_months,
    divisible_unit_counts,
    per_unit,
    schedule,
    unit_schedule,
)
from irr.xirr import XirrBatch, price_for_xirr, xirr, xirr_at_price, xirr_many, xnpv

__all__ = [
    "CONVENTIONS",
    "EFFECTIVE_ACTUAL_365",
    "FREQUENCIES",
    "KINDS",
    "NOMINAL_MONTHLY",
    "PAR_TOLERANCE",
    "CannotAmortize",
    "CashFlow",
    "DidNotConverge",
    "InvalidFlow",
    "InvalidRate",
    "InvalidSchedule",
    "IrrError",
    "NoSignChange",
    "NotDivisible",
    "Schedule",
    "TooFewFlows",
    "UnitTooSmall",
    "XirrBatch",
    "add_months",
    "divisible_unit_counts",
    "irr",
    "npv",
    "per_unit",
    "pmt",
    "price_for_xirr",
    "schedule",
    "unit_schedule",
    "xirr",
    "xirr_at_price",
    "xirr_many",
    "xnpv",
]
