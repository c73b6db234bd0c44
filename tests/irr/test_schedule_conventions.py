"""Issue 24, item 5a: a schedule's rate convention (effective_actual_365, the default, or
nominal_monthly, r / 12 a month), both against numpy-financial, and schedules that cannot
amortize refused with CannotAmortize instead of ending in rows of 0.00."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irr import (
    CONVENTIONS,
    CannotAmortize,
    InvalidSchedule,
    add_months,
    irr,
    per_unit,
    schedule,
    unit_schedule,
)
from irr.schedules import _growths, _unrounded_yield

# numpy-financial's pmt and ipmt divide by the rate before choosing the rate-0 branch.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
PROPERTY = settings(max_examples=120, deadline=None, database=None)
PAISA = Decimal("0.01")
START = dt.date(2025, 1, 1)
LAKH = Decimal("100000.00")


def _decimal(value) -> Decimal:
    """A numpy-financial result (a numpy float) as Decimal, by its shortest repr."""
    return Decimal(repr(float(value)))


def _npf_paise(value) -> Decimal:
    """A numpy-financial result as the nearest paisa (half up)."""
    return _decimal(value).quantize(PAISA, rounding=ROUND_HALF_UP)


def test_ten_lakh_at_12_percent_over_12_months_in_each_convention():
    effective = schedule("amortizing", 10 * LAKH, Decimal("0.12"), START, add_months(START, 12), "monthly")
    explicit = schedule(
        "amortizing", 10 * LAKH, Decimal("0.12"), START, add_months(START, 12), "monthly",
        convention="effective_actual_365",
    )
    nominal = schedule(
        "amortizing", 10 * LAKH, Decimal("0.12"), START, add_months(START, 12), "monthly",
        convention="nominal_monthly",
    )

    assert {row.amount for row in effective.rows[:-1]} == {Decimal("88540.09")}  # the default
    assert explicit == effective
    assert {row.amount for row in nominal.rows[:-1]} == {Decimal("88848.79")}
    assert _npf_paise(npf.pmt(0.12 / 12, 12, -1_000_000)) == Decimal("88848.79")
    assert nominal.convention == "nominal_monthly" and effective.convention == "effective_actual_365"
    assert sum(row.principal for row in nominal) == 10 * LAKH
    # Interest as numpy-financial's ipmt, row by row, to the paisa (ours runs on the
    # rounded EMI, so the balance drifts by at most a paisa over the year).
    expected = [_npf_paise(npf.ipmt(0.01, period, 12, -1_000_000)) for period in range(1, 13)]
    assert all(abs(row.interest - want) <= PAISA for row, want in zip(nominal, expected, strict=True))
    assert nominal.total_interest == Decimal("66185.46")  # 12 x 88,848.79 - 10 lakh, less 2 paise
    assert nominal.par_yield == pytest.approx(Decimal("0.1273818937"), abs=Decimal("1e-9"))


def test_effective_actual_365_over_years_of_365_days_is_numpy_financials_annuity():
    # 2025, 2026 and 2027 have 365 days each: one period a year is exactly r a period.
    generated = schedule("amortizing", 10 * LAKH, Decimal("0.12"), START, dt.date(2028, 1, 1), "annual")

    level = _npf_paise(npf.pmt(0.12, 3, -1_000_000))
    assert [row.amount for row in generated.rows[:-1]] == [level, level]
    assert abs(generated.rows[-1].amount - level) <= PAISA
    expected = [_npf_paise(npf.ipmt(0.12, period, 3, -1_000_000)) for period in (1, 2, 3)]
    assert all(abs(row.interest - want) <= PAISA for row, want in zip(generated, expected, strict=True))
    assert generated.rows[0].interest == Decimal("120000.00")


rates = st.integers(0, 4000).map(lambda basis_points: Decimal(basis_points) / 10000)
principals = st.integers(100_000, 10_000_000_000).map(lambda paise: Decimal(paise) * PAISA)


@PROPERTY
@given(principals, rates, st.integers(1, 120), st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)))
def test_a_nominal_monthly_emi_is_numpy_financials_pmt(principal, rate, months, start):
    generated = schedule(
        "amortizing", principal, rate, start, add_months(start, months), "monthly", convention="nominal_monthly"
    )

    payment = npf.pmt(float(rate) / 12, months, -float(principal))
    assert all(abs(row.amount - _decimal(payment)) <= Decimal("0.005001") for row in generated.rows[:-1])
    assert sum(row.principal for row in generated) == principal
    assert all(row.principal > 0 and row.interest >= 0 for row in generated)
    interest = sum(npf.ipmt(float(rate) / 12, range(1, months + 1), months, -float(principal)))
    # Ours pays the EMI rounded to paise: up to half a paisa a month too much or too little,
    # which the balance carries forward with interest until the last row settles it.
    monthly = rate / 12
    carried = sum((1 + monthly) ** month for month in range(months))
    assert abs(generated.total_interest - _decimal(interest)) <= Decimal("0.005") * (months + carried) + PAISA
    # Its own yield, r / 12 a month, comes back from the rows (periodic IRR, no dates).
    monthly = irr([-principal, *(row.amount for row in generated)], guess=0.01)
    assert abs(Decimal(repr(monthly)) * 12 - rate) <= Decimal("0.0001")


@PROPERTY
@given(principals, rates, st.integers(1, 3), st.sampled_from([START, dt.date(2029, 1, 1)]))
def test_an_effective_emi_over_years_of_365_days_is_numpy_financials_pmt(principal, rate, years, start):
    generated = schedule(
        "amortizing", principal, rate, start, add_months(start, 12 * years), "annual",
        convention="effective_actual_365",
    )

    payment = npf.pmt(float(rate), years, -float(principal))
    assert all(abs(row.amount - _decimal(payment)) <= Decimal("0.005001") for row in generated.rows[:-1])
    assert abs(generated.rows[-1].amount - _decimal(payment)) <= Decimal("0.02")
    assert generated.rows[0].interest == (principal * rate).quantize(PAISA, rounding=ROUND_HALF_UP)


@PROPERTY
@given(
    st.sampled_from(["amortizing", "equal_principal", "interest_only", "balloon"]),
    principals,
    rates,
    st.integers(1, 60),
    st.sampled_from([0, 0, 1, 9, 17]),
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
)
def test_every_nominal_monthly_schedule_is_exact_and_yields_its_rate(kind, principal, rate, months, stub, start):
    maturity = add_months(start, months) + dt.timedelta(days=stub)
    share = Decimal("0.3") if kind == "balloon" else None

    generated = schedule(
        kind, principal, rate, start, maturity, "monthly", balloon_share=share, convention="nominal_monthly"
    )

    assert sum(row.principal for row in generated) == principal
    assert all(row.principal >= 0 and row.interest >= 0 for row in generated)
    assert generated.rows[-1].date == maturity
    assert abs(Decimal(repr(generated.xirr_at_par())) - generated.par_yield) <= Decimal("0.0001")
    if stub == 0 and kind == "interest_only":
        # r / 12 of the principal each month, to the paisa.
        monthly = (principal * rate / 12).quantize(PAISA, rounding=ROUND_HALF_UP)
        assert all(abs(row.interest - monthly) <= PAISA for row in generated)


def test_a_broken_last_period_earns_simple_interest_on_its_days():
    # 15 Jan to 15 Apr: three whole months at 1 %; 15 Apr to 30 Apr: 15 days at 12 % / 365.
    generated = schedule(
        "interest_only", LAKH, Decimal("0.12"), dt.date(2025, 1, 15), dt.date(2025, 4, 30), "monthly",
        convention="nominal_monthly",
    )

    assert [row.interest for row in generated] == [Decimal("1000.00")] * 3 + [Decimal("493.15")]
    assert [row.date for row in generated][-2:] == [dt.date(2025, 4, 15), dt.date(2025, 4, 30)]


def test_the_unrounded_yield_of_an_effective_schedule_is_its_rate():
    # The helper behind par_yield, checked where the answer is known: r itself.
    dates = [add_months(START, month) for month in range(1, 13)] + [dt.date(2026, 1, 20)]
    growths, factors = _growths("effective_actual_365", Decimal("0.1"), START, dates)

    for kind, share in (("amortizing", None), ("equal_principal", None), ("balloon", Decimal("0.4"))):
        found = _unrounded_yield(kind, LAKH, START, dates, factors, growths, share)
        assert found == pytest.approx(Decimal("0.1"), abs=Decimal("1e-12"))


def test_units_keep_the_convention_and_are_checked_against_its_yield():
    unit = unit_schedule(
        "amortizing", Decimal("10000.00"), Decimal("0.12"), START, add_months(START, 12), 1,
        convention="nominal_monthly",
    )
    whole = schedule(
        "amortizing", 100 * LAKH, Decimal("0.12"), START, add_months(START, 12), 1, convention="nominal_monthly"
    )

    assert {row.amount for row in unit.rows[:-1]} == {Decimal("888.49")}
    split = per_unit(whole, 1000)
    assert split.convention == "nominal_monthly"
    assert split.par_yield == whole.par_yield
    assert sum(row.principal for row in split) == Decimal("10000.00")


def test_an_emi_whose_interest_reaches_its_level_payment_is_refused():
    # 1,000 % a year over 24 months: January's 31 days earn 225,877.43, more than the level
    # payment the average month sets. Before, that row paid interest only, and the schedule
    # ended in a row of 0.00.
    with pytest.raises(CannotAmortize) as raised:
        schedule("amortizing", 10 * LAKH, Decimal("10"), START, add_months(START, 24), "monthly")

    assert raised.value.code == "cannot_amortize"
    assert isinstance(raised.value, InvalidSchedule)
    assert "225877.43 due on 2025-02-01 reaches the level payment" in raised.value.detail
    # r / 12 a month: every whole month earns the same, below the EMI.
    nominal = schedule(
        "amortizing", 10 * LAKH, Decimal("10"), START, add_months(START, 24), "monthly",
        convention="nominal_monthly",
    )
    assert all(row.principal > 0 for row in nominal)
    # At 5,000 % the EMI rounded to paise is all interest even so: refused too.
    with pytest.raises(CannotAmortize):
        schedule(
            "amortizing", 10 * LAKH, Decimal("50"), START, add_months(START, 24), "monthly",
            convention="nominal_monthly",
        )


@pytest.mark.parametrize(
    ("kind", "principal", "rate", "months"),
    [
        ("amortizing", "1.00", "0", 200),  # 0.01 a month repays it in 100: 100 rows of 0.00
        ("amortizing", "1.00", "0", 360),  # the level payment rounds to 0.00
        ("equal_principal", "0.05", "0.1", 12),  # 5 rows of 0.01, then 0.00
    ],
)
def test_a_schedule_that_would_end_in_rows_of_zero_is_refused(kind, principal, rate, months):
    maturity = add_months(START, months)
    for convention in CONVENTIONS:
        with pytest.raises(CannotAmortize):
            schedule(kind, Decimal(principal), Decimal(rate), START, maturity, 1, convention=convention)


@pytest.mark.parametrize(
    ("kind", "frequency", "keywords"),
    [
        ("amortizing", "monthly", {"convention": "actual_360"}),
        ("bullet", None, {"convention": "nominal_monthly"}),
        ("amortizing", "quarterly", {"convention": "nominal_monthly"}),
        ("amortizing", "monthly", {"convention": "nominal_monthly", "holidays": {dt.date(2025, 3, 3)}}),
    ],
    ids=["unknown convention", "nominal bullet", "nominal quarterly", "nominal with holidays"],
)
def test_conventions_that_do_not_apply_are_refused(kind, frequency, keywords):
    with pytest.raises(InvalidSchedule) as raised:
        schedule(kind, LAKH, Decimal("0.12"), START, add_months(START, 12), frequency, **keywords)

    assert raised.value.code == "invalid_schedule"
