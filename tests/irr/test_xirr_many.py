"""xirr_many: one vectorised pass over plain series, xirr's answer for every other one."""

import datetime as dt
import sys
from decimal import Decimal

import numpy as np
import pytest

from irr import XirrBatch, xirr, xirr_many
from tests.irr.test_xirr import MICROSOFT_FLOWS, MICROSOFT_ROOT, TWO_ROOTS

# Every test runs with both packers: the compiled one (irr/_speedups.c) and pure Python.
pytestmark = pytest.mark.usefixtures("packer")


def _plain_series(count: int) -> list[list[tuple[dt.date, Decimal]]]:
    start = dt.date(2024, 1, 15)
    return [
        [(start, Decimal(-1000 - index))]
        + [(start + dt.timedelta(days=30 * month), Decimal(90)) for month in range(1, 13)]
        for index in range(count)
    ]


def test_each_series_gets_its_rate_or_the_code_of_its_error():
    one_date = [(dt.date(2024, 1, 1), Decimal("-1")), (dt.date(2024, 1, 1), Decimal("2"))]
    batch = [
        MICROSOFT_FLOWS,
        [],
        MICROSOFT_FLOWS[:1],
        one_date,
        [(date, abs(amount)) for date, amount in MICROSOFT_FLOWS],
        [(dt.date(2024, 1, 1), Decimal("NaN")), (dt.date(2025, 1, 1), Decimal("1"))],
        [(dt.date(2021, 1, 1), -100), (dt.date(2022, 1, 1), 200), (dt.date(2023, 1, 1), -150)],
        list(reversed(MICROSOFT_FLOWS)),
    ]

    result = xirr_many(batch)

    assert isinstance(result, XirrBatch)
    assert len(result) == len(batch)
    assert result.reasons == [
        None,
        "too_few_flows",
        "too_few_flows",
        "too_few_flows",
        "no_sign_change",
        "invalid_flow",
        "did_not_converge",
        None,
    ]
    assert result.rates[[0, 7]] == pytest.approx([MICROSOFT_ROOT] * 2, abs=1e-11)
    assert np.isnan(result.rates[1:7]).all()


def test_an_empty_batch_gives_empty_results():
    result = xirr_many([])

    assert result.rates.shape == (0,)
    assert result.reasons == []


def test_series_may_be_any_iterables():
    batch = (iter(flows) for flows in [MICROSOFT_FLOWS, TWO_ROOTS])

    result = xirr_many(batch)

    assert result.rates[0] == pytest.approx(MICROSOFT_ROOT, abs=1e-11)
    assert result.rates[1] == pytest.approx(0.1, abs=1e-11)


def test_the_guess_picks_the_root_of_a_series_with_several():
    assert xirr_many([TWO_ROOTS], guess=0.3).rates[0] == pytest.approx(0.2, abs=1e-11)
    assert xirr_many([TWO_ROOTS], guess=0.0).rates[0] == pytest.approx(0.1, abs=1e-11)


def test_a_borrowers_view_is_solved_series_by_series_with_the_same_answer():
    borrower = [(date, -amount) for date, amount in MICROSOFT_FLOWS]

    assert xirr_many([borrower]).rates[0] == pytest.approx(MICROSOFT_ROOT, abs=1e-11)


def test_plain_series_are_solved_together_without_falling_back(monkeypatch):
    module = sys.modules["irr.xirr"]
    calls = []
    monkeypatch.setattr(module, "xirr", lambda *arguments: calls.append(arguments))
    batch = _plain_series(50)

    result = xirr_many(batch)

    assert calls == []
    monkeypatch.undo()
    assert result.reasons == [None] * 50
    assert result.rates == pytest.approx([xirr(flows) for flows in batch], abs=1e-11)


def test_a_flow_that_is_not_a_pair_is_a_programming_error():
    with pytest.raises(TypeError):
        xirr_many([MICROSOFT_FLOWS, [(dt.date(2024, 1, 1),), (dt.date(2025, 1, 1),)]])


def test_a_date_that_is_not_a_date_is_an_invalid_flow_of_its_series():
    bad_dates = [("2024-01-01", Decimal("-1")), ("2025-01-01", Decimal("2"))]

    result = xirr_many([MICROSOFT_FLOWS, bad_dates])

    assert result.reasons == [None, "invalid_flow"]
    assert np.isnan(result.rates[1])


def test_chunks_cover_the_batch_in_order_with_about_chunk_flows_each(monkeypatch):
    module = sys.modules["irr.xirr"]
    monkeypatch.setattr(module, "CHUNK_FLOWS", 10)
    lengths = np.array([3, 3, 3, 3, 0, 25, 1, 0, 4, 4, 4])

    chunks = module._chunks(lengths)

    assert chunks == [(0, 3), (3, 5), (5, 8), (8, 11)]  # by the multiple of 10 each series reaches
    assert module._chunks(np.array([], dtype=np.intp)) == []
    assert module._chunks(np.array([0, 0])) == [(0, 2)]
    assert module._chunks(np.array([10, 10, 10])) == [(0, 1), (1, 2), (2, 3)]


def test_chunking_does_not_change_any_answer(monkeypatch):
    module = sys.modules["irr.xirr"]
    one_date = [(dt.date(2024, 1, 1), Decimal("-1")), (dt.date(2024, 1, 1), Decimal("2"))]
    batch = _plain_series(40)
    batch[5:5] = [[], MICROSOFT_FLOWS[:1], one_date, TWO_ROOTS, list(reversed(MICROSOFT_FLOWS))]
    batch[30:30] = [[(date, abs(amount)) for date, amount in MICROSOFT_FLOWS], [], []]
    whole = xirr_many(batch)

    monkeypatch.setattr(module, "CHUNK_FLOWS", 7)
    chunked = xirr_many(batch)

    assert len(module._chunks(np.fromiter(map(len, batch), dtype=np.intp))) > 40
    assert chunked.rates.view(np.int64).tolist() == whole.rates.view(np.int64).tolist()
    assert chunked.reasons == whole.reasons
    assert whole.reasons[5:10] == ["too_few_flows", "too_few_flows", "too_few_flows", None, None]
    assert whole.reasons[30] == "no_sign_change"


def test_a_malformed_amount_sends_only_its_chunk_to_xirr(monkeypatch):
    module = sys.modules["irr.xirr"]
    monkeypatch.setattr(module, "CHUNK_FLOWS", 26)  # two series of 13 flows a chunk
    batch = _plain_series(6)
    batch[3] = [(dt.date(2024, 1, 1), "x")] * 13
    calls = []
    solve_one = module.xirr
    monkeypatch.setattr(module, "xirr", lambda flows, guess: calls.append(flows) or solve_one(flows, guess))

    result = xirr_many(batch)

    assert calls == batch[2:4]
    assert result.reasons == [None, None, None, "invalid_flow", None, None]
    assert result.rates[:3] == pytest.approx([xirr(flows) for flows in batch[:3]], abs=1e-11)
