"""xirr_many's two packers: the compiled one (irr/_speedups.c) reads Python flows into the
same arrays as the pure-Python one, bit for bit, or declines and leaves the batch to it; so
xirr_many answers, and fails, the same way with either."""

import datetime as dt
import importlib.util
import random
import shutil
import subprocess
import sys
from collections import deque, namedtuple
from collections.abc import Sequence
from decimal import Context, Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from irr import _build, xirr_many
from tests.irr.conftest import require_compiled_packer
from tests.irr.test_xirr import MICROSOFT_FLOWS, TWO_ROOTS

xirr_module = sys.modules["irr.xirr"]
START = dt.date(2024, 1, 15)


def realistic_batch(count: int, seed: int = 7) -> list[list[tuple[dt.date, Decimal]]]:
    """One investment, then 3-24 monthly repayments in paise (bench/xirr.py's shape)."""
    rng = random.Random(seed)
    batch = []
    for _ in range(count):
        start = START + dt.timedelta(days=rng.randrange(2000))
        flows = [(start, Decimal(-rng.randint(100_000, 90_000_000)).scaleb(-2))]
        for month in range(1, rng.randint(3, 24) + 1):
            flows.append((start + dt.timedelta(days=30 * month), Decimal(rng.randint(50_000, 5_000_000)).scaleb(-2)))
        batch.append(flows)
    return batch


def compiled_pack(series: list) -> tuple[np.ndarray, np.ndarray] | None:
    require_compiled_packer()
    total = sum(map(len, series))
    days, amounts = np.empty(total, dtype=np.int64), np.empty(total, dtype=np.float64)
    return (days, amounts) if xirr_module._pack_flows(series, days, amounts) else None


def bits(values: np.ndarray) -> list[int]:
    """Floats as their bit patterns, so -0.0 differs from 0.0 and NaN equals itself."""
    return np.asarray(values, dtype=np.float64).view(np.int64).tolist()


def assert_packs_like_python(series: list) -> None:
    """The compiled packer accepts the series and gives the pure-Python packer's arrays."""
    compiled = compiled_pack(series)
    python = xirr_module._pack_python(series, sum(map(len, series)))
    assert compiled is not None
    assert python is not None
    assert compiled[0].tolist() == python[0].tolist()
    assert bits(compiled[1]) == bits(python[1])


def assert_packs_as_float(amounts: list) -> None:
    """Each amount packs to float(amount) bit for bit, or the packer declines where float()
    refuses it."""
    for amount in amounts:
        try:
            expected = float(amount)
        except (ValueError, TypeError, OverflowError):
            assert compiled_pack([[(START, amount)]]) is None, amount
            continue
        packed = compiled_pack([[(START, amount)]])
        assert packed is not None, amount
        assert bits(packed[1]) == bits([expected]), amount


def test_a_realistic_batch_packs_to_the_same_arrays():
    batch = realistic_batch(500)

    assert_packs_like_python(batch)
    assert_packs_like_python([[(date, float(amount)) for date, amount in flows] for flows in batch])
    assert_packs_like_python([[(date, int(amount)) for date, amount in flows] for flows in batch])


def test_mixed_amounts_and_dates_in_one_series_pack_to_the_same_arrays():
    flows = [
        (dt.date(2024, 1, 1), Decimal("-1000.50")),
        (dt.datetime(2024, 2, 1, 9, 30), 250.25),
        (dt.date(2024, 3, 1), 300),
        (dt.datetime(2024, 4, 1, tzinfo=dt.UTC), Decimal("475")),
        (dt.date(2024, 5, 1), np.float64(10.5)),
    ]

    assert_packs_like_python([flows, list(reversed(flows))])


DECIMALS = [
    "0", "-0", "0.00", "-0.00", "1", "-1", "0.01", "12345.67", "-12345.67", "0.005", "0.1", "0.3",
    "1E+5", "1.23E-7", "-1E-30", "9007199254740992", "9007199254740993", "-9007199254740993.5",
    "0.9007199254740993", "123456789.123456789", "1" + "0" * 30, "1" + "0" * 22 + ".5",
    "0.0000000000000000000001", "0.00000000000000000000001", "3.14159265358979323846264338327950288",
    "1E+400", "-1E+400", "1E-400", "NaN", "-NaN", "Infinity", "-Infinity", "sNaN",
]  # fmt: skip


def test_decimals_pack_to_what_float_gives_bit_for_bit():
    assert_packs_as_float([Decimal(text) for text in DECIMALS])


def test_decimals_pack_the_same_whatever_the_context():
    with localcontext(Context(prec=3, capitals=0)):
        assert_packs_as_float([Decimal(text) for text in DECIMALS])


@given(st.lists(st.decimals(allow_nan=True, allow_infinity=True), min_size=1, max_size=10))
def test_any_decimal_packs_to_what_float_gives(amounts):
    assert_packs_as_float(amounts)


@given(st.lists(st.decimals(places=2, min_value=-(10**13), max_value=10**13), min_size=1, max_size=10))
def test_any_amount_in_paise_packs_to_what_float_gives(amounts):
    assert_packs_as_float(amounts)


class Rupees(Decimal):
    def __float__(self):
        return 100.0


class Ratio(float):
    pass


def test_other_numbers_pack_to_what_float_gives():
    assert_packs_as_float(
        [
            1.5, -0.0, float("nan"), float("inf"), 0, -7, 2**53 + 1, 10**300, 10**400, True,
            np.float64(2.5), np.int64(-3), Ratio(4.25), Rupees("1.23"), Fraction(1, 3), "12.5",
            " 7 ", "1_000", "abc", None, object(), Decimal("sNaN"),
        ]
    )  # fmt: skip


@given(st.lists(st.one_of(st.dates(), st.datetimes()), min_size=1, max_size=10))
def test_any_date_or_datetime_packs_to_its_ordinal(dates):
    packed = compiled_pack([[(date, Decimal(1)) for date in dates]])

    assert packed is not None
    assert packed[0].tolist() == [dt.date.toordinal(date) for date in dates]


class ShiftedDate(dt.date):
    def toordinal(self):  # date.toordinal, which xirr_many calls, ignores an override
        return 0


def test_the_ends_of_the_calendar_and_leap_days_pack_to_their_ordinals():
    dates = [dt.date.min, dt.date.max, dt.date(2000, 2, 29), dt.date(2000, 3, 1), dt.date(1900, 2, 28)]
    dates += [dt.date(1900, 3, 1), dt.date(2100, 3, 1), dt.date(2024, 12, 31), ShiftedDate(2024, 3, 1)]
    dates += [dt.datetime(2024, 3, 1, 23, 59, tzinfo=dt.UTC)]

    assert_packs_like_python([[(date, Decimal(1)) for date in dates]])


Flow = namedtuple("Flow", "date amount")


class ReversedPair(tuple):
    __slots__ = ()

    def __getitem__(self, index):
        return tuple.__getitem__(self, 1 - index)


class Flows(Sequence):
    def __init__(self, flows):
        self.flows = list(flows)

    def __len__(self):
        return len(self.flows)

    def __getitem__(self, index):
        return self.flows[index]


def test_flows_and_series_of_any_shape_pack_as_itemgetter_and_iteration_read_them():
    flows = MICROSOFT_FLOWS
    batch = [
        flows,
        tuple(flows),
        [list(flow) for flow in flows],
        [Flow(*flow) for flow in flows],
        [(*flow, "memo") for flow in flows],
        [ReversedPair((amount, date)) for date, amount in flows],
        [{0: date, 1: amount} for date, amount in flows],
        Flows(flows),
        deque(flows),
        [],
    ]

    assert_packs_like_python(batch)


@pytest.mark.parametrize(
    "flow",
    [("2024-01-01", Decimal(1)), (START, "abc"), (START, None), (START,), (START, Decimal("sNaN")), START, None],
)
def test_the_compiled_packer_declines_what_the_python_one_refuses(flow):
    batch = [MICROSOFT_FLOWS, [*MICROSOFT_FLOWS, flow]]

    assert compiled_pack(batch) is None
    assert xirr_module._pack_python(batch, sum(map(len, batch))) is None


def test_the_compiled_packer_declines_buffers_that_do_not_match_the_flows():
    require_compiled_packer()
    pack_flows = xirr_module._pack_flows
    batch = [MICROSOFT_FLOWS, TWO_ROOTS]
    total = sum(map(len, batch))

    for size in (total - 1, total + 1):
        assert pack_flows(batch, np.empty(size, dtype=np.int64), np.empty(size)) is False
    assert pack_flows(batch, np.empty(total, dtype=np.int64), np.empty(total + 1)) is False
    assert pack_flows([], np.empty(0, dtype=np.int64), np.empty(0)) is True
    with pytest.raises(TypeError):
        pack_flows(batch, np.empty(total, dtype=np.int32), np.empty(total))
    with pytest.raises(TypeError):
        pack_flows(batch, np.empty(total, dtype=np.int64), np.empty(total, dtype=np.float32))
    with pytest.raises((TypeError, ValueError)):
        pack_flows(batch, np.empty(total, dtype=np.int64), np.empty(total)[::-1].copy()[::2])
    assert pack_flows(tuple(batch), np.empty(total, dtype=np.int64), np.empty(total)) is False


def test_an_amount_that_empties_the_batch_while_it_is_read_is_survived():
    require_compiled_packer()
    batch = realistic_batch(3)

    class Vandal:
        def __float__(self):
            for flows in batch:
                flows.clear()
            batch.clear()
            return 1.0

    batch[1][2] = (START, Vandal())
    total = sum(map(len, batch))

    assert xirr_module._pack_flows(batch, np.empty(total, dtype=np.int64), np.empty(total)) is False


@pytest.mark.usefixtures("packer")
def test_an_interrupt_while_reading_an_amount_is_not_swallowed():
    class Interrupting:
        def __float__(self):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        xirr_many([MICROSOFT_FLOWS, [(START, Decimal(-1)), (START + dt.timedelta(days=9), Interrupting())]])


@pytest.mark.usefixtures("packer")
def test_an_amount_too_large_for_a_float_fails_as_float_does():
    with pytest.raises(OverflowError):
        xirr_many([MICROSOFT_FLOWS, [(START, -1), (START + dt.timedelta(days=9), 10**400)]])


def test_xirr_many_gives_the_same_rates_and_reasons_with_either_packer(monkeypatch):
    require_compiled_packer()
    batch = realistic_batch(300)
    batch += [
        [],
        MICROSOFT_FLOWS[:1],
        [(date, abs(amount)) for date, amount in MICROSOFT_FLOWS],
        [(START, Decimal("NaN")), (dt.date(2025, 1, 1), Decimal("1"))],
        [(START, "abc"), (dt.date(2025, 1, 1), Decimal("1"))],
        [(START, -100.0), (dt.date(2025, 1, 1), 110)],
        [(dt.datetime(2024, 1, 1, 12), Decimal("-100")), (dt.date(2025, 1, 1), Decimal("110.5"))],
        TWO_ROOTS,
        list(reversed(MICROSOFT_FLOWS)),
    ]
    compiled = xirr_many(batch)
    monkeypatch.setattr(xirr_module, "_pack_flows", None)

    python = xirr_many(batch)

    assert bits(compiled.rates) == bits(python.rates)
    assert compiled.reasons == python.reasons
    assert compiled.reasons[-9:] == [
        "too_few_flows", "too_few_flows", "no_sign_change", "invalid_flow", "invalid_flow",
        None, None, None, None,
    ]  # fmt: skip


def test_the_build_script_compiles_a_working_packer(tmp_path):
    """What `make install` runs (irr/_build.py), into a scratch directory."""
    compiler = _build.compile_command(tmp_path / "x")[0]
    if shutil.which(compiler) is None:
        require_compiled_packer()  # no compiler: skipped, except under CI
    built = tmp_path / _build.target().name
    subprocess.run(_build.compile_command(built), check=True, capture_output=True)
    spec = importlib.util.spec_from_file_location("irr._speedups", built)
    speedups = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speedups)
    days, amounts = np.empty(5, dtype=np.int64), np.empty(5)

    assert speedups.pack_flows([MICROSOFT_FLOWS], days, amounts) is True
    assert days.tolist() == [date.toordinal() for date, _ in MICROSOFT_FLOWS]
    assert amounts.tolist() == [float(amount) for _, amount in MICROSOFT_FLOWS]


def test_a_failed_build_fails_or_with_optional_only_warns(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "_speedups.c"
    broken.write_text("this is not C\n")
    monkeypatch.setattr(_build, "SOURCE", broken)
    if shutil.which(_build.compile_command(tmp_path / "x")[0]) is None:
        require_compiled_packer()

    with pytest.raises(RuntimeError, match="failed"):
        _build.build()
    monkeypatch.setattr(sys, "argv", ["_build.py"])
    assert _build.main() == 1
    monkeypatch.setattr(sys, "argv", ["_build.py", "--optional"])
    assert _build.main() == 0
    assert "pure-Python packer instead" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [broken]  # nothing half-built left behind
