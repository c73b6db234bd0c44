import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from tests.wallet.factories import fund
from wallet.services import wallet_hold, wallet_release

pytestmark = pytest.mark.django_db


def test_get_wallet_shows_the_three_balances(kyc_client, kyc_investor, test_holds):
    fund(kyc_investor, "100.00")
    wallet_hold(user=kyc_investor, amount=Decimal("30.00"), reference="test:1")
    assert kyc_client.get("/api/v1/wallet/").json() == {
        "available": "70.00", "held": "30.00", "pending_withdrawal": "0.00", "currency": "INR"}


def test_get_wallet_before_it_is_opened_is_zeros(investor_client):
    assert investor_client.get("/api/v1/wallet/").json()["available"] == "0.00"


def test_the_statement_pages_by_cursor_with_running_balances(kyc_client, kyc_investor, test_holds,
                                                             django_assert_max_num_queries):
    for _ in range(5):
        fund(kyc_investor, "10.00")
    wallet_hold(user=kyc_investor, amount=Decimal("15.00"), reference="test:1")
    wallet_release(user=kyc_investor, amount=Decimal("5.00"), reference="test:1")
    with django_assert_max_num_queries(4):
        first = kyc_client.get("/api/v1/wallet/ledger/?page_size=3").json()
    rows = first["results"]
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in rows] == [
        ("release", "5.00", "40.00"), ("hold", "-15.00", "35.00"), ("deposit", "10.00", "50.00")]
    assert set(rows[0]) == {"id", "at", "kind", "amount", "balance_after", "reference", "memo"}
    second = kyc_client.get(first["next"]).json()
    assert [r["balance_after"] for r in second["results"]] == ["40.00", "30.00", "20.00"]
    third = kyc_client.get(second["next"]).json()
    assert [r["balance_after"] for r in third["results"]] == ["10.00"] and third["next"] is None
    held = kyc_client.get("/api/v1/wallet/ledger/?account=held").json()["results"]
    assert [(r["amount"], r["balance_after"]) for r in held] == [("-5.00", "10.00"), ("15.00", "15.00")]


def test_the_statement_filters_by_kind_and_dates(kyc_client, kyc_investor, test_holds):
    with freeze_time(timezone.now() - timedelta(days=10)):
        fund(kyc_investor, "10.00")
    fund(kyc_investor, "20.00")
    wallet_hold(user=kyc_investor, amount=Decimal("1.00"), reference="test:1")
    deposits = kyc_client.get("/api/v1/wallet/ledger/?kind=deposit").json()["results"]
    assert [r["amount"] for r in deposits] == ["20.00", "10.00"]
    today = timezone.localdate().isoformat()
    recent = kyc_client.get(f"/api/v1/wallet/ledger/?from={today}").json()["results"]
    assert [r["amount"] for r in recent] == ["-1.00", "20.00"]
    old = kyc_client.get(f"/api/v1/wallet/ledger/?to={(timezone.localdate() - timedelta(days=5)).isoformat()}")
    assert [r["amount"] for r in old.json()["results"]] == ["10.00"]
    bad = kyc_client.get("/api/v1/wallet/ledger/?from=yesterday")
    assert bad.status_code == 400


def test_the_statement_exports_as_csv(kyc_client, kyc_investor):
    fund(kyc_investor, "10.00")
    fund(kyc_investor, "2.50")
    response = kyc_client.get("/api/v1/wallet/ledger/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "at", "kind", "amount", "balance_after", "reference", "memo"]
    assert [(r[2], r[3], r[4]) for r in rows[1:]] == [("deposit", "2.50", "12.50"), ("deposit", "10.00", "10.00")]


def test_the_statement_shows_only_the_callers_money(kyc_client, kyc_investor):
    from tests.wallet.factories import verified_investor

    fund(verified_investor(), "99.00")
    assert kyc_client.get("/api/v1/wallet/ledger/").json()["results"] == []


def test_the_deposit_list_costs_a_fixed_number_of_queries(kyc_client, kyc_investor, django_assert_max_num_queries):
    for key in ("a", "b", "c"):
        kyc_client.post("/api/v1/wallet/deposits/", {"amount": "5.00", "method": "gateway"},
                        HTTP_IDEMPOTENCY_KEY=key)
    with django_assert_max_num_queries(3):
        rows = kyc_client.get("/api/v1/wallet/deposits/").json()["results"]
    assert len(rows) == 3 and all(r["status"] == "pending" for r in rows)
