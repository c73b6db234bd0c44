"""Repayment schedules: generated, never typed in, and exact to the paisa.

How the annual rate ``r`` becomes each period's interest is the schedule's ``convention``:

- ``effective_actual_365`` (the default): ``r`` is an annual effective rate in XIRR's
  convention: a period of ``d`` days earns ``outstanding * ((1 + r) ** (d / 365) - 1)``.
  Compounding period by period then matches XIRR's discounting exactly, so before
  rounding the XIRR at par of every schedule is ``r`` whatever its shape. ₹10 lakh at 12 %
  as a 12-month EMI from 1 January 2025: ₹88,540.09 a month.
- ``nominal_monthly`` (Indian lenders' EMI convention): ``r`` is a nominal annual rate
  compounded monthly: each whole month earns ``outstanding * r / 12`` whatever its days,
  so the EMI is numpy-financial's ``pmt(r / 12, n, -P)`` rounded to paise: ₹10 lakh at
  12 % over 12 months, ₹88,848.79. Monthly schedules only (one payment a month, counted
  from ``start``); a broken last period of ``d`` days (maturity off the monthly step)
  earns simple interest at the nominal rate, ``outstanding * r * d / 365``. A bullet has
  no months to count and a holiday calendar would move payments but not interest, so
  both are refused. The XIRR at par is then an effective equivalent, not ``r`` (12.74 %
  for the loan above: 1 % a month compounds to 12.68 % a year, and actual month lengths
  move the XIRR a little); ``Schedule.par_yield`` is that XIRR before rounding to paise,
  and the per-unit check compares with it.

Kinds (principal ``P`` over ``n`` periods):

- ``bullet``: one row at maturity, ``P`` plus the interest of the whole term.
- ``interest_only``: interest each period, ``P`` at the end.
- ``equal_principal``: ``P / n`` each period (split by largest remainder, earlier rows
  taking the odd paise), interest on the declining balance.
- ``amortizing`` (EMI): a level payment ``P / sum(1 / G_k)``, ``G_k`` the growth of one
  rupee from start to payment ``k`` under the convention (``(1 + r) ** (D_k / 365)``,
  ``D_k`` days; or ``(1 + r / 12) ** k``), rounded to paise; interest on the declining
  balance, the rest principal; the last row clears the balance, so every row but the last
  is level. An EMI that cannot amortize is refused (``CannotAmortize``): a row whose
  interest reaches the level payment (very high rates, where a long month's interest
  exceeds the payment set by the average month), or a level payment that rounds to 0.00.
- ``balloon``: ``balloon_share`` of ``P`` paid at the end, the rest in equal principal
  parts; interest on the declining balance.

Dates: payment ``k`` is ``start`` plus ``k`` times the frequency in months (the day clamped
to the month's end, always counted from ``start`` so Jan 31 gives Feb 28, then Mar 31);
the last is ``maturity`` (a short last period if it is not on the step). With a holiday
calendar (a set of dates; weekends then count too) each payment date rolls to the next
business day and interest accrues to the rolled date, so the XIRR at par is still ``r``;
two payments rolled onto one day are paid as one. Without a calendar no date moves.

Any schedule whose balance is repaid before its last row, so that it ends in rows of 0.00
(a principal of a few paise over many periods), is refused the same way.

Rounding: principal parts are whole paise and add up to ``P`` exactly. Interest is
rounded half up on the running total (row ``k`` pays ``round(I_1 + ... + I_k)`` less what
earlier rows paid), so the rounding never drifts by more than half a paisa; the XIRR at par
then strays from ``r`` by at most about ``0.005 / (P * duration in years)``.
``unit_schedule`` and ``per_unit`` check the DESIGN promise (within 0.01 percentage point
of ``r``) and raise ``UnitTooSmall`` where a unit is too small to keep it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal, localcontext
from itertools import accumulate, pairwise
from operator import mul

from irr._numbers import PAISA, Rate, decimal_rate, money, to_paise
from irr.errors import (
    CannotAmortize,
    InvalidFlow,
    InvalidRate,
    InvalidSchedule,
    NotDivisible,
    UnitTooSmall,
)
from irr.xirr import xirr

KINDS = ("bullet", "equal_principal", "amortizing", "balloon", "interest_only")
FREQUENCIES = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "annual": 12}
EFFECTIVE_ACTUAL_365 = "effective_actual_365"
NOMINAL_MONTHLY = "nominal_monthly"
CONVENTIONS = (EFFECTIVE_ACTUAL_365, NOMINAL_MONTHLY)
#: DESIGN: a per-unit schedule's XIRR at par stays within 0.01 percentage point of r.
PAR_TOLERANCE = Decimal("0.0001")
_PRECISION = 34


@dataclass(frozen=True)
class CashFlow:
    """One scheduled payment: its date, principal part and interest part (paise)."""

    date: dt.date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


@dataclass(frozen=True)
class Schedule:
    """A generated schedule: its terms and its rows, in date order (iterable as rows).

    ``par_yield`` is the XIRR at par before rounding to paise: ``annual_rate`` itself under
    ``effective_actual_365``, its effective equivalent over these dates under
    ``nominal_monthly`` (None reads as ``annual_rate``)."""

    kind: str
    principal: Decimal
    annual_rate: Decimal
    start: dt.date
    rows: tuple[CashFlow, ...]
    convention: str = EFFECTIVE_ACTUAL_365
    par_yield: Decimal | None = None

    def __iter__(self) -> Iterator[CashFlow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> CashFlow:
        return self.rows[index]

    @property
    def maturity(self) -> dt.date:
        return self.rows[-1].date

    @property
    def total_interest(self) -> Decimal:
        return sum((row.interest for row in self.rows), Decimal("0.00"))

    def flows(self) -> list[tuple[dt.date, Decimal]]:
        """The lender's flows at par: the principal out at start, every row back."""
        return [(self.start, -self.principal)] + [(row.date, row.amount) for row in self.rows]

    def xirr_at_par(self) -> float:
        return xirr(self.flows(), guess=float(self.annual_rate))


def schedule(
    kind: str,
    principal: Decimal | int | str,
    annual_rate: Rate,
    start: dt.date,
    maturity: dt.date,
    frequency: str | int | None = None,
    *,
    balloon_share: Decimal | None = None,
    holidays: Collection[dt.date] | None = None,
    convention: str = EFFECTIVE_ACTUAL_365,
) -> Schedule:
    """Generate a schedule of ``kind`` (see the module docstring) for ``principal``.

    ``frequency`` is monthly, quarterly, half_yearly, annual or a number of months (ignored
    for a bullet). ``balloon_share`` (0 < share < 1) is required for a balloon and refused
    otherwise. ``convention`` says how ``annual_rate`` becomes each period's interest:

    - ``"effective_actual_365"`` (the default): an annual effective rate over actual days,
      XIRR's convention, so the XIRR at par is the rate (₹10 lakh at 12 % over 12 months
      from 1 January 2025: an EMI of ₹88,540.09);
    - ``"nominal_monthly"``: a nominal annual rate, ``r / 12`` a whole month, the EMI
      convention of Indian lenders (the same loan: ₹88,848.79, numpy-financial's ``pmt``);
      monthly frequency only, a broken last period earning ``r * days / 365``, no bullet,
      no holiday calendar.

    Raises InvalidSchedule or InvalidRate for parameters that make no schedule, and
    CannotAmortize (an InvalidSchedule) for an EMI whose interest reaches its level payment
    or any schedule that would end in rows of 0.00.
    """
    if kind not in KINDS:
        raise InvalidSchedule(f"Unknown schedule kind {kind!r}; expected one of {KINDS}.")
    amount = _principal(principal)
    rate = decimal_rate(annual_rate, "annual_rate")
    if rate < 0:
        raise InvalidRate("A schedule's rate must not be negative: interest rows cannot be.")
    if not start < maturity:
        raise InvalidSchedule(f"Maturity {maturity} must be after start {start}.")
    share = _balloon_share(kind, balloon_share)
    months = None if kind == "bullet" else _months(frequency)
    _check_convention(convention, kind, months, holidays)
    dates = [maturity] if months is None else _period_dates(start, maturity, months)
    if holidays is not None:
        dates = _rolled(dates, holidays)

    with localcontext() as context:
        context.prec = _PRECISION
        growths, factors = _growths(convention, rate, start, dates)
        if kind == "amortizing":
            payment = to_paise(amount / sum(1 / growth for growth in growths))
            rows = _rows(dates, factors, amount, level_payment=payment)
        else:
            rows = _rows(
                dates, factors, amount, principal_parts=_parts(kind, amount, len(dates), share)
            )
        if rows[-1].amount == 0:
            raise CannotAmortize(
                f"{amount} is repaid before maturity, leaving rows of 0.00 from {rows[-1].date}: "
                "too small a principal for this many payments."
            )
        par_yield = rate
        if convention == NOMINAL_MONTHLY:
            par_yield = _unrounded_yield(kind, amount, start, dates, factors, growths, share)
    return Schedule(
        kind=kind,
        principal=amount,
        annual_rate=rate,
        start=start,
        rows=tuple(rows),
        convention=convention,
        par_yield=par_yield,
    )


def _check_convention(
    convention: str, kind: str, months: int | None, holidays: Collection[dt.date] | None
) -> None:
    if convention not in CONVENTIONS:
        raise InvalidSchedule(f"Unknown convention {convention!r}; expected one of {CONVENTIONS}.")
    if convention != NOMINAL_MONTHLY:
        return
    if kind == "bullet":
        raise InvalidSchedule("nominal_monthly counts whole months between payments: a bullet has none.")
    if months != 1:
        raise InvalidSchedule(f"nominal_monthly needs a monthly frequency, got {months} months.")
    if holidays is not None:
        raise InvalidSchedule(
            "nominal_monthly charges interest by the month, not by the day: "
            "a holiday calendar would move payments without their interest."
        )


def _growths(
    convention: str, rate: Decimal, start: dt.date, dates: list[dt.date]
) -> tuple[list[Decimal], list[Decimal]]:
    """Each payment's growth of one rupee from ``start`` and each period's interest factor."""
    if convention == EFFECTIVE_ACTUAL_365:
        log_growth = (1 + rate).ln() / 365  # (1 + r) ** (d / 365) = exp(d * ln(1 + r) / 365)
        growths = [(log_growth * (date - start).days).exp() for date in dates]
        factors = [growths[0] - 1] + [later / earlier - 1 for earlier, later in pairwise(growths)]
        return growths, factors
    factors = []
    for index, (earlier, date) in enumerate(pairwise([start, *dates])):
        whole_month = date == add_months(start, index + 1)
        factors.append(rate / 12 if whole_month else rate * (date - earlier).days / 365)
    return list(accumulate((1 + factor for factor in factors), mul)), factors


def _unrounded_yield(
    kind: str,
    principal: Decimal,
    start: dt.date,
    dates: list[dt.date],
    factors: list[Decimal],
    growths: list[Decimal],
    share: Decimal | None,
) -> Decimal:
    """The XIRR at par of the schedule before any rounding to paise (34 digits)."""
    count = len(dates)
    if kind == "amortizing":
        amounts = [principal / sum(1 / growth for growth in growths)] * count
    else:
        balloon = principal * share if kind == "balloon" else Decimal(0)
        part = (principal - balloon) / count if kind in ("equal_principal", "balloon") else Decimal(0)
        parts = [part] * (count - 1) + [principal - part * (count - 1)]
        balance, amounts = principal, []
        for factor, principal_part in zip(factors, parts, strict=True):
            amounts.append(principal_part + balance * factor)
            balance -= principal_part
    flows = [(start, -principal), *zip(dates, amounts, strict=True)]
    return Decimal(repr(xirr(flows, guess=float(growths[0] - 1) * 12)))


def _rows(
    dates: list[dt.date],
    factors: list[Decimal],
    principal: Decimal,
    *,
    principal_parts: list[Decimal] | None = None,
    level_payment: Decimal | None = None,
) -> list[CashFlow]:
    """Rows with interest on the outstanding balance, rounded half up on the running total."""
    rows = []
    balance = principal
    exact_interest = Decimal(0)  # interest so far, unrounded
    paid_interest = Decimal(0)  # interest so far, as rounded into rows
    last = len(dates) - 1
    if level_payment is not None and level_payment <= 0:
        raise CannotAmortize(
            f"The level payment on {principal} rounds to 0.00: too small a principal for "
            f"{len(dates)} payments."
        )
    for index, (date, factor) in enumerate(zip(dates, factors, strict=True)):
        exact_interest += balance * factor
        interest = to_paise(exact_interest) - paid_interest
        paid_interest += interest
        if index == last:
            part = balance
        elif level_payment is not None:
            if interest >= level_payment:
                raise CannotAmortize(
                    f"The interest of {interest} due on {date} reaches the level payment of "
                    f"{level_payment}: at this rate the EMI cannot amortize; use a lower rate "
                    "or fewer, shorter periods."
                )
            part = min(level_payment - interest, balance)
        else:
            part = principal_parts[index]
        balance -= part
        rows.append(CashFlow(date=date, principal=part, interest=interest))
    return rows


def _principal(principal: Decimal | int | str) -> Decimal:
    """A principal in whole paise, with two places; refused if negative, zero or finer."""
    try:
        amount = money(principal, "principal")
    except InvalidFlow as error:
        raise InvalidSchedule(error.detail) from error
    if amount <= 0 or amount != amount.quantize(PAISA):
        raise InvalidSchedule(f"The principal must be a positive number of paise, got {principal}.")
    return amount.quantize(PAISA)


def _parts(kind: str, principal: Decimal, count: int, share: Decimal | None) -> list[Decimal]:
    zero = Decimal("0.00")
    if kind in ("bullet", "interest_only"):
        return [zero] * (count - 1) + [principal]
    if kind == "equal_principal":
        return _equal_parts(principal, count)
    balloon = to_paise(principal * share)
    parts = _equal_parts(principal - balloon, count)
    parts[-1] += balloon
    return parts


def _equal_parts(total: Decimal, count: int) -> list[Decimal]:
    """``total`` split into ``count`` parts of whole paise that differ by at most one paisa
    (largest remainder; with equal remainders the earlier parts take the extra paisa)."""
    paise = int(total / PAISA)
    base, extra = divmod(paise, count)
    return [Decimal(base + (1 if index < extra else 0)) * PAISA for index in range(count)]


def _balloon_share(kind: str, balloon_share: Decimal | None) -> Decimal | None:
    if kind != "balloon":
        if balloon_share is not None:
            raise InvalidSchedule("balloon_share applies only to a balloon schedule.")
        return None
    if balloon_share is None:
        raise InvalidSchedule("A balloon schedule needs a balloon_share.")
    share = decimal_rate(balloon_share, "balloon_share")
    if not 0 < share < 1:
        raise InvalidSchedule(f"balloon_share must be between 0 and 1, got {balloon_share}.")
    return share


def _months(frequency: str | int | None) -> int:
    if isinstance(frequency, str) and frequency in FREQUENCIES:
        return FREQUENCIES[frequency]
    if isinstance(frequency, int) and not isinstance(frequency, bool) and frequency >= 1:
        return frequency
    raise InvalidSchedule(
        f"frequency must be one of {sorted(FREQUENCIES)} or a number of months, got {frequency!r}."
    )


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus whole months, the day clamped to the end of the month."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return start.replace(
        year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
    )


def _period_dates(start: dt.date, maturity: dt.date, months: int) -> list[dt.date]:
    dates = []
    step = 1
    while (date := add_months(start, step * months)) < maturity:
        dates.append(date)
        step += 1
    dates.append(maturity)
    return dates


def _rolled(dates: list[dt.date], holidays: Collection[dt.date]) -> list[dt.date]:
    """Each date rolled forward to the next business day (not a weekend, not a holiday).

    Two payments rolled onto one day (a short last period over a weekend) become one.
    """
    rolled = []
    for date in dates:
        while date.weekday() >= 5 or date in holidays:
            date += dt.timedelta(days=1)
        if not rolled or date > rolled[-1]:
            rolled.append(date)
    return rolled


def per_unit(whole: Schedule, units: int, *, tolerance: Decimal = PAR_TOLERANCE) -> Schedule:
    """Split a whole schedule into the schedule of one of ``units`` equal units.

    The unit's principal is ``principal / units`` exactly, or NotDivisible says which unit
    counts would work. Each row's principal and interest per unit are rounded half up on
    the running totals, so the unit's principal parts add up to its face value exactly and
    no row is negative. (A row times ``units`` may differ from the whole row by a few paise:
    the per-unit schedule is what a holder is promised.) Raises UnitTooSmall when the unit's
    XIRR at par strays from the whole's ``par_yield`` by more than ``tolerance``. The unit
    keeps the whole's convention.
    """
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise InvalidSchedule(f"units must be a whole number of at least 1, got {units!r}.")
    paise = int(whole.principal / PAISA)
    if paise % units:
        raise NotDivisible(
            whole.principal, units, divisible_unit_counts(whole.principal, near=units)
        )
    rows = []
    total_principal = total_interest = Decimal(0)
    unit_principal = unit_interest = Decimal(0)
    with localcontext() as context:
        context.prec = _PRECISION
        for row in whole.rows:
            total_principal += row.principal
            total_interest += row.interest
            principal_so_far = to_paise(total_principal / units)
            interest_so_far = to_paise(total_interest / units)
            rows.append(
                CashFlow(
                    date=row.date,
                    principal=principal_so_far - unit_principal,
                    interest=interest_so_far - unit_interest,
                )
            )
            unit_principal, unit_interest = principal_so_far, interest_so_far
    unit = Schedule(
        kind=whole.kind,
        principal=Decimal(paise // units) * PAISA,
        annual_rate=whole.annual_rate,
        start=whole.start,
        rows=tuple(rows),
        convention=whole.convention,
        par_yield=whole.par_yield,
    )
    _check_par_yield(unit, tolerance)
    return unit


def unit_schedule(
    kind: str,
    unit_face_value: Decimal | int | str,
    annual_rate: Rate,
    start: dt.date,
    maturity: dt.date,
    frequency: str | int | None = None,
    *,
    balloon_share: Decimal | None = None,
    holidays: Collection[dt.date] | None = None,
    tolerance: Decimal = PAR_TOLERANCE,
    convention: str = EFFECTIVE_ACTUAL_365,
) -> Schedule:
    """The schedule of one unit, generated directly on its face value (so an EMI is level per
    unit too), under ``convention`` (see ``schedule``); raises UnitTooSmall when, rounded to
    paise, it cannot yield its rate (its ``par_yield``) to within ``tolerance``."""
    unit = schedule(
        kind,
        unit_face_value,
        annual_rate,
        start,
        maturity,
        frequency,
        balloon_share=balloon_share,
        holidays=holidays,
        convention=convention,
    )
    _check_par_yield(unit, tolerance)
    return unit


def _check_par_yield(unit: Schedule, tolerance: Decimal) -> None:
    at_par = Decimal(repr(unit.xirr_at_par()))
    expected = unit.annual_rate if unit.par_yield is None else unit.par_yield
    if abs(at_par - expected) > tolerance:
        raise UnitTooSmall(
            f"A unit of {unit.principal} rounded to paise yields {at_par:.6f} at par, more than "
            f"{tolerance} from its rate {expected:.6f}; use fewer, larger units."
        )


def divisible_unit_counts(principal: Decimal | int | str, near: int, limit: int = 5) -> list[int]:
    """Up to ``limit`` unit counts that divide ``principal`` into whole paise, nearest ``near``
    first (the smaller on a tie)."""
    divisors = _divisors(int(_principal(principal) / PAISA))
    return sorted(divisors, key=lambda count: (abs(count - near), count))[:limit]


def _divisors(number: int) -> list[int]:
    """Every divisor of ``number`` (trial division: fast for amounts of whole rupees, and
    about half a million steps at worst for a prime number of paise near 10**12)."""
    factors: dict[int, int] = {}
    remaining, candidate = number, 2
    while candidate * candidate <= remaining:
        while remaining % candidate == 0:
            factors[candidate] = factors.get(candidate, 0) + 1
            remaining //= candidate
        candidate += 1 if candidate == 2 else 2
    if remaining > 1:
        factors[remaining] = factors.get(remaining, 0) + 1
    divisors = [1]
    for prime, power in factors.items():
        divisors = [
            divisor * prime**exponent for divisor in divisors for exponent in range(power + 1)
        ]
    return divisors


__all__ = [
    "CONVENTIONS",
    "EFFECTIVE_ACTUAL_365",
    "FREQUENCIES",
    "KINDS",
    "NOMINAL_MONTHLY",
    "PAR_TOLERANCE",
    "CashFlow",
    "Schedule",
    "add_months",
    "divisible_unit_counts",
    "per_unit",
    "schedule",
    "unit_schedule",
]
