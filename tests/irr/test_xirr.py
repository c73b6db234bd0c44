"""xirr and xnpv on known answers, every error case, and the awkward shapes of flows."""

import datetime as dt
import math
from decimal import Decimal

import pytest

from irr import (
    DidNotConverge,
    InvalidFlow,
    InvalidRate,
    IrrError,
    NoSignChange,
    TooFewFlows,
    price_for_xirr,
    xirr,
    xirr_at_price,
    xnpv,
)
from tests.irr.oracle import exact_root_near, is_root

# Microsoft's XIRR/XNPV documentation example.
MICROSOFT_FLOWS = [
    (dt.date(2008, 1, 1), Decimal("-10000")),
    (dt.date(2008, 3, 1), Decimal("2750")),
    (dt.date(2008, 10, 30), Decimal("4250")),
    (dt.date(2009, 2, 15), Decimal("3250")),
    (dt.date(2009, 4, 1), Decimal("2750")),
]
# The exact root (50-digit bisection, tests/irr/oracle.py). Excel prints 0.373362535, which
# is its own iterate: 1.5e-9 above the root, so no correct solver matches it to 1e-9.
MICROSOFT_ROOT = 0.37336253351883151


def test_xirr_matches_microsofts_example():
    rate = xirr(MICROSOFT_FLOWS)

    assert abs(rate - MICROSOFT_ROOT) < 1e-12
    assert abs(Decimal(repr(MICROSOFT_ROOT)) - exact_root_near(rate, MICROSOFT_FLOWS)) < Decimal(
        "1e-15"
    )
    assert round(rate, 8) == round(0.373362535, 8)  # Excel's published figure, to its 8 places


def test_xnpv_matches_microsofts_example_to_the_paisa():
    assert xnpv(Decimal("0.09"), MICROSOFT_FLOWS) == Decimal("2086.65")
    assert xnpv(0.09, MICROSOFT_FLOWS) == Decimal("2086.65")


def test_xnpv_at_the_xirr_is_zero():
    assert xnpv(xirr(MICROSOFT_FLOWS), MICROSOFT_FLOWS) == Decimal("0.00")


def test_xnpv_discounts_to_the_earliest_date_in_any_order():
    assert xnpv(0.09, reversed(MICROSOFT_FLOWS)) == Decimal("2086.65")


def test_xnpv_of_no_flows_is_zero():
    assert xnpv(0.1, []) == Decimal("0.00")


def test_xirr_does_not_depend_on_the_order_of_the_flows():
    shuffled = [MICROSOFT_FLOWS[index] for index in (3, 0, 4, 2, 1)]

    assert xirr(shuffled) == pytest.approx(MICROSOFT_ROOT, abs=1e-12)
    assert xirr(list(reversed(MICROSOFT_FLOWS))) == pytest.approx(MICROSOFT_ROOT, abs=1e-12)


def test_xirr_accepts_any_iterable_and_float_or_int_amounts():
    as_floats = ((date, float(amount)) for date, amount in MICROSOFT_FLOWS)

    assert xirr(as_floats) == pytest.approx(MICROSOFT_ROOT, abs=1e-12)
    assert xirr(tuple((date, int(amount)) for date, amount in MICROSOFT_FLOWS)) == pytest.approx(
        MICROSOFT_ROOT, abs=1e-12
    )


def test_a_loss_gives_a_negative_yield():
    flows = [(dt.date(2023, 1, 1), Decimal("-1000")), (dt.date(2024, 1, 1), Decimal("900"))]

    assert xirr(flows) == pytest.approx(-0.1, abs=1e-12)


def test_a_near_total_loss_is_found_close_to_minus_100_percent():
    flows = [(dt.date(2023, 1, 1), Decimal("-100000")), (dt.date(2024, 1, 1), Decimal("0.01"))]

    assert xirr(flows) == pytest.approx(-0.9999999, abs=1e-12)


def test_a_yield_above_1000_percent():
    year = [(dt.date(2023, 1, 1), Decimal("-100")), (dt.date(2024, 1, 1), Decimal("1200"))]
    month = [(dt.date(2024, 3, 1), Decimal("-100")), (dt.date(2024, 3, 31), Decimal("150"))]

    assert xirr(year) == pytest.approx(11.0, abs=1e-12)  # 1100%
    assert xirr(month) == pytest.approx(1.5 ** (365 / 30) - 1, rel=1e-12)  # about 13782%


def test_a_borrowers_view_has_the_same_rate_as_the_lenders():
    borrower = [(date, -amount) for date, amount in MICROSOFT_FLOWS]

    assert xirr(borrower) == pytest.approx(MICROSOFT_ROOT, abs=1e-12)


def test_zero_flows_and_several_flows_on_one_date_are_netted():
    start = dt.date(2024, 1, 1)
    flows = [
        (start, Decimal("-600")),
        (start, Decimal("-400")),
        (dt.date(2024, 7, 1), Decimal("0")),
        (dt.date(2025, 1, 1), Decimal("1100")),
    ]

    assert xirr(flows) == pytest.approx(1.1 ** (365 / 366) - 1, abs=1e-12)  # 2024 is a leap year


TWO_ROOTS = [
    # -100 + 230 v - 132 v**2 with v = 1 / (1 + r): roots at r = 10% and r = 20%.
    (dt.date(2021, 1, 1), Decimal("-100")),
    (dt.date(2022, 1, 1), Decimal("230")),
    (dt.date(2023, 1, 1), Decimal("-132")),
]


@pytest.mark.parametrize(
    ("guess", "root"),
    [(-0.5, 0.1), (0.0, 0.1), (0.14, 0.1), (0.16, 0.2), (0.3, 0.2), (5.0, 0.2)],
)
def test_with_two_roots_the_one_nearest_the_guess_is_returned(guess, root):
    assert xirr(TWO_ROOTS, guess=guess) == pytest.approx(root, abs=1e-12)


def test_the_nearest_root_wins_even_where_newton_from_the_guess_finds_the_other():
    # Newton from 0.148 converges to 0.2 (checked in the next test); 0.1 is nearer.
    assert xirr(TWO_ROOTS, guess=0.148) == pytest.approx(0.1, abs=1e-12)


def test_newton_alone_from_0_148_would_find_the_farther_root():
    from irr._roots import net_flows

    flows, _ = net_flows([0.0, 1.0, 2.0], [-100.0, 230.0, -132.0])

    assert math.expm1(flows.newton(math.log1p(0.148))) == pytest.approx(0.2, abs=1e-10)


def test_several_sign_changes_and_no_root_did_not_converge():
    flows = [
        (dt.date(2021, 1, 1), Decimal("-100")),
        (dt.date(2022, 1, 1), Decimal("200")),
        (dt.date(2023, 1, 1), Decimal("-150")),
    ]

    with pytest.raises(DidNotConverge) as raised:
        xirr(flows)

    assert raised.value.code == "did_not_converge"


@pytest.mark.parametrize(
    "flows",
    [
        [],
        [(dt.date(2024, 1, 1), Decimal("-100"))],
        [(dt.date(2024, 1, 1), Decimal("-100")), (dt.date(2024, 1, 1), Decimal("110"))],
        [(dt.date(2024, 1, 1), Decimal("-100")), (dt.date(2024, 1, 1), Decimal("-10"))],
    ],
    ids=["no flows", "one flow", "one date", "one date, one sign"],
)
def test_too_few_flows(flows):
    with pytest.raises(TooFewFlows) as raised:
        xirr(flows)

    assert raised.value.code == "too_few_flows"


@pytest.mark.parametrize(
    "amounts",
    [
        ("100", "110"),
        ("-100", "-110"),
        ("0", "0"),
        ("0", "-5"),
    ],
    ids=["all receipts", "all payments", "all zero", "zero and a payment"],
)
def test_no_sign_change(amounts):
    flows = [
        (dt.date(2024, 1, 1), Decimal(amounts[0])),
        (dt.date(2025, 1, 1), Decimal(amounts[1])),
    ]

    with pytest.raises(NoSignChange) as raised:
        xirr(flows)

    assert raised.value.code == "no_sign_change"


def test_flows_that_cancel_on_their_date_leave_no_sign_change():
    flows = [
        (dt.date(2024, 1, 1), Decimal("-100")),
        (dt.date(2024, 1, 1), Decimal("100")),
        (dt.date(2025, 1, 1), Decimal("50")),
    ]

    with pytest.raises(NoSignChange):
        xirr(flows)


@pytest.mark.parametrize(
    "amount", [Decimal("NaN"), Decimal("Infinity"), float("inf"), float("nan")]
)
def test_an_amount_that_is_not_finite_is_refused(amount):
    flows = [(dt.date(2024, 1, 1), Decimal("-100")), (dt.date(2025, 1, 1), amount)]

    with pytest.raises(InvalidFlow) as raised:
        xirr(flows)

    assert raised.value.code == "invalid_flow"


@pytest.mark.parametrize("guess", [-1, -2, Decimal("-1.5"), float("nan"), "ten"])
def test_a_guess_at_or_below_minus_100_percent_is_refused(guess):
    with pytest.raises(InvalidRate) as raised:
        xirr(MICROSOFT_FLOWS, guess=guess)

    assert raised.value.code == "invalid_rate"


def test_xnpv_refuses_a_rate_at_or_below_minus_100_percent():
    with pytest.raises(InvalidRate):
        xnpv(-1, MICROSOFT_FLOWS)


@pytest.mark.parametrize("date", ["2025-01-01", None, 20250101, dt.time(12)])
def test_a_date_that_is_not_a_date_is_an_invalid_flow(date):
    flows = [(dt.date(2024, 1, 1), Decimal("-100")), (date, Decimal("110"))]
    start = dt.date(2024, 1, 1)

    for call in (
        lambda: xirr(flows),
        lambda: xirr(list(reversed(flows))),
        lambda: xnpv(0.1, flows),
        lambda: price_for_xirr(flows[1:], start, 0.1),
        lambda: xirr_at_price(flows[1:], start, Decimal("100")),
        lambda: price_for_xirr([(dt.date(2025, 1, 1), Decimal("110"))], date, 0.1),
        lambda: xirr_at_price([(dt.date(2025, 1, 1), Decimal("110"))], date, Decimal("100")),
    ):
        with pytest.raises(InvalidFlow) as raised:
            call()
        assert raised.value.code == "invalid_flow"


def test_a_flow_that_is_not_a_pair_is_a_programming_error():
    with pytest.raises(TypeError):
        xirr([(dt.date(2024, 1, 1), Decimal("-1"), "extra"), (dt.date(2025, 1, 1), Decimal("2"))])


def test_every_error_is_an_irr_error_with_a_code_and_a_detail():
    errors = [TooFewFlows(), NoSignChange(), DidNotConverge(), InvalidFlow(), InvalidRate()]

    assert all(isinstance(error, IrrError) for error in errors)
    assert len({error.code for error in errors}) == len(errors)
    assert all(error.detail and str(error) == error.detail for error in errors)


def test_a_decimal_guess_is_accepted():
    assert xirr(TWO_ROOTS, guess=Decimal("0.25")) == pytest.approx(0.2, abs=1e-12)


def test_the_result_is_a_root_to_float_precision():
    rate = xirr(MICROSOFT_FLOWS)

    assert is_root(rate, MICROSOFT_FLOWS, tolerance=1e-13)
    assert math.isfinite(rate)
