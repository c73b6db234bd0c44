import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import allocate, to_money


def test_to_money_rounds_half_up():
    assert to_money("2.345") == Decimal("2.35")
    assert to_money("2.344") == Decimal("2.34")
    assert to_money("-2.345") == Decimal("-2.35")
    assert to_money(7) == Decimal("7.00")


@pytest.mark.parametrize("bad", [0.1, float("nan"), True])
def test_to_money_refuses_floats_and_bools(bad):
    with pytest.raises(TypeError):
        to_money(bad)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity"])
def test_to_money_refuses_non_numbers(bad):
    with pytest.raises(ValueError):
        to_money(bad)


def test_allocate_worked_example():
    # 100.00 over 3 equal weights: 33.333… each; the leftover paisa goes to the first.
    assert allocate(Decimal("100.00"), [1, 1, 1]) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    # Largest remainder wins, not position: shares 16.666…, 33.333…, 50.000.
    assert allocate(Decimal("0.05"), [1, 2, 3]) == [Decimal("0.01"), Decimal("0.02"), Decimal("0.02")]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_meaningless_weights(weights):
    with pytest.raises(ValueError):
        allocate(Decimal("1.00"), weights)


amounts = st.decimals(min_value=Decimal("-1000000000"), max_value=Decimal("1000000000"), places=2)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40).filter(any)


@given(total=amounts, weights=weight_lists)
def test_allocate_parts_sum_exactly_and_stay_within_a_paisa_of_the_exact_share(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total * Decimal(weight) / Decimal(weight_sum)
        assert abs(part - exact) < Decimal("0.01")
        assert part == part.quantize(Decimal("0.01"))


def test_allocate_compares_equal_remainders_exactly_and_gives_the_tie_to_the_earlier_part():
    # Issue 24: 38658 paise over weights summing to 84138. The floors leave 2 paise; the
    # remainders are 68220, 22740, 22740, 4548, 25014, 25014 (over 84138): the first part
    # takes one, and the tie 25014 = 25014 (11/37 of a paisa each) goes to the earlier part.
    parts = allocate(Decimal("386.58"), [17, 18, 388, 566, 3372, 79777])

    assert parts == [Decimal(text) for text in ("0.08", "0.08", "1.78", "2.60", "15.50", "366.54")]


def test_allocate_scales_decimal_weights_to_integers_exactly():
    # 0.03 over weights 0.1 and 0.2 (scaled to 1 and 2): shares of 0.01 and 0.02 exactly.
    assert allocate(Decimal("0.03"), [Decimal("0.1"), Decimal("0.2")]) == [Decimal("0.01"), Decimal("0.02")]
    # Money weights (a row's principal and interest) tie exactly: the earlier part wins.
    assert allocate(Decimal("0.01"), [Decimal("123.45"), Decimal("123.45")]) == [Decimal("0.01"), Decimal("0.00")]


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), "x"])
def test_allocate_refuses_weights_that_are_not_finite_numbers(bad):
    with pytest.raises(ValueError):
        allocate(Decimal("1.00"), [1, bad])


def _largest_remainder(total_paise: int, weights: list[int]) -> list[int]:
    """The rule written out apart from core.money, on exact fractions: floors of the exact
    shares, then one paisa each to the largest remainders, ties to the earlier part."""
    weight_sum = sum(weights)
    shares = [Fraction(total_paise * weight, weight_sum) for weight in weights]
    floors = [math.floor(share) for share in shares]
    order = sorted(range(len(weights)), key=lambda index: (-(shares[index] - floors[index]), index))
    for index in order[: total_paise - sum(floors)]:
        floors[index] += 1
    return floors


@st.composite
def totals_and_tied_weights(draw):
    """A total and weights whose remainders tie: equal weights repeated, and a pair of
    different weights a and a + d whose remainders are equal because the total in paise is
    a multiple of S / gcd(S, d) (S the sum of the weights), so T * d is 0 modulo S. Such
    ties are exact fractions like 11/37 that a 28-digit division can tell apart."""
    others = draw(st.lists(st.integers(min_value=0, max_value=10**6), max_size=6))
    weights = [weight for weight in others for _ in range(draw(st.integers(1, 3)))]
    low = draw(st.integers(min_value=1, max_value=10**6))
    difference = draw(st.integers(min_value=1, max_value=10**6))
    weights = draw(st.permutations([*weights, low, low + difference]))
    weight_sum = sum(weights)
    step = weight_sum // math.gcd(weight_sum, difference)
    paise = step * draw(st.integers(min_value=0, max_value=max(1, 10**11 // step)))
    paise += draw(st.sampled_from([0, 0, 1, weight_sum // 2]))  # near-ties too
    sign = draw(st.sampled_from([1, -1]))
    return sign * Decimal(paise) / 100, weights


@settings(max_examples=300, deadline=None)
@given(case=totals_and_tied_weights())
def test_allocate_follows_largest_remainder_with_ties_to_the_earlier_part(case):
    total, weights = case
    parts = allocate(total, weights)

    assert sum(parts) == total
    sign = -1 if total < 0 else 1
    expected = _largest_remainder(int(abs(total) * 100), weights)
    assert parts == [sign * Decimal(paise) / 100 for paise in expected]
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(Fraction(part) - Fraction(total) * Fraction(weight, weight_sum)) < Fraction(1, 100)
    # Equal weights get parts that differ by at most a paisa, the earlier ones the larger.
    for weight in set(weights):
        tied = [abs(part) for part, other in zip(parts, weights, strict=True) if other == weight]
        assert tied == sorted(tied, reverse=True)
        assert tied[0] - tied[-1] <= Decimal("0.01")
