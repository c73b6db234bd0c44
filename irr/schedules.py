"""Repayment schedules: generated, never typed in, and exact to the paisa.

The rate ``r`` is an annual effective rate in XIRR's convention: a period of ``d`` days
earns ``outstanding * ((1 + r) ** (d / 365) - 1)``. Compounding period by period then
matches XIRR's discounting exactly, so before rounding the XIRR at par of every schedule
is ``r`` whatever its shape.

Kinds (principal ``P`` over ``n`` periods):

- ``bullet``: one row at maturity, ``P`` plus the interest of the whole term.
- ``interest_only``: interest each period, ``P`` at the end.
- ``equal_principal``: ``P / n`` each period (split by largest remainder, earlier rows
  taking the odd paise), interest on the declining balance.
- ``amortizing`` (EMI): a level payment ``P / sum((1 + r) ** (-D_k / 365))``, ``D_k`` days
  from start to payment ``k``, rounded to paise; interest on the declining balance, the
  rest principal; the last row clears the balance, so every row but the last is level. (If
  one long period's interest exceeds the level payment, which takes very high rates over
  long terms, that row pays interest only rather than a negative principal.)
- ``balloon``: ``balloon_share`` of ``P`` paid at the end, the rest in equal principal
  parts; interest on the declining balance.

Dates: payment ``k`` is ``start`` plus ``k`` times the frequency in months (the day clamped
to the month's end, always counted from ``start`` so Jan 31 gives Feb 28, then Mar 31);
the last is ``maturity`` (a short last period if it is not on the step). With a holiday
calendar (a set of dates; weekends then count too) each payment date rolls to the next
business day and interest accrues to the rolled date, so the XIRR at par is still ``r``;
two payments rolled onto one day are paid as one. Without a calendar no date moves.

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
from itertools import pairwise

from irr._numbers import PAISA, Rate, decimal_rate, money, to_paise
from irr.errors import InvalidFlow, InvalidRate, InvalidSchedule, NotDivisible, UnitTooSmall
from irr.xirr import xirr

KINDS = ("bullet", "equal_principal", "amortizing", "balloon", "interest_only")
FREQUENCIES = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "annual": 12}
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
    """A generated schedule: its terms and its rows, in date order (iterable as rows)."""

    kind: str
    principal: Decimal
    annual_rate: Decimal
    start: dt.date
    rows: tuple[CashFlow, ...]

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
) -> Schedule:
    """Generate a schedule of ``kind`` (see the module docstring) for ``principal``.

    ``frequency`` is monthly, quarterly, half_yearly, annual or a number of months (ignored
    for a bullet). ``balloon_share`` (0 < share < 1) is required for a balloon and refused
    otherwise. Raises InvalidSchedule or InvalidRate for parameters that make no schedule.
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
    dates = [maturity] if months is None else _period_dates(start, maturity, months)
    if holidays is not None:
        dates = _rolled(dates, holidays)

    with localcontext() as context:
        context.prec = _PRECISION
        log_growth = (1 + rate).ln() / 365  # (1 + r) ** (d / 365) = exp(d * ln(1 + r) / 365)
        growths = [(log_growth * (date - start).days).exp() for date in dates]
        factors = [growths[0] - 1] + [later / earlier - 1 for earlier, later in pairwise(growths)]
        if kind == "amortizing":
            payment = to_paise(amount / sum(1 / growth for growth in growths))
            rows = _rows(dates, factors, amount, level_payment=payment)
        else:
            rows = _rows(
                dates, factors, amount, principal_parts=_parts(kind, amount, len(dates), share)
            )
    return Schedule(kind=kind, principal=amount, annual_rate=rate, start=start, rows=tuple(rows))


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
    for index, (date, factor) in enumerate(zip(dates, factors, strict=True)):
        exact_interest += balance * factor
        interest = to_paise(exact_interest) - paid_interest
        paid_interest += interest
        if index == last:
            part = balance
        elif level_payment is not None:
            part = min(max(level_payment - interest, Decimal(0)), balance)
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
    XIRR at par strays from the rate by more than ``tolerance``.
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
) -> Schedule:
    """The schedule of one unit, generated directly on its face value (so an EMI is level per
    unit too); raises UnitTooSmall when, rounded to paise, it cannot yield its rate."""
    unit = schedule(
        kind,
        unit_face_value,
        annual_rate,
        start,
        maturity,
        frequency,
        balloon_share=balloon_share,
        holidays=holidays,
    )
    _check_par_yield(unit, tolerance)
    return unit


def _check_par_yield(unit: Schedule, tolerance: Decimal) -> None:
    at_par = Decimal(repr(unit.xirr_at_par()))
    if abs(at_par - unit.annual_rate) > tolerance:
        raise UnitTooSmall(
            f"A unit of {unit.principal} rounded to paise yields {at_par:.6f} at par, more than "
            f"{tolerance} from its rate {unit.annual_rate}; use fewer, larger units."
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
    "FREQUENCIES",
    "KINDS",
    "PAR_TOLERANCE",
    "CashFlow",
    "Schedule",
    "add_months",
    "divisible_unit_counts",
    "per_unit",
    "schedule",
    "unit_schedule",
]
