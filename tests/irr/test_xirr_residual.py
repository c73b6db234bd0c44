"""Issue 24, item 6: the solver never answers a non-root, and no real flow is taken for noise.

Flows on one date are netted exactly; a net is zero only where they cancel. Every rate
returned (by ``xirr``, ``xirr_many`` and ``irr``) has its residual checked before it is
returned, else ``DidNotConverge``. The checks here are apart from the package: the flows
netted in Decimal and the present value evaluated in 120-digit Decimal (tests/irr/oracle.py).
"""

import datetime as dt
import math
import sys
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irr import DidNotConverge, IrrError, irr, xirr, xirr_many
from irr._roots import HIGHEST_LOG, LOWEST_LOG, taylor_residual_bound
from tests.irr.oracle import exact_nets, exact_root_near, exact_value, has_small_residual
from tests.irr.test_xirr import MICROSOFT_FLOWS, TWO_ROOTS

# A payment of ₹1 lakh crore and ₹1 back on its date, then ₹2 and ₹0.50: the ₹0.50 is real
# (dropping it as noise of the ₹10^12 gave -0.999999999998, whose residual is the whole NPV).
HUGE_PAYMENT = [
    (dt.date(2025, 1, 1), Decimal("-1000000000000.00")),
    (dt.date(2025, 1, 1), Decimal("1.00")),
    (dt.date(2026, 1, 1), Decimal("2.00")),
    (dt.date(2030, 1, 1), Decimal("0.50")),
]
HUGE_PAYMENT_ROOT = -0.99652350730834075770  # exact_root_near, 50 digits
# A paisa paid, then ₹10^10 received less ₹1 paid on one date, then ₹5: the paisa is real
# (dropping it as noise left no payment: NoSignChange).
HUGE_RECEIPT = [
    (dt.date(2025, 1, 1), Decimal("-0.01")),
    (dt.date(2026, 1, 1), Decimal("10000000000.00")),
    (dt.date(2026, 1, 1), Decimal("-1.00")),
    (dt.date(2027, 1, 1), Decimal("5.00")),
]
HUGE_RECEIPT_ROOT = 999999999898.99999991736  # exact_root_near, 50 digits


@pytest.mark.parametrize(
    ("flows", "root"),
    [(HUGE_PAYMENT, HUGE_PAYMENT_ROOT), (HUGE_RECEIPT, HUGE_RECEIPT_ROOT)],
    ids=["huge payment, small receipts", "small payment, huge receipt"],
)
def test_a_small_flow_beside_a_huge_one_counts(flows, root):
    exact = float(exact_root_near(root, flows, width=1e-9))

    rate = xirr(flows)

    assert rate == pytest.approx(exact, rel=1e-12)
    assert has_small_residual(rate, flows)
    assert xirr_many([flows]).rates[0] == pytest.approx(rate, rel=1e-11)
    assert xirr_many([flows]).reasons == [None]


@pytest.mark.usefixtures("packer")
def test_xirr_many_answers_the_issues_series_as_xirr_does():
    batch = [MICROSOFT_FLOWS, HUGE_PAYMENT, HUGE_RECEIPT, TWO_ROOTS]

    result = xirr_many(batch)

    assert result.reasons == [None] * 4
    assert result.rates.tolist() == pytest.approx([xirr(flows) for flows in batch], rel=1e-11)


def test_flows_that_cancel_exactly_on_their_date_are_netted_to_zero_whatever_their_float_sum():
    # 0.1 + 0.2 - 0.3 is 5.6e-17 in float; in Decimal, as given, exactly 0: that date drops out
    # and what is left has one sign.
    flows = [
        (dt.date(2024, 1, 1), Decimal("0.1")),
        (dt.date(2024, 1, 1), Decimal("0.2")),
        (dt.date(2024, 1, 1), Decimal("-0.3")),
        (dt.date(2025, 1, 1), Decimal("50")),
        (dt.date(2026, 1, 1), Decimal("-1")),
        (dt.date(2026, 1, 1), Decimal("1")),
    ]

    with pytest.raises(IrrError) as raised:
        xirr(flows)

    assert raised.value.code == "no_sign_change"


def test_every_path_checks_the_residual_before_returning_a_rate(monkeypatch):
    """With a tolerance no residual can meet (below zero), no path answers: the fast path (one sign change),
    the vectorised one (xirr_many), the robust one (several sign changes) and irr."""
    monkeypatch.setattr(sys.modules["irr._roots"], "RESIDUAL", -1.0)
    monkeypatch.setattr(sys.modules["irr.xirr"], "RESIDUAL", -1.0, raising=False)

    for flows in (MICROSOFT_FLOWS, TWO_ROOTS, HUGE_PAYMENT):
        with pytest.raises(DidNotConverge):
            xirr(flows)
    assert xirr_many([MICROSOFT_FLOWS, TWO_ROOTS]).reasons == ["did_not_converge"] * 2
    with pytest.raises(DidNotConverge):
        irr([Decimal("-100"), Decimal("60"), Decimal("60")])


START = dt.date(2020, 1, 1)
PAISA = Decimal("0.01")


@st.composite
def amounts_of_any_size(draw):
    """Paise to ₹10^12, log-uniform, either sign."""
    digits = draw(st.integers(0, 14))
    paise = draw(st.integers(10**digits, 10 ** (digits + 1) - 1))
    return Decimal(paise * draw(st.sampled_from([1, -1]))) * PAISA


@st.composite
def series_of_any_scale(draw):
    """2-8 flows of any size on a few dates over up to 2,000 days (so dates repeat), with
    sometimes flows that cancel on their date (x and -x, or x, y and -(x + y))."""
    days = draw(st.lists(st.integers(0, 2000), min_size=2, max_size=4, unique=True))
    flows = [
        (START + dt.timedelta(days=draw(st.sampled_from(days))), draw(amounts_of_any_size()))
        for _ in range(draw(st.integers(2, 8)))
    ]
    for _ in range(draw(st.integers(0, 2))):
        day = START + dt.timedelta(days=draw(st.sampled_from(days)))
        first, second = draw(amounts_of_any_size()), draw(amounts_of_any_size())
        flows += [(day, first), (day, second), (day, -(first + second))]
    return draw(st.permutations(flows))


def _root_in_the_searched_interval(nets) -> bool:
    """One sign change and the present value changes sign over s in [LOWEST_LOG, HIGHEST_LOG]:
    then exactly one root exists there, and the solver must find it."""
    signs = [net > 0 for _, net in nets]
    if sum(1 for before, after in pairwise(signs) if before != after) != 1:
        return False
    low, _ = exact_value(Decimal(LOWEST_LOG), nets)
    high, _ = exact_value(Decimal(HIGHEST_LOG), nets)
    return low * high < 0


RESIDUAL_PROPERTY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@RESIDUAL_PROPERTY
@given(series_of_any_scale(), st.sampled_from([0.1, -0.5, 0.0, 2.0]))
def test_any_rate_returned_is_a_root_of_the_flows_netted_exactly(flows, guess):
    try:
        rate = xirr(flows, guess=guess)
    except IrrError as error:
        rate, reason = None, error.code
    many = xirr_many([flows], guess=guess)

    if rate is None:
        assert many.reasons == [reason]
        assert math.isnan(many.rates[0])
    else:
        assert has_small_residual(rate, flows), rate
        assert many.reasons == [None]
        assert abs(many.rates[0] - rate) <= 1e-9 * max(1.0, abs(rate))
    nets = exact_nets(flows)
    if nets and _root_in_the_searched_interval(nets):
        assert rate is not None, f"the flows have a root, and xirr said {reason}"
        # Bisect on the nets: raw flows that cancel leave 50-digit noise that can swamp
        # the terms near -100%.
        netted = [(START + dt.timedelta(days=day), net) for day, net in nets]
        exact = exact_root_near(rate, netted, width=1e-6)
        assert exact is not None
        assert abs(rate - float(exact)) <= 1e-9 * max(1.0, abs(float(exact)))


@RESIDUAL_PROPERTY
@given(st.lists(amounts_of_any_size(), min_size=2, max_size=12), st.sampled_from([0.1, -0.5, 2.0]))
def test_any_periodic_rate_returned_is_a_root(amounts, guess):
    try:
        rate = irr(amounts, guess=guess)
    except IrrError:
        return
    flows = [(START + dt.timedelta(days=365 * period), amount) for period, amount in enumerate(amounts)]
    # One period a year of 365 days: the per-period rate is the XIRR convention's rate.
    assert has_small_residual(rate, flows), rate


def test_where_the_bound_does_not_pass_the_fast_path_evaluates_the_residual(monkeypatch):
    monkeypatch.setattr(sys.modules["irr.xirr"], "taylor_residual_bound", lambda *arguments: math.inf)
    calls = []
    robust = sys.modules["irr.xirr"].solve
    monkeypatch.setattr(sys.modules["irr.xirr"], "solve", lambda *arguments: calls.append(1) or robust(*arguments))

    assert xirr(MICROSOFT_FLOWS) == pytest.approx(0.37336253351883151, abs=1e-12)
    assert calls == []  # answered by the fast path, on the residual evaluated at the rate


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(st.tuples(st.integers(0, 3650), amounts_of_any_size()), min_size=1, max_size=30),
    st.floats(-5.0, 5.0),
    st.floats(-0.05, 0.05),
)
def test_the_taylor_bound_bounds_the_residual_one_step_on(flows, log_rate, step):
    """``taylor_residual_bound`` from F, F', F'' and sum(|terms|) at s (in float, as the fast
    path computes them) is at least |F(s + step)| computed in 120-digit Decimal, up to the
    rounding of those float sums."""
    years = [day / 365 for day, _ in flows]
    terms = [float(amount) * math.exp(-log_rate * year) for (_, amount), year in zip(flows, years, strict=True)]
    value, size = math.fsum(terms), math.fsum(map(abs, terms))
    slope = -math.fsum(term * year for term, year in zip(terms, years, strict=True))
    curvature = math.fsum(term * year * year for term, year in zip(terms, years, strict=True))

    bound = taylor_residual_bound(value, slope, curvature, step, size, max(years))

    nets = [(day, Decimal(amount)) for day, amount in flows]
    exact, _ = exact_value(Decimal(log_rate) + Decimal(step), nets)
    assert abs(exact) <= Decimal(bound) + Decimal("1e-13") * Decimal(size)
