"""Schedules: exact to the paisa, never negative, and yielding their rate at par."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irr import (
    KINDS,
    InvalidRate,
    InvalidSchedule,
    NotDivisible,
    UnitTooSmall,
    add_months,
    divisible_unit_counts,
    per_unit,
    schedule,
    unit_schedule,
    xirr,
)

PROPERTY = settings(max_examples=120, deadline=None, database=None)
PAISA = Decimal("0.01")
TOLERANCE = 0.0001  # DESIGN: XIRR at par within 0.01 percentage point of the rate
FREQUENCIES = ["monthly", "quarterly", "half_yearly", "annual", 2]


PRINCIPAL_PAISE = st.integers(1_000_000, 10_000_000_000)


@st.composite
def terms(draw, principal=PRINCIPAL_PAISE):
    """A schedule's terms: principal from 10,000 to 10 crore rupees, 0-40%, 1-60 months
    (sometimes with an odd stub of days), any frequency, sometimes a holiday calendar."""
    kind = draw(st.sampled_from(KINDS))
    start = dt.date(2020, 1, 1) + dt.timedelta(days=draw(st.integers(0, 3650)))
    maturity = add_months(start, draw(st.integers(1, 60)))
    maturity += dt.timedelta(days=draw(st.sampled_from([0, 0, 0, 1, 9, 17])))
    holidays = draw(
        st.none()
        | st.sets(st.dates(start, maturity + dt.timedelta(days=10)), max_size=20).map(frozenset)
    )
    return {
        "kind": kind,
        "principal": Decimal(draw(principal)) * PAISA,
        "annual_rate": Decimal(draw(st.integers(0, 4000))) / 10000,
        "start": start,
        "maturity": maturity,
        "frequency": draw(st.sampled_from(FREQUENCIES)),
        "balloon_share": Decimal(draw(st.integers(5, 95))) / 100 if kind == "balloon" else None,
        "holidays": holidays,
    }


def _build(terms_):
    arguments = dict(terms_)
    return schedule(
        arguments.pop("kind"),
        arguments.pop("principal"),
        arguments.pop("annual_rate"),
        arguments.pop("start"),
        arguments.pop("maturity"),
        arguments.pop("frequency"),
        **arguments,
    )


@PROPERTY
@given(terms())
def test_every_schedule_is_exact_non_negative_and_yields_its_rate(terms_):
    generated = _build(terms_)
    rows = generated.rows

    assert sum(row.principal for row in rows) == terms_["principal"]
    assert all(row.principal >= 0 and row.interest >= 0 for row in rows)
    assert all(row.principal == row.principal.quantize(PAISA) for row in rows)
    assert all(row.interest == row.interest.quantize(PAISA) for row in rows)
    dates = [terms_["start"]] + [row.date for row in rows]
    assert dates == sorted(set(dates))
    flows = [(terms_["start"], -terms_["principal"])] + [(row.date, row.amount) for row in rows]
    assert abs(xirr(flows) - float(terms_["annual_rate"])) <= TOLERANCE
    if terms_["holidays"] is None:
        assert rows[-1].date == terms_["maturity"]
    else:
        assert rows[-1].date >= terms_["maturity"]
        assert all(row.date.weekday() < 5 and row.date not in terms_["holidays"] for row in rows)


@PROPERTY
@given(terms())
def test_each_kind_has_its_shape(terms_):
    rows = _build(terms_).rows
    principal = terms_["principal"]
    kind = terms_["kind"]

    if kind == "bullet":
        assert len(rows) == 1
    if kind in ("bullet", "interest_only"):
        assert [row.principal for row in rows] == [Decimal(0)] * (len(rows) - 1) + [principal]
    if kind == "equal_principal":
        parts = [row.principal for row in rows]
        assert max(parts) - min(parts) <= PAISA
    if kind == "amortizing":
        assert len({row.amount for row in rows[:-1]}) <= 1  # level to the paisa but the last
    if kind == "balloon":
        balloon = (principal * terms_["balloon_share"]).quantize(PAISA)
        assert rows[-1].principal >= balloon
        parts = [row.principal for row in rows[:-1]]
        assert not parts or max(parts) - min(parts) <= PAISA


def test_a_bullet_pays_once_at_maturity_with_the_whole_terms_interest():
    (row,) = schedule(
        "bullet", Decimal("100000.00"), Decimal("0.12"), dt.date(2024, 1, 1), dt.date(2024, 4, 1)
    )

    assert row.date == dt.date(2024, 4, 1)
    assert row.principal == Decimal("100000.00")
    assert row.interest == Decimal("2865.75")  # 100000 * (1.12 ** (91 / 365) - 1) = 2865.749...


def test_an_emi_is_level_and_the_last_row_clears_the_balance():
    generated = schedule(
        "amortizing",
        Decimal("100000.00"),
        Decimal("0.12"),
        dt.date(2024, 1, 31),
        dt.date(2025, 1, 31),
        "monthly",
    )

    assert [str(row.amount) for row in generated] == ["8855.12"] * 11 + ["8855.10"]
    assert generated.xirr_at_par() == pytest.approx(0.12, abs=1e-7)


def test_payment_dates_step_by_months_from_the_start_and_end_at_maturity():
    generated = schedule(
        "interest_only", Decimal("1000.00"), 0, dt.date(2024, 1, 31), dt.date(2024, 5, 15), 1
    )

    assert [row.date for row in generated] == [
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
        dt.date(2024, 4, 30),
        dt.date(2024, 5, 15),
    ]


def test_with_a_calendar_payments_roll_to_the_next_business_day():
    holidays = {dt.date(2024, 4, 1)}
    terms_ = ("interest_only", Decimal("100000.00"), 0.1, dt.date(2024, 1, 1))

    rolled = schedule(*terms_, dt.date(2024, 7, 1), "monthly", holidays=holidays)
    unrolled = schedule(*terms_, dt.date(2024, 7, 1), "monthly")

    # Jun 1 2024 is a Saturday; Apr 1 a holiday.
    assert [row.date for row in rolled] == [
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 1),
        dt.date(2024, 4, 2),
        dt.date(2024, 5, 1),
        dt.date(2024, 6, 3),
        dt.date(2024, 7, 1),
    ]
    assert unrolled[4].date == dt.date(2024, 6, 1)
    assert rolled[2].interest > unrolled[2].interest  # interest runs to the rolled date
    assert rolled.xirr_at_par() == pytest.approx(0.1, abs=1e-6)


@PROPERTY
@given(
    st.integers(1_000, 100_000).map(lambda rupees: Decimal(rupees)),
    st.integers(1, 500),
    terms(principal=st.just(100)),
)
def test_per_unit_splits_a_whole_schedule_exactly(face_value, units, terms_):
    whole = _build({**terms_, "principal": face_value * units})

    unit = per_unit(whole, units)

    assert unit.principal == face_value
    assert sum(row.principal for row in unit) == face_value
    assert all(row.principal >= 0 and row.interest >= 0 for row in unit)
    assert [row.date for row in unit] == [row.date for row in whole]
    assert abs(unit.xirr_at_par() - float(terms_["annual_rate"])) <= TOLERANCE


def test_a_unit_schedule_is_generated_on_the_face_value_so_an_emi_stays_level():
    unit = unit_schedule(
        "amortizing",
        Decimal("10000.00"),
        Decimal("0.14"),
        dt.date(2024, 1, 1),
        dt.date(2025, 1, 1),
        1,
    )

    assert len({row.amount for row in unit.rows[:-1]}) == 1
    assert sum(row.principal for row in unit) == Decimal("10000.00")


def test_a_principal_that_does_not_divide_into_paise_says_which_unit_counts_would():
    whole = schedule(
        "bullet", Decimal("100000.00"), Decimal("0.1"), dt.date(2024, 1, 1), dt.date(2025, 1, 1)
    )

    with pytest.raises(NotDivisible) as raised:
        per_unit(whole, 7)

    assert raised.value.code == "not_divisible"
    assert raised.value.suggestions == [8, 5, 4, 10, 2]
    assert all(10_000_000 % count == 0 for count in raised.value.suggestions)
    assert "8, 5, 4, 10, 2" in raised.value.detail


@PROPERTY
@given(st.integers(1, 10**12), st.integers(1, 10**6), st.integers(1, 8))
def test_divisible_unit_counts_divide_and_come_nearest_first(paise, near, limit):
    counts = divisible_unit_counts(Decimal(paise) * PAISA, near=near, limit=limit)

    assert counts and len(counts) <= limit
    assert all(paise % count == 0 for count in counts)
    distances = [abs(count - near) for count in counts]
    assert distances == sorted(distances)
    assert all(abs(other - near) >= distances[-1] for other in (1, paise) if other not in counts)


def test_a_unit_too_small_to_yield_its_rate_is_refused():
    with pytest.raises(UnitTooSmall) as raised:
        unit_schedule(
            "bullet", Decimal("10.00"), Decimal("0.12"), dt.date(2024, 1, 1), dt.date(2024, 1, 31)
        )

    assert raised.value.code == "unit_too_small"


@pytest.mark.parametrize(
    ("arguments", "keywords", "error"),
    [
        (
            ("weekly", Decimal(100), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1), 1),
            {},
            InvalidSchedule,
        ),
        (
            ("bullet", Decimal(100), 0.1, dt.date(2024, 1, 1), dt.date(2024, 1, 1)),
            {},
            InvalidSchedule,
        ),
        (
            ("bullet", Decimal("100.001"), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
            {},
            InvalidSchedule,
        ),
        (
            ("bullet", Decimal("-100"), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
            {},
            InvalidSchedule,
        ),
        (
            ("bullet", Decimal(100), -0.01, dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
            {},
            InvalidRate,
        ),
        (
            ("amortizing", Decimal(100), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
            {},
            InvalidSchedule,
        ),
        (
            ("amortizing", Decimal(100), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1), 0),
            {},
            InvalidSchedule,
        ),
        (
            ("balloon", Decimal(100), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1), 1),
            {},
            InvalidSchedule,
        ),
        (
            ("balloon", Decimal(100), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1), 1),
            {"balloon_share": Decimal(1)},
            InvalidSchedule,
        ),
        (
            ("amortizing", Decimal(100), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1), 1),
            {"balloon_share": Decimal("0.5")},
            InvalidSchedule,
        ),
    ],
    ids=[
        "unknown kind",
        "maturity not after start",
        "fraction of a paisa",
        "negative principal",
        "negative rate",
        "no frequency",
        "zero months",
        "balloon without share",
        "balloon share of one",
        "share on another kind",
    ],
)
def test_parameters_that_describe_no_schedule_are_refused(arguments, keywords, error):
    with pytest.raises(error):
        schedule(*arguments, **keywords)


def test_a_float_principal_is_refused():
    with pytest.raises(TypeError):
        schedule("bullet", 100.0, 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1))


def test_the_schedule_gives_its_flows_for_xirr():
    generated = schedule("bullet", Decimal("500.00"), 0.1, dt.date(2024, 1, 1), dt.date(2025, 1, 1))

    assert generated.flows() == [
        (dt.date(2024, 1, 1), Decimal("-500.00")),
        (dt.date(2025, 1, 1), generated[0].amount),
    ]
    assert generated.maturity == dt.date(2025, 1, 1)
    assert generated.total_interest == generated[0].interest
