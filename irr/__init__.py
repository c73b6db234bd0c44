"""Rates of return and repayment schedules: pure functions on numpy and scipy, no Django.

- ``xirr``, ``xnpv``, ``xirr_many``, ``price_for_xirr``, ``xirr_at_price``: dated flows,
  actual/365 from the earliest date (Excel's and pyxirr's convention).
- ``npv``, ``irr``, ``pmt``: one flow per period.
- ``schedule``, ``unit_schedule``, ``per_unit``, ``divisible_unit_counts``: repayment
  schedules exact to the paisa, whose XIRR at par is their rate.

Money is ``Decimal`` in and out (rounded half up to paise at the last step); rates are
``float`` or ``Decimal`` in and ``float`` out. Every failure the inputs can cause is an
``IrrError`` with a ``code``; the API maps it to 422.
"""

from irr.errors import (
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
    FREQUENCIES,
    KINDS,
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
    "FREQUENCIES",
    "KINDS",
    "PAR_TOLERANCE",
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
