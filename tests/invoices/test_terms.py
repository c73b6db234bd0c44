"""The formulas of DESIGN.md §5 with worked numbers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from invoices import terms
from invoices.services import finance_terms
from tests.invoices.factories import InvoiceFactory


def test_finance_amount_is_the_percent_of_the_invoice_when_below_the_cap():
    # min(500000, 100000) * 80 / 100 = 80000
    assert terms.finance_amount_for(invoice_amount=Decimal("100000.00"), max_invoice_amount=Decimal("500000.00"),
                                    max_invoice_percent=Decimal("80")) == Decimal("80000.00")


def test_finance_amount_is_capped_by_the_max_invoice_amount():
    # min(500000, 600000) * 80 / 100 = 400000; 400000 / 600000 * 100 = 66.666… → 66.67
    amount = terms.finance_amount_for(invoice_amount=Decimal("600000.00"), max_invoice_amount=Decimal("500000.00"),
                                      max_invoice_percent=Decimal("80"))
    assert amount == Decimal("400000.00")
    assert terms.finance_percentage_for(finance_amount=amount, invoice_amount=Decimal("600000.00")) == Decimal("66.67")


def test_finance_amount_rounds_half_up_to_paise():
    # 1234.55 * 75.5 / 100 = 932.08525 → 932.09
    assert terms.finance_amount_for(invoice_amount=Decimal("1234.55"), max_invoice_amount=Decimal("5000"),
                                    max_invoice_percent=Decimal("75.5")) == Decimal("932.09")


def test_interest_is_simple_on_a_365_day_year():
    # 80000 * 12 / 100 * 60 / 365 = 1578.0821… → 1578.08
    assert terms.interest_for(principal=Decimal("80000.00"), annual_rate_percent=Decimal("12"), days=60) == Decimal(
        "1578.08")
    # 80000 * 24 / 100 * 6 / 365 = 315.6164… → 315.62
    assert terms.interest_for(principal=Decimal("80000.00"), annual_rate_percent=Decimal("24"), days=6) == Decimal(
        "315.62")
    assert terms.interest_for(principal=Decimal("80000.00"), annual_rate_percent=Decimal("24"), days=0) == Decimal(
        "0.00")


def test_utilization_is_used_over_limit():
    # 250000 / 1000000 * 100 = 25.00; 1 / 3 * 100 = 33.33
    assert terms.utilization_percent(used=Decimal("250000"), limit=Decimal("1000000")) == Decimal("25.00")
    assert terms.utilization_percent(used=Decimal("1"), limit=Decimal("3")) == Decimal("33.33")


def test_no_float_reaches_the_money_maths():
    with pytest.raises(TypeError):
        terms.finance_amount_for(invoice_amount=100000.0, max_invoice_amount=Decimal("1"),
                                 max_invoice_percent=Decimal("1"))


@pytest.mark.django_db
def test_finance_terms_of_an_invoice_give_the_net_disbursal():
    invoice = InvoiceFactory(amount=Decimal("100000.00"), issue_date=date(2026, 1, 1), due_date=date(2026, 3, 2))
    fixed = finance_terms(program=invoice.program, invoice=invoice, start=date(2026, 1, 1))
    assert fixed.tenor_days == 60
    assert fixed.finance_amount == Decimal("80000.00")
    assert fixed.finance_percentage == Decimal("80.00")
    assert fixed.interest_amount == Decimal("1578.08")
    assert fixed.net_disbursal_amount == Decimal("78421.92")
    later = finance_terms(program=invoice.program, invoice=invoice, start=date(2026, 3, 2) - timedelta(days=30))
    # 80000 * 12% * 30 / 365 = 789.04
    assert (later.tenor_days, later.interest_amount, later.net_disbursal_amount) == (
        30, Decimal("789.04"), Decimal("79210.96"))


def test_interest_refuses_a_float_rate():
    with pytest.raises(TypeError):
        terms.interest_for(principal=Decimal("1000"), annual_rate_percent=12.0, days=30)
