"""The robust root finder behind ``xirr`` and ``irr``.

A rate of return ``r`` is a root of ``f(r) = sum(a_i * (1 + r) ** -t_i)`` with ``t_i`` in
years (XIRR, actual/365) or periods (IRR). Everything here works in ``s = ln(1 + r)``:
``F(s) = sum(a_i * exp(-s * t_i))`` is defined for every real ``s`` (so no step can fall
below -100%), and for the usual investment (payments, then receipts) it is convex and
monotone in ``s``, where Newton converges from any start.

Overflow is avoided by evaluating ``exp(s * shift) * F(s)`` with ``shift`` the latest time
when ``s < 0`` (else 0): every exponent is then <= 0, the scaled value has the sign and the
roots of ``F``, and the Newton step ``F / F'`` is unchanged.

Newton stops when its step is below 1e-12, or when the error the step leaves behind,
predicted from the local curvature as ``|F'' / (2 F')| * step**2``, is below
``PREDICTED_ERROR`` (1e-11 in ``s``; the rates are promised to 1e-9). That saves one
evaluation of the flows in the common case without trusting the history of the steps.

No rate is returned without its residual checked (``is_small_residual``): at the rate,
``|F|`` must be at most ``RESIDUAL`` (1e-10) times ``sum(|terms|) * max(1, t_max)``. The
sum of |terms| is what F's rounding error is relative to; ``t_max`` (the latest time, in
years or periods) because an error ``e`` in ``s`` moves F by up to ``e * t_max *
sum(|terms|)``, so a rate good to 1e-11 passes on any term. Where it fails the answer is
``DidNotConverge``, never a rate. Here F is evaluated at the rate itself. The fast path
of ``irr.xirr`` bounds it instead from its last evaluation, one step before
(``taylor_residual_bound``: Taylor's formula with its remainder bounded, so the bound holds
for F at the rate, not for a model of it), and evaluates F at the rate only where the bound
does not pass: the check then costs a few operations instead of one more pass over the
flows with an exponential per flow.

The flows given here are netted per time by a plain float sum, and only nets of exactly
zero are dropped: a net is never zeroed for being small beside other flows (a ₹0.50
receipt beside a ₹10^12 payment is real). ``xirr`` nets each date exactly before it calls
``solve`` (``irr.xirr._net_by_day``), so flows that cancel on their date drop out and
nothing else does.

The search, in order:

1. Newton from the guess (steps capped at 1 in ``s``).
2. With one sign change (net flows per date, in date order) the root is unique
   (Descartes' rule of signs holds for sums of exponentials): if Newton failed, Brent's
   method (``scipy.optimize.brentq``) on ``SEARCH_INTERVAL``, then Newton from each of
   ``SCAN_GUESSES``.
3. With several sign changes there may be several roots: the roots found by Newton from
   the guess and by Brent's method on each sign change of ``F`` over a grid of ``s`` (the
   whole interval 0.04 apart, plus 0.01 apart within 1 of the guess) are collected (if
   there are none, those found by Newton from each of ``SCAN_GUESSES``), and the one
   nearest the guess (in ``r``) is returned, refined to float precision. A root where
   ``F`` touches zero without crossing it is found only if Newton reaches it; two roots
   closer than the grid spacing, far from the guess, can be missed.

Rates are searched in ``SEARCH_INTERVAL``; a root outside it counts as not found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from irr.errors import DidNotConverge, NoSignChange

#: Rates are searched for s = ln(1 + r) in [-30, 50]: r from e**-30 - 1 (-100% + 9e-12 %)
#: to e**50 - 1 (about 5e21). Wider makes no sense for money, and float stops telling
#: rates apart from -100% below s = -36.
LOWEST_LOG, HIGHEST_LOG = -30.0, 50.0
SEARCH_INTERVAL = (math.expm1(LOWEST_LOG), math.expm1(HIGHEST_LOG))
SCAN_GUESSES = (-0.99, -0.9, -0.5, -0.2, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 3.0, 10.0, 100.0, 1e4, 1e8)
MAX_STEP = 1.0  # largest Newton step in s = ln(1 + r)
MAX_ITERATIONS = 50  # with steps capped at 1, enough to cross most of the interval
#: Newton stops once the error its last step leaves in s = ln(1 + r) is predicted below this.
PREDICTED_ERROR = 1e-11
#: Below this step, the curvature is worth computing to predict the error left.
SMALL_STEP = 1e-3
GRID_POINTS = 2001  # 0.04 apart in s
FINE_GRID_POINTS = 201  # 0.01 apart, within 1 of the guess
#: At a root, |F| must be within this share of sum(|terms|) * max(1, t_max) (float noise
#: is ~1e-16 a term; see the module docstring).
RESIDUAL = 1e-10


def is_small_residual(value: float, size: float, latest: float) -> bool:
    """Whether F = ``value`` is zero to float precision, for ``size`` the sum of |terms|
    and ``latest`` the latest time (the rule of the module docstring). False for NaN."""
    return abs(value) <= RESIDUAL * max(1.0, latest) * size


def taylor_residual_bound(value, slope, curvature, step, size, span):
    """An upper bound on ``|F(s + step)|`` from ``F``, ``F'``, ``F''`` and ``size`` =
    ``sum(|terms|)`` at ``s``, for flows whose times lie in ``[0, span]``. Floats or numpy
    arrays (one entry a series) alike.

    Each term ``a * exp(-s * t)`` becomes itself times ``exp(y)``, ``y = -step * t``, and
    ``exp(y) = 1 + y + y**2 / 2 + R`` with ``|R| <= |y|**3 * exp(|y|) / 6`` (Lagrange's
    remainder), so ``|F(s + step)| <= |F + F' * step + F'' * step**2 / 2| + size * Y**3 *
    exp(Y) / 6`` with ``Y = |step| * span``. (At the new point ``sum(|terms|)`` is at least
    ``size * exp(-Y)``: the caller's tolerance uses that.)
    """
    reach = abs(step) * span
    remainder = size * (reach * reach * reach) * math.e**reach / 6.0
    return abs(value + step * (slope + 0.5 * curvature * step)) + remainder


def newton_settled(step: float, error_factor: float) -> bool:
    """Whether a Newton step of this size leaves a negligible error in ``s``.

    ``error_factor`` is ``|F'' / (2 F')|`` at the point the step was taken from; the error
    left after the step is about ``error_factor * step**2``.
    """
    return step < 1e-12 or (step < SMALL_STEP and error_factor * step * step < PREDICTED_ERROR)


class _Flows:
    """Net flows per distinct time, in time order, with the scaled evaluation of F."""

    def __init__(self, times: np.ndarray, amounts: np.ndarray) -> None:
        self.times = times
        self.amounts = amounts
        self.latest = float(times[-1])

    def scaled(self, log_rate: float) -> tuple[float, float, float, float]:
        """F, F' and F'' at ``log_rate``, all scaled by one positive factor, and the scaled
        sum of |terms| (what the rounding error of F is relative to)."""
        shift = self.latest if log_rate < 0 else 0.0
        terms = self.amounts * np.exp(-log_rate * (self.times - shift))
        weighted = terms * self.times
        return (
            float(terms.sum()),
            -float(weighted.sum()),
            float(weighted @ self.times),
            float(np.abs(terms).sum()),
        )

    def value(self, log_rate: float) -> float:
        return self.scaled(log_rate)[0]

    def newton(self, log_rate: float) -> float | None:
        """Newton from ``log_rate``; the root, or None if it diverges or leaves the interval."""
        for _ in range(MAX_ITERATIONS):
            value, slope, curvature, _ = self.scaled(log_rate)
            if not slope or not math.isfinite(value) or not math.isfinite(slope):
                return None
            step = -value / slope
            if abs(step) > MAX_STEP:
                step = math.copysign(MAX_STEP, step)
            log_rate += step
            if not LOWEST_LOG - MAX_STEP <= log_rate <= HIGHEST_LOG + MAX_STEP:
                return None
            if newton_settled(abs(step), abs(curvature / (2.0 * slope))):
                return log_rate if self.is_root(log_rate) else None
        return None

    def polish(self, log_rate: float) -> float:
        """A root refined by plain Newton steps to the limit of float (the search stops at a
        predicted 1e-11; among near-duplicate roots the choice must not pick the roughest)."""
        for _ in range(8):
            value, slope, _, _ = self.scaled(log_rate)
            if not slope:
                break
            step = -value / slope
            if not abs(step) <= 1e-6:  # not near a simple root after all (or NaN)
                break
            log_rate += step
            if abs(step) <= 4 * np.finfo(float).eps * max(1.0, abs(log_rate)):
                break
        return log_rate

    def is_root(self, log_rate: float) -> bool:
        if not LOWEST_LOG <= log_rate <= HIGHEST_LOG:
            return False
        value, _, _, size = self.scaled(log_rate)
        return is_small_residual(value, size, self.latest)

    def brent(self, low: float, high: float) -> float | None:
        from scipy.optimize import brentq  # imported here: scipy.optimize is slow to import

        root = brentq(self.value, low, high, xtol=1e-15, rtol=4 * np.finfo(float).eps)
        return root if self.is_root(root) else None

    def grid_roots(self, start: float) -> list[float]:
        """Roots of F bracketed by sign changes over the search grid."""
        grid = np.union1d(
            np.linspace(LOWEST_LOG, HIGHEST_LOG, GRID_POINTS),
            np.clip(start + np.linspace(-1.0, 1.0, FINE_GRID_POINTS), LOWEST_LOG, HIGHEST_LOG),
        )
        shifts = np.where(grid < 0, self.latest, 0.0)
        values = np.empty_like(grid)
        chunk = max(1, 2_000_000 // len(self.times))  # bound the grid x flows matrix
        for begin in range(0, len(grid), chunk):
            part = slice(begin, begin + chunk)
            exponents = -grid[part, None] * (self.times[None, :] - shifts[part, None])
            values[part] = np.exp(exponents) @ self.amounts
        roots = [float(point) for point in grid[values == 0.0] if self.is_root(float(point))]
        signs = np.sign(values)
        for index in np.flatnonzero(signs[:-1] * signs[1:] < 0).tolist():
            root = self.brent(float(grid[index]), float(grid[index + 1]))
            if root is not None:
                roots.append(root)
        return roots


def net_flows(times: Sequence[float], amounts: Sequence[float]) -> tuple[_Flows, int]:
    """Net the flows per distinct time (a float sum: callers net exactly first where flows
    may cancel), drop the nets of exactly zero, and count the sign changes between the rest.

    Raises NoSignChange when the nets have one sign (or are all zero).
    """
    time_array = np.asarray(times, dtype=float)
    amount_array = np.asarray(amounts, dtype=float)
    distinct, inverse = np.unique(time_array, return_inverse=True)
    nets = np.bincount(inverse, weights=amount_array, minlength=len(distinct))
    keep = nets != 0.0
    distinct, nets = distinct[keep], nets[keep]
    signs = np.sign(nets)
    if len(nets) == 0 or signs.min() == signs.max():
        raise NoSignChange("Net of flows on the same date, the flows all have one sign.")
    changes = int(np.count_nonzero(signs[1:] != signs[:-1]))
    return _Flows(distinct, nets), changes


def solve(times: Sequence[float], amounts: Sequence[float], guess: float) -> float:
    """The rate r with sum(a_i * (1 + r) ** -t_i) = 0, nearest the guess when there are several.

    ``times`` are non-negative (years or periods); the caller has validated the flows.
    """
    flows, changes = net_flows(times, amounts)
    start = math.log1p(guess)
    root = flows.newton(start)
    if changes == 1:
        if root is None:
            root = _unique_root(flows)
        if root is None:
            raise DidNotConverge(
                "No rate of return was found in the searched interval "
                f"({SEARCH_INTERVAL[0]:.14f} to {SEARCH_INTERVAL[1]:.3g})."
            )
        return _checked(flows, root)
    roots = ([root] if root is not None else []) + flows.grid_roots(start)
    if not roots:
        scanned = (flows.newton(math.log1p(scan)) for scan in SCAN_GUESSES)
        roots = [log_rate for log_rate in scanned if log_rate is not None]
    if not roots:
        raise DidNotConverge(
            f"The flows change sign {changes} times and no rate makes their value zero."
        )
    nearest = min(roots, key=lambda log_rate: (abs(math.expm1(log_rate) - guess), log_rate))
    return _checked(flows, nearest)


def _checked(flows: _Flows, root: float) -> float:
    """The root polished, as a rate, once its residual is checked (the unpolished root if
    polishing made it worse); DidNotConverge if neither is a root."""
    for log_rate in (flows.polish(root), root):
        if flows.is_root(log_rate):
            return math.expm1(log_rate)
    raise DidNotConverge("The search ended on a rate whose present value is not zero.")


def _unique_root(flows: _Flows) -> float | None:
    if flows.value(LOWEST_LOG) * flows.value(HIGHEST_LOG) < 0:
        root = flows.brent(LOWEST_LOG, HIGHEST_LOG)
        if root is not None:
            return root
    for scan in SCAN_GUESSES:
        root = flows.newton(math.log1p(scan))
        if root is not None:
            return root
    return None
