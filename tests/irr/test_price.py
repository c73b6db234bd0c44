"""price_for_xirr and xirr_at_price: the buyer's quote both ways, inverse to each other."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irr import (
    InvalidFlow,
    InvalidRate,
    TooFewFlows,
    price_for_xirr,
    schedule,
    xirr_at_price,
)

PROPERTY = settings(max_examples=150, deadline=None, database=None)
START = dt.date(2024, 1, 15)


def _remaining_flows(kind: str, months: int, settle_after_days: int):
    generated = schedule(
        kind,
        Decimal("10000.00"),
        Decimal("0.13"),
        START,
        START + dt.timedelta(days=30 * months),
        "monthly",
        balloon_share=Decimal("0.4") if kind == "balloon" else None,
    )
    settle = START + dt.timedelta(days=settle_after_days)
    flows = [(row.date, row.amount) for row in generated if row.date > settle]
    return flows, settle


remaining = st.builds(
    _remaining_flows,
    st.sampled_from(["bullet", "equal_principal", "amortizing", "balloon", "interest_only"]),
    st.integers(3, 36),
    st.integers(0, 60),
)


@PROPERTY
@given(remaining, st.floats(-0.5, 3.0))
def test_the_price_for_a_yield_yields_it(flows_and_settle, target):
    flows, settle = flows_and_settle

    price = price_for_xirr(flows, settle, target, places=None)

    assert abs(xirr_at_price(flows, settle, price) - target) <= 1e-6


@PROPERTY
@given(remaining, st.integers(50, 120))
def test_the_yield_at_a_price_prices_back_to_it_to_the_paisa(flows_and_settle, percent):
    flows, settle = flows_and_settle
    price = (sum(amount for _, amount in flows) * percent / 100).quantize(Decimal("0.01"))

    rate = xirr_at_price(flows, settle, price)

    assert price_for_xirr(flows, settle, rate) == price


def test_at_start_and_at_the_schedules_rate_the_price_is_par():
    generated = schedule(
        "amortizing", Decimal("10000.00"), Decimal("0.13"), START, dt.date(2025, 1, 15), "monthly"
    )
    flows = [(row.date, row.amount) for row in generated]

    assert abs(price_for_xirr(flows, START, Decimal("0.13")) - Decimal("10000.00")) <= Decimal(
        "0.02"
    )
    assert xirr_at_price(flows, START, Decimal("10000.00")) == pytest.approx(0.13, abs=1e-4)


def test_a_higher_yield_means_a_lower_price():
    flows, settle = _remaining_flows("amortizing", 12, 20)

    assert price_for_xirr(flows, settle, 0.10) > price_for_xirr(flows, settle, 0.20)


def test_the_price_is_rounded_to_paise_half_up_by_default():
    flows = [(dt.date(2025, 1, 1), Decimal("100.00"))]

    assert price_for_xirr(flows, dt.date(2024, 1, 1), 0) == Decimal("100.00")
    assert price_for_xirr(flows, dt.date(2024, 1, 1), 0.1).as_tuple().exponent == -2


def test_a_flow_on_the_settlement_date_counts_at_its_face():
    flows = [(dt.date(2023, 1, 1), Decimal("5.00")), (dt.date(2024, 1, 1), Decimal("110.00"))]

    assert price_for_xirr(flows, dt.date(2023, 1, 1), 0.1) == Decimal("105.00")


def test_a_flow_before_settlement_is_refused():
    flows = [(dt.date(2023, 12, 31), Decimal("5.00")), (dt.date(2025, 1, 1), Decimal("110.00"))]

    with pytest.raises(InvalidFlow):
        price_for_xirr(flows, dt.date(2024, 1, 1), 0.1)
    with pytest.raises(InvalidFlow):
        xirr_at_price(flows, dt.date(2024, 1, 1), Decimal("100.00"))


def test_nothing_left_to_price_is_refused():
    with pytest.raises(TooFewFlows):
        price_for_xirr([], dt.date(2024, 1, 1), 0.1)


def test_a_target_at_or_below_minus_100_percent_is_refused():
    with pytest.raises(InvalidRate):
        price_for_xirr([(dt.date(2025, 1, 1), Decimal("1"))], dt.date(2024, 1, 1), -1)
