"""XIRR and friends: rates of return of dated cash flows.

Convention (Excel's and pyxirr's): actual/365 from the earliest date, so a flow ``a`` on a
date ``d`` days after the earliest is worth ``a * (1 + r) ** (-d / 365)`` there. The
solvers work in ``s = ln(1 + r)``, where no step can fall below -100% (see
``irr._roots``).

``xirr`` has a pure-Python fast path for the usual case. When every payment is dated before
every receipt (or every receipt before every payment) the rate is unique, the guess cannot
change it, and Halley's method (Newton's step with a curvature correction) started from a
Newton step taken at r = 0 settles in two or three evaluations of the flows; on 24 flows
the whole call takes about 20 microseconds. Anything else (several sign changes, or the
fast path failing) goes to ``irr._roots.solve``: Newton from the guess, then Brent's method
on a documented interval, then a scan of guesses; with several roots, the root nearest the
guess.

Flows on one date are netted exactly (the amounts as given, in rational arithmetic) before
the robust path sees them: a net is zero only where flows cancel, never because it is
small beside other flows. And no rate is returned before its residual is checked (the rule
of ``irr._roots``: |NPV| within 1e-10 of the sum of |terms|, times the span in years when
longer than one); where it fails the robust path takes over, and ends in
``DidNotConverge`` rather than in a rate that is not a root. The fast path bounds the
residual from its last evaluation (a few operations); ``xirr_many`` evaluates every
series once more at its rate. A date that is not a date is an ``InvalidFlow``.

``xirr_many`` solves many series at once: the plain ones (payments, then receipts) in a
vectorised iteration over all of them (chunk by chunk), the others (and any the iteration
does not settle) one by one with ``xirr``; the answer carries a rate per series (NaN where
there is none) and the error code why. Reading the caller's Python objects into arrays
costs more than solving; ``irr/_speedups.c``, when built, does it in compiled code.

Money comes in as ``Decimal`` (``float`` and ``int`` work too, for analytics) and goes out
as ``Decimal`` rounded half up to paise; rates go out as ``float``, accurate to about 1e-11
(to 1e-14 typically).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import chain, compress, pairwise
from math import exp, expm1, isfinite, log1p
from operator import itemgetter, mul

import numpy as np

from irr._numbers import Rate, float_rate, float_to_money
from irr._roots import (
    HIGHEST_LOG,
    LOWEST_LOG,
    MAX_STEP,
    PREDICTED_ERROR,
    RESIDUAL,
    SMALL_STEP,
    is_small_residual,
    newton_settled,
    solve,
    taylor_residual_bound,
)
from irr.errors import InvalidFlow, InvalidRate, IrrError, NoSignChange, TooFewFlows

try:  # optional and built by `make install` (irr/_build.py); the same results without it
    from irr._speedups import pack_flows as _pack_flows
except ImportError:
    _pack_flows = None

Amount = Decimal | float | int
Flow = tuple[dt.date, Amount]

DAYS_PER_YEAR = 365.0
FAST_ITERATIONS = 40
CHUNK_FLOWS = 16_384  # flows xirr_many reads and solves at a time (see there)

_toordinal = dt.date.toordinal
_is_negative = (0.0).__gt__
_is_positive = (0.0).__lt__
_first = itemgetter(0)
_second = itemgetter(1)
_SEQUENCES = (list, tuple)


def xirr(flows: Iterable[Flow], guess: Rate = 0.1) -> float:
    """The annual rate r at which the flows' present value is zero (actual/365).

    ``flows`` are ``(date, amount)`` pairs in any order; payments negative, receipts positive.
    With several roots (flows that change sign more than once) the root nearest ``guess``.
    Where every payment comes before every receipt (or every receipt before every payment)
    the root is unique and the guess cannot change it; the fast path then starts from a
    Newton step taken at r = 0, computed from plain sums, which is usually closer.

    Raises TooFewFlows (fewer than two flows, or all on one date), InvalidFlow (an amount
    that is not finite, or a date that is not a date), NoSignChange (no payment or no
    receipt, once the flows on each date are netted) or DidNotConverge (no rate whose
    residual passes the check).
    """
    guess_rate = float_rate(guess, "guess")
    offsets, values, amounts, total, is_single_change = _prepare(flows)
    if is_single_change:
        log_rate = _halley_days(offsets, amounts, _first_step(offsets, amounts, total))
        if log_rate is not None:
            return expm1(log_rate)
    return solve(*_net_by_day(offsets, values, amounts), guess_rate)


def _prepare(flows: Iterable[Flow]) -> tuple[list[int], tuple, list[float], float, bool]:
    """Validate the flows, in this order: at least two, dates, finite amounts, at least two
    dates, a payment and a receipt. Returns day offsets from the earliest date, the amounts
    as given and as floats, their sum, and whether every payment precedes every receipt (or
    the reverse), which makes the root unique."""
    if not isinstance(flows, _SEQUENCES):
        flows = list(flows)
    if len(flows) < 2:
        raise TooFewFlows(f"A rate of return needs at least two flows, got {len(flows)}.")
    try:
        dates, values = zip(*flows, strict=True)
    except (TypeError, ValueError) as error:
        raise TypeError("Each flow must be a (date, amount) pair.") from error
    days = _day_numbers(dates)
    try:
        amounts = list(map(float, values))
    except (TypeError, ValueError) as error:
        raise InvalidFlow("Every flow amount must be a number.") from error
    total = sum(amounts)
    if not isfinite(total):
        raise InvalidFlow("Every flow amount must be finite.")
    first = min(days)
    last_payment = max(compress(days, map(_is_negative, amounts)), default=None)
    first_receipt = min(compress(days, map(_is_positive, amounts)), default=None)
    # A payment dated before every receipt implies two dates; only otherwise check for one.
    is_single_change = last_payment is not None and first_receipt is not None
    is_single_change = is_single_change and last_payment < first_receipt
    if not is_single_change:
        if first == max(days):
            raise TooFewFlows("Every flow is on one date: no time passes, so there is no rate.")
        if last_payment is None or first_receipt is None:
            raise NoSignChange()
        is_single_change = max(compress(days, map(_is_positive, amounts))) < min(
            compress(days, map(_is_negative, amounts))
        )
    return [day - first for day in days], values, amounts, total, is_single_change


def _day_numbers(dates: Iterable[dt.date]) -> list[int]:
    """Each date's ``toordinal()``; InvalidFlow for anything that is not a date (a
    datetime counts as its date)."""
    try:
        return list(map(_toordinal, dates))
    except TypeError as error:
        raise InvalidFlow("Every flow date must be a date (datetime.date).") from error


def _net_by_day(
    offsets: list[int], values: Sequence[Amount], amounts: list[float]
) -> tuple[list[float], list[float]]:
    """Times in years and one net amount per date, the flows on each date added exactly
    (a Decimal or an int as given, anything else as its float), then rounded to float once.
    So flows that cancel give exactly 0 (0.1 + 0.2 - 0.3 in float is 5.6e-17), and no
    real flow is lost however small beside the others. Dates without repeats cost nothing."""
    if len(set(offsets)) == len(offsets):
        return [offset / DAYS_PER_YEAR for offset in offsets], amounts
    nets: dict[int, Fraction] = {}
    for offset, value, amount in zip(offsets, values, amounts, strict=True):
        exact = Fraction(value) if isinstance(value, Decimal | int) else Fraction(amount)
        nets[offset] = nets.get(offset, 0) + exact
    days = sorted(nets)
    return [day / DAYS_PER_YEAR for day in days], [float(nets[day]) for day in days]


def _first_step(offsets: list[int], amounts: list[float], total: float) -> float:
    """One Newton step in s = ln(1 + r) taken at r = 0, where it needs no exponentials."""
    moment = sum(map(mul, amounts, offsets))
    if not moment:
        return 0.0
    return max(-MAX_STEP, min(MAX_STEP, DAYS_PER_YEAR * total / moment))


def _halley_days(offsets: list[int], amounts: list[float], log_rate: float) -> float | None:
    """Halley's method (Newton's step with a curvature correction, cubic convergence) in
    s = ln(1 + r), on whole-day offsets with plain floats: fast for the few dozen flows of
    one series. None if it fails; the caller then takes the robust path.

    With ``k = -s / 365`` each term is ``amount * exp(k * offset)``, and ``F' = -g / 365``,
    ``F'' = h / 365**2`` for ``g`` and ``h`` the sums of the terms times offset and
    offset**2. Where the correction is large (far from the root) the plain Newton step is
    taken instead. It stops under the rule of ``irr._roots.newton_settled``, and answers
    only once the flows' value at the result passes the residual check of ``irr._roots``.
    """
    pairs = list(zip(amounts, offsets, strict=True))
    squares = [offset * offset for offset in offsets]
    for _ in range(FAST_ITERATIONS):
        factor = -log_rate / DAYS_PER_YEAR
        try:
            terms = [amount * exp(factor * offset) for amount, offset in pairs]
        except OverflowError:
            return None
        value = sum(terms)
        first_moment = sum(map(mul, terms, offsets))
        if not first_moment:
            return None
        second_moment = sum(map(mul, terms, squares))
        newton_step = DAYS_PER_YEAR * value / first_moment
        error_factor = second_moment / (2.0 * DAYS_PER_YEAR * first_moment)
        correction = 1.0 - newton_step * error_factor
        step = newton_step / correction if 0.5 < correction < 2.0 else newton_step
        if not abs(step) <= MAX_STEP:
            if step != step:  # NaN: an infinite value or moment
                return None
            step = math.copysign(MAX_STEP, step)
        log_rate += step
        if newton_settled(abs(step), abs(error_factor)):
            if not LOWEST_LOG <= log_rate <= HIGHEST_LOG:
                return None
            moments = (value, first_moment, second_moment)
            return log_rate if _is_root_days(offsets, pairs, terms, moments, step, log_rate) else None
    return None


def _is_root_days(
    offsets: list[int],
    pairs: list[tuple[float, int]],
    terms: list[float],
    moments: tuple[float, float, float],
    step: float,
    log_rate: float,
) -> bool:
    """The residual check of ``irr._roots`` at ``log_rate``, reached by ``step`` from the
    point where ``terms`` and their ``moments`` (sums of the terms times offset**0, 1, 2)
    were evaluated: first bounded from those (``irr._roots.taylor_residual_bound``, a few
    operations), and only if the bound does not pass, evaluated at ``log_rate``."""
    value, first_moment, second_moment = moments
    span = max(offsets) / DAYS_PER_YEAR
    size = sum(map(abs, terms))
    slope, curvature = -first_moment / DAYS_PER_YEAR, second_moment / DAYS_PER_YEAR**2
    bound = taylor_residual_bound(value, slope, curvature, step, size, span)
    if bound <= RESIDUAL * max(1.0, span) * size * exp(-abs(step) * span):
        return True
    factor = -log_rate / DAYS_PER_YEAR
    try:
        terms = [amount * exp(factor * offset) for amount, offset in pairs]
    except OverflowError:
        return False
    return is_small_residual(sum(terms), sum(map(abs, terms)), span)


def xnpv(rate: Rate, flows: Iterable[Flow]) -> Decimal:
    """Present value of the flows at the earliest date, at annual rate ``rate`` (actual/365),
    rounded half up to paise. (pyxirr discounts to the first listed date instead; the same
    for flows in date order.) No flows: zero."""
    log_rate = log1p(float_rate(rate))
    flows = list(flows)
    if not flows:
        return Decimal("0.00")
    first = min(_day_numbers(date for date, _ in flows))
    return float_to_money(_present_value(log_rate, first, flows))


def _present_value(log_rate: float, base_day: int, flows: Sequence[Flow]) -> float:
    try:
        amounts = [float(amount) for _, amount in flows]
    except (TypeError, ValueError) as error:
        raise InvalidFlow("Every flow amount must be a number.") from error
    if not isfinite(sum(amounts)):
        raise InvalidFlow("Every flow amount must be finite.")
    days = _day_numbers(date for date, _ in flows)
    factor = -log_rate / DAYS_PER_YEAR
    try:
        return math.fsum(
            amount * exp(factor * (day - base_day)) for amount, day in zip(amounts, days, strict=True)
        )
    except OverflowError as error:
        raise InvalidRate("The rate is too close to -100% to discount over these dates.") from error


def price_for_xirr(
    flows_after: Iterable[Flow],
    settle_date: dt.date,
    target: Rate,
    *,
    places: int | None = 2,
) -> Decimal:
    """The price paid on ``settle_date`` that gives the buyer exactly ``target`` XIRR on
    ``flows_after`` (the flows still to come, none dated before ``settle_date``).

    It is their present value at ``settle_date``, rounded half up to ``places`` decimals
    (paise by default; None keeps the unrounded value for further computation).
    """
    log_rate = log1p(float_rate(target, "target"))
    flows = _flows_after(flows_after, settle_date)
    return float_to_money(_present_value(log_rate, _settle_day(settle_date), flows), places)


def xirr_at_price(
    flows_after: Iterable[Flow],
    settle_date: dt.date,
    price: Amount,
    guess: Rate = 0.1,
) -> float:
    """The buyer's XIRR when paying ``price`` on ``settle_date`` for ``flows_after``."""
    flows = _flows_after(flows_after, settle_date)
    return xirr([(settle_date, -price), *flows], guess)


def _flows_after(flows_after: Iterable[Flow], settle_date: dt.date) -> list[Flow]:
    flows = list(flows_after)
    if not flows:
        raise TooFewFlows("There are no flows after settlement to price.")
    settle_day = _settle_day(settle_date)
    if any(day < settle_day for day in _day_numbers(date for date, _ in flows)):
        raise InvalidFlow(f"A flow is dated before settlement on {settle_date.isoformat()}.")
    return flows


def _settle_day(settle_date: dt.date) -> int:
    try:
        return _toordinal(settle_date)
    except TypeError as error:
        raise InvalidFlow(f"The settlement date must be a date, got {settle_date!r}.") from error


@dataclass(frozen=True, eq=False)
class XirrBatch:
    """Result of ``xirr_many``: ``rates[i]`` is series i's XIRR, NaN where it has none, and
    ``reasons[i]`` the error code why (an ``IrrError.code``), else None."""

    rates: np.ndarray
    reasons: list[str | None] = field(repr=False)

    def __len__(self) -> int:
        return len(self.rates)


def xirr_many(series: Iterable[Sequence[Flow]], guess: Rate = 0.1) -> XirrBatch:
    """XIRR of many series at once, vectorised with numpy.

    Each series is a sequence of ``(date, amount)`` pairs and gets the answer ``xirr`` would
    give (the two agree to about 1e-11). Every series whose payments all come before its
    receipts (an investor's view: the root is unique) is solved in a vectorised iteration
    over all of them; any other series, or one that iteration does not settle, goes to
    ``xirr`` on its own, which also names the error of a series that has no rate. ``guess``
    matters only there, for series with several roots.

    The series are read and solved in chunks of about ``CHUNK_FLOWS`` flows: each series'
    answer does not depend on the others, and arrays of 128 KB stay in the CPU's
    cache and in memory the allocator reuses, where arrays of the whole batch (megabytes,
    fresh on every call) cost a page fault every 4 KB (docs/benchmarks.md, "XIRR").
    """
    guess_rate = float_rate(guess, "guess")
    series = series if isinstance(series, list) else list(series)
    try:
        lengths = np.fromiter(map(len, series), dtype=np.intp, count=len(series))
    except TypeError:  # an iterator among the series: read each once, into a list
        series = [list(flows) for flows in series]
        lengths = np.fromiter(map(len, series), dtype=np.intp, count=len(series))
    rates = np.full(len(series), np.nan)
    for start, stop in _chunks(lengths):
        chunk_lengths = lengths[start:stop]
        total = int(chunk_lengths.sum())
        if total:
            packed = _pack(series[start:stop], total)
            if packed is not None:
                _solve_plain_series(*packed, chunk_lengths, rates[start:stop])
    reasons: list[str | None] = [None] * len(series)
    for index in np.flatnonzero(np.isnan(rates)).tolist():
        try:
            rates[index] = xirr(series[index], guess_rate)
        except IrrError as error:
            reasons[index] = error.code
    return XirrBatch(rates=rates, reasons=reasons)


def _chunks(lengths: np.ndarray) -> list[tuple[int, int]]:
    """Runs ``(start, stop)`` of consecutive series, grouped by the multiple of
    ``CHUNK_FLOWS`` their last flow reaches: about that many flows a run, at most that plus
    the flows of its first series."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    cuts = np.searchsorted(ends, np.arange(CHUNK_FLOWS, total, CHUNK_FLOWS), side="right")
    bounds = [0, *cuts.tolist(), len(lengths)]
    return [(start, stop) for start, stop in pairwise(bounds) if start < stop]


def _pack(series: list[Sequence[Flow]], total: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Every flow's day number and float amount, series after series. None if a flow is
    malformed; then each of these series goes through ``xirr``, which says what is wrong.

    The compiled packer (``irr/_speedups.c``, when built) reads the flows in one pass, 2.5
    times quicker with Decimal amounts and 6 times with floats; when it meets anything out
    of the ordinary it declines and the pure-Python packer reads the series, so both give
    the same arrays or the same error."""
    if _pack_flows is not None:
        days = np.empty(total, dtype=np.int64)
        amounts = np.empty(total, dtype=np.float64)
        if _pack_flows(series, days, amounts):
            return days, amounts
    return _pack_python(series, total)


def _pack_python(series: list[Sequence[Flow]], total: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``_pack`` in pure Python: two passes over the flows (quicker than transposing them
    with zip)."""
    try:
        days = np.fromiter(
            map(_toordinal, map(_first, chain.from_iterable(series))), dtype=np.int64, count=total
        )
        amounts = np.fromiter(
            map(float, map(_second, chain.from_iterable(series))), dtype=np.float64, count=total
        )
    except (TypeError, ValueError, IndexError, InvalidOperation):
        return None
    return days, amounts


def _solve_plain_series(
    days: np.ndarray, amounts: np.ndarray, lengths: np.ndarray, rates: np.ndarray
) -> None:
    """Fill ``rates`` for the plain series: at least two flows, all finite, and every payment
    dated before every receipt (so at least two dates and exactly one root). Others stay NaN.
    """
    present = np.flatnonzero(lengths > 0)  # reduceat needs non-empty segments
    present_lengths = lengths[present]
    starts = np.cumsum(present_lengths) - present_lengths
    low, high = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    payment_last = np.maximum.reduceat(np.where(amounts < 0, days, low), starts)
    receipt_first = np.minimum.reduceat(np.where(amounts > 0, days, high), starts)
    plain = (
        (present_lengths >= 2)
        & (payment_last != low)
        & (receipt_first != high)
        & (payment_last < receipt_first)
    )
    finite = np.isfinite(amounts)
    if not finite.all():
        plain &= np.logical_and.reduceat(finite, starts)
    if not plain.any():
        return
    first = np.minimum.reduceat(days, starts)
    offsets = (days - np.repeat(first, present_lengths)).astype(np.float64)
    if not plain.all():
        keep = np.repeat(plain, present_lengths)
        offsets, amounts = offsets[keep], amounts[keep]
    plain_lengths = present_lengths[plain]
    log_rates = _halley_many(offsets, amounts, plain_lengths)
    log_rates[~_are_roots(offsets, amounts, plain_lengths, log_rates)] = np.nan
    rates[present[plain]] = np.expm1(log_rates)  # NaN where the iteration did not settle


def _halley_many(offsets: np.ndarray, amounts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Halley's method in s = ln(1 + r) for all series at once; NaN where one did not settle.

    Starts from one Newton step taken at r = 0 (plain sums, no exponentials), which for
    payments-then-receipts series lands close to the root; Halley's steps converge
    cubically from there (the plain Newton step is taken where the correction is large). A
    series stops under the same rule as ``xirr``'s (the error Newton would leave,
    ``|F'' / 2F'| * step**2``, bounds Halley's). Once most series have stopped, the arrays
    are cut down to the rest, so the last iteration costs little. The caller checks the
    residual at each rate (``_are_roots``).
    """
    result = np.full(len(lengths), np.nan)
    working = np.arange(len(lengths))  # which series the arrays still hold
    weighted = np.empty_like(amounts)
    with np.errstate(all="ignore"):
        starts = np.cumsum(lengths) - lengths
        net = np.add.reduceat(amounts, starts)
        np.multiply(amounts, offsets, out=weighted)
        duration = np.add.reduceat(weighted, starts)
        log_rates = np.where(duration != 0, DAYS_PER_YEAR * net / duration, 0.0)
        np.clip(log_rates, -MAX_STEP, MAX_STEP, out=log_rates)
        active = np.ones(len(lengths), dtype=bool)
        for _ in range(FAST_ITERATIONS):
            terms = np.repeat(log_rates * (-1.0 / DAYS_PER_YEAR), lengths)
            terms *= offsets
            np.exp(terms, out=terms)
            terms *= amounts
            value = np.add.reduceat(terms, starts)
            np.multiply(terms, offsets, out=weighted)
            slope = np.add.reduceat(weighted, starts) * (-1.0 / DAYS_PER_YEAR)
            weighted *= offsets
            curvature = np.add.reduceat(weighted, starts) * (1.0 / DAYS_PER_YEAR**2)
            newton_steps = -value / slope
            error_factor = curvature / (2.0 * slope)
            correction = 1.0 + newton_steps * error_factor
            steps = np.where(
                (correction > 0.5) & (correction < 2.0), newton_steps / correction, newton_steps
            )
            np.clip(steps, -MAX_STEP, MAX_STEP, out=steps)  # NaN stays NaN
            failed = active & ~np.isfinite(steps)
            steps[~active | failed] = 0.0
            log_rates += steps
            size = np.abs(steps)
            done = active & ~failed & (
                (size < 1e-12)
                | ((size < SMALL_STEP) & (np.abs(error_factor) * size * size < PREDICTED_ERROR))
            )
            result[working[done]] = log_rates[done]
            active &= ~(done | failed)
            remaining = np.count_nonzero(active)
            if remaining == 0:
                break
            if remaining < 0.7 * len(active):
                keep = np.repeat(active, lengths)
                offsets, amounts = offsets[keep], amounts[keep]
                weighted = np.empty_like(amounts)
                lengths, log_rates, working = lengths[active], log_rates[active], working[active]
                starts = np.cumsum(lengths) - lengths
                active = np.ones(remaining, dtype=bool)
    inside = (result >= LOWEST_LOG) & (result <= HIGHEST_LOG)
    return np.where(inside, result, np.nan)


def _are_roots(
    offsets: np.ndarray, amounts: np.ndarray, lengths: np.ndarray, log_rates: np.ndarray
) -> np.ndarray:
    """The residual check of ``irr._roots`` for every series at once, at its rate (False
    where the rate is NaN), without the allowance for spans over a year: stricter than the
    rule, which costs nothing but time, since a series that fails it goes to ``xirr``."""
    starts = np.cumsum(lengths) - lengths
    with np.errstate(all="ignore"):
        terms = np.repeat(log_rates * (-1.0 / DAYS_PER_YEAR), lengths)
        terms *= offsets
        np.exp(terms, out=terms)
        terms *= amounts
        value = np.add.reduceat(terms, starts)
        np.abs(terms, out=terms)
        return np.abs(value) <= RESIDUAL * np.add.reduceat(terms, starts)
