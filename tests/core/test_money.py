from decimal import Decimal

import pytest
from hypothesis import given
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
