"""Each report's figures on a small hand-built data set; its CSV and XLSX say the same as
its JSON; a page costs a fixed number of queries however many rows there are."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.http import urlencode
from freezegun import freeze_time

from kyc.enums import BankAccountStatus, KYCStatus
from tests.accounts.factories import UserFactory
from tests.kyc.factories import BankAccountFactory, KYCProfileFactory
from tests.reports.conftest import read_csv, read_xlsx
from tests.trading.factories import make_offering, post_primary, trader
from tests.wallet.factories import verified_investor
from trading.services import listing_buy, listing_post_secondary
from wallet.enums import AccountKind
from wallet.services import ledger_post, wallet_open, wallet_system_account, wallet_transfer

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/reports/{}/"


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def get(client, name, **params):
    response = client.get(URL.format(name), params)
    assert response.status_code == 200, response.content
    return response


def all_results(client, name, **params) -> list[dict]:
    return get(client, name, page_size=200, **params).json()["results"]


def assert_exports_match_json(client, name, **params):
    """CSV and XLSX carry exactly the JSON's rows, under the JSON's human headers."""
    body = get(client, name, page_size=200, **params).json()
    columns, results = body["columns"], body["results"]
    headers = [column["header"] for column in columns]

    csv_rows = read_csv(get(client, name, format="csv", **params))
    assert csv_rows[0] == headers
    expected_csv = [[_csv(column, row[column["key"]]) for column in columns] for row in results]
    assert csv_rows[1:] == expected_csv

    xlsx_rows = read_xlsx(get(client, name, format="xlsx", **params))
    assert xlsx_rows[0] == headers
    assert [[_from_xlsx(column, value) for column, value in zip(columns, row, strict=True)]
            for row in xlsx_rows[1:]] == [[row[column["key"]] if row[column["key"]] != "" else None
                                           for column in columns] for row in results]  # Excel: "" is empty
    return results


def _csv(column, value) -> str:
    if value is None:
        return ""
    if column["kind"] == "bool":
        return "Yes" if value else "No"
    return str(value)


def _from_xlsx(column, value):
    """An XLSX cell back in the JSON's form."""
    if value is None:
        return None
    kind = column["kind"]
    if kind in ("money", "hours"):
        return f"{Decimal(str(value)):.2f}"
    if kind == "rate":
        return format(Decimal(str(value)).normalize(), "f")
    if kind == "datetime":
        return timezone.make_aware(value).isoformat()
    if kind == "date":
        return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    if kind == "bool":
        return value == "Yes"
    if kind == "int":
        return int(value)
    return str(value)


# --- onboarding ----------------------------------------------------------------------------

@pytest.fixture
def funnel():
    day1, day2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    u1 = UserFactory(date_joined=at(day1, 9))                     # signed up only
    u2 = UserFactory(date_joined=at(day1, 10))                    # KYC pending
    KYCProfileFactory(user=u2, status=KYCStatus.PENDING)
    u3 = UserFactory(date_joined=at(day1, 23))                    # can trade
    KYCProfileFactory(user=u3, status=KYCStatus.VERIFIED, verified_at=at(day2, 8))
    BankAccountFactory(user=u3, status=BankAccountStatus.VERIFIED, verified_at=at(day2, 9))
    u4 = UserFactory(date_joined=at(day2, 1))                     # KYC verified, bank pending
    KYCProfileFactory(user=u4, status=KYCStatus.VERIFIED, verified_at=at(day2, 3))
    BankAccountFactory(user=u4, status=BankAccountStatus.PENDING)
    UserFactory(date_joined=at(dt.date(2026, 3, 5)))              # outside the range
    return {"users": (u1, u2, u3, u4), "from": day1.isoformat(), "to": day2.isoformat()}


def test_onboarding_funnel_by_day(admin_client, funnel):
    rows = assert_exports_match_json(admin_client, "onboarding", **{"from": funnel["from"], "to": funnel["to"]})
    assert rows == [
        {"day": "2026-03-01", "signups": 3, "kyc_submitted": 2, "kyc_verified": 1, "bank_verified": 1,
         "can_trade": 1},
        {"day": "2026-03-02", "signups": 1, "kyc_submitted": 1, "kyc_verified": 1, "bank_verified": 0,
         "can_trade": 0},
    ]


def test_onboarding_by_user_with_status_filter(admin_client, funnel):
    u1, u2, u3, u4 = funnel["users"]
    params = {"from": funnel["from"], "to": funnel["to"], "group": "user"}
    rows = assert_exports_match_json(admin_client, "onboarding", **params)
    assert [(row["user_id"], row["kyc_status"], row["bank_status"], row["can_trade"]) for row in rows] == [
        (u1.pk, "not_started", "not_started", False), (u2.pk, "pending", "not_started", False),
        (u3.pk, "verified", "verified", True), (u4.pk, "verified", "pending", False),
    ]
    assert rows[2]["bank_verified_at"] == timezone.localtime(at(dt.date(2026, 3, 2), 9)).isoformat()
    verified = all_results(admin_client, "onboarding", kyc_status="verified", bank_status="pending", **params)
    assert [row["user_id"] for row in verified] == [u4.pk]


def test_onboarding_and_activity_render_png(admin_client, funnel):
    for name in ("onboarding", "trading-activity"):
        response = admin_client.get(URL.format(name), {"format": "png", "from": funnel["from"]})
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_png_refused_for_a_report_without_chart(admin_client):
    response = admin_client.get(URL.format("transactions"), {"format": "png"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "chart_not_available"


def test_unknown_report_and_bad_filters(admin_client):
    assert admin_client.get(URL.format("nope")).json()["errors"][0]["code"] == "report_not_found"
    response = admin_client.get(URL.format("onboarding"), {"from": "2026-03-05", "to": "2026-03-01"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "to"


# --- trades: transactions, sales-purchases, trading-activity --------------------------------

@pytest.fixture
def market(assert_books_clean):
    """Day 1: A buys 1 and B buys 2 primary units at 800. Day 2: A sells 1 unit to B at 900."""
    today = timezone.localdate()  # the listing opens now: trade on the next two days
    day1, day2 = today + dt.timedelta(days=1), today + dt.timedelta(days=2)
    offering = make_offering(total_units=100, price_per_unit="800.00")
    a = trader("1000.00", name="Asha")
    b = trader("5000.00", name="Bala")
    listing = post_primary(offering, units=100, price="800.00")
    with freeze_time(at(day1, 10)):
        t1 = listing_buy(buyer=a, listing_id=listing.pk, units=1)
        t2 = listing_buy(buyer=b, listing_id=listing.pk, units=2)
    with freeze_time(at(day2, 11)):
        sell = listing_post_secondary(seller=a, offering_id=offering.pk, units=1, price_per_unit=Decimal("900.00"))
        t3 = listing_buy(buyer=b, listing_id=sell.pk, units=1)
    yield {"offering": offering, "a": a, "b": b, "trades": (t1, t2, t3), "day1": day1, "day2": day2}
    assert_books_clean()


def test_transactions_are_a_statement_with_running_balances(admin_client, market):
    a = market["a"]
    rows = assert_exports_match_json(admin_client, "transactions", user=a.pk)
    assert [(row["account"], row["entry_kind"], row["debit"], row["credit"], row["balance_after"])
            for row in rows] == [
        ("available", "deposit", None, "1000.00", "1000.00"),
        ("available", "trade.buy", "800.00", None, "200.00"),
        ("available", "trade.buy", "2.00", None, "198.00"),
        ("available", "trade.buy", None, "900.00", "1098.00"),
        ("available", "trade.buy", "2.25", None, "1095.75"),
    ]
    assert {row["user_id"] for row in rows} == {a.pk}
    # Both sides of the secondary trade are rows, each with its own balance.
    day2 = all_results(admin_client, "transactions", **{"from": market["day2"].isoformat()})
    b = market["b"]
    assert [(row["user_id"], row["side"], row["debit"], row["credit"]) for row in day2] == [
        (a.pk, "credit", None, "900.00"), (b.pk, "debit", "900.00", None),
        (b.pk, "debit", "2.25", None), (a.pk, "debit", "2.25", None),
    ]


def test_transactions_keyset_pages_cover_every_row_once(admin_client, market):
    everything = all_results(admin_client, "transactions")
    seen, url = [], URL.format("transactions") + "?page_size=2"
    while url:
        body = admin_client.get(url).json()
        seen += body["results"]
        url = body["next"]
    assert seen == everything
    assert len(everything) >= 10


KOLKATA = dt.timezone(dt.timedelta(hours=5, minutes=30))


@pytest.fixture
def april(assert_reconciled):
    """Money moving on both sides of April's edges in the platform's zone (Asia/Kolkata),
    where each day starts at 18:30 UTC the day before. A pays B twice: both legs are rows."""
    bank = wallet_system_account(AccountKind.BANK)
    a, b = verified_investor(name="Asha"), verified_investor(name="Bala")
    postings = [
        (dt.datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=KOLKATA),
         lambda: ledger_post(kind="deposit", transfers=[(bank, wallet_open(user=a).available, Decimal("100.00"))])),
        (dt.datetime(2026, 4, 1, 0, 0, tzinfo=KOLKATA),
         lambda: wallet_transfer(payer=a, payee=b, amount=Decimal("10.00"), fee=Decimal("1.00"), reference="t1")),
        (dt.datetime(2026, 4, 15, 12, 0, tzinfo=KOLKATA),
         lambda: ledger_post(kind="deposit", transfers=[(bank, wallet_open(user=b).available, Decimal("50.00"))])),
        (dt.datetime(2026, 4, 30, 23, 59, 59, 999999, tzinfo=KOLKATA),
         lambda: wallet_transfer(payer=b, payee=a, amount=Decimal("5.00"), reference="t2")),
        (dt.datetime(2026, 5, 1, 0, 0, tzinfo=KOLKATA),
         lambda: ledger_post(kind="deposit", transfers=[(bank, wallet_open(user=a).available, Decimal("1.00"))])),
    ]
    for at_time, post in postings:
        with freeze_time(at_time):
            post()
    yield {"a": a, "b": b}
    assert_reconciled()


def walk(client, page_size: int, **params) -> list[dict]:
    """Every row of the report, page by page through its cursors."""
    rows, url = [], URL.format("transactions") + "?" + urlencode({"page_size": page_size, **params})
    while url:
        body = client.get(url).json()
        rows += body["results"]
        url = body["next"]
    return rows


def test_transactions_of_a_month_are_exactly_its_rows_in_the_platforms_zone(admin_client, april):
    a, b = april["a"], april["b"]
    rows = all_results(admin_client, "transactions", **{"from": "2026-04-01", "to": "2026-04-30"})
    assert [(row["at"], row["user_id"], row["side"], row["entry_kind"], row["debit"], row["credit"])
            for row in rows] == [
        ("2026-04-01T00:00:00+05:30", b.pk, "credit", "transfer", None, "10.00"),
        ("2026-04-01T00:00:00+05:30", a.pk, "debit", "transfer", "10.00", None),
        ("2026-04-01T00:00:00+05:30", a.pk, "debit", "transfer", "1.00", None),
        ("2026-04-15T12:00:00+05:30", b.pk, "credit", "deposit", None, "50.00"),
        ("2026-04-30T23:59:59+05:30", a.pk, "credit", "transfer", None, "5.00"),
        ("2026-04-30T23:59:59+05:30", b.pk, "debit", "transfer", "5.00", None),
    ]
    assert walk(admin_client, 1, **{"from": "2026-04-01", "to": "2026-04-30"}) == rows


@pytest.mark.parametrize("params", [
    {"from": "2026-04-01", "to": "2026-04-30"}, {"from": "2026-04-01"}, {"to": "2026-04-30"},
    {"from": "2026-03-31", "to": "2026-03-31"}, {"from": "2026-04-30", "to": "2026-05-01"},
    {"from": "2026-05-02"}, {"to": "2026-03-30"}, {"from": "2026-04-01", "kind": "transfer"},
    {"to": "2026-04-15", "account": "available", "page_size": 2},
])
def test_a_date_filtered_page_is_the_unfiltered_rows_of_those_days(admin_client, april, params):
    """The same rows in the same order, however the pages are cut."""
    params = dict(params)
    page_size = params.pop("page_size", 1)
    first = dt.date.fromisoformat(params.get("from", "2000-01-01"))
    last = dt.date.fromisoformat(params.get("to", "2100-01-01"))
    narrowing = {key: params[key] for key in ("kind", "account") if key in params}
    expected = [row for row in all_results(admin_client, "transactions", **narrowing)
                if first <= dt.datetime.fromisoformat(row["at"]).date() <= last]
    assert walk(admin_client, page_size, **params) == expected
    assert all_results(admin_client, "transactions", **params) == expected
    assert read_csv(get(admin_client, "transactions", format="csv", **params))[1:] == [
        ["" if value is None else str(value) for value in row.values()] for row in expected]


def test_sales_purchases_show_fees_and_the_sellers_gain(admin_client, market):
    a, b = market["a"], market["b"]
    rows = assert_exports_match_json(admin_client, "sales-purchases")
    primary, _, secondary = rows
    assert (primary["buyer_id"], primary["seller_id"], primary["listing_kind"], primary["units"],
            primary["amount"], primary["buyer_fee"], primary["seller_fee"], primary["seller_gain"]) == (
        a.pk, None, "primary", 1, "800.00", "2.00", "0.00", None)
    assert primary["seller_name"] == "Tranche platform"
    assert {key: secondary[key] for key in ("buyer_id", "seller_id", "units", "price_per_unit", "amount", "buyer_fee",
                                             "seller_fee", "buyer_total", "seller_net", "seller_average_price",
                                             "seller_cost", "seller_gain")} == {
        "buyer_id": b.pk, "seller_id": a.pk, "units": 1, "price_per_unit": "900.00", "amount": "900.00",
        "buyer_fee": "2.25", "seller_fee": "2.25", "buyer_total": "902.25", "seller_net": "897.75",
        "seller_average_price": "800.00", "seller_cost": "800.00", "seller_gain": "97.75"}
    assert [row["trade_id"] for row in all_results(admin_client, "sales-purchases", seller=a.pk)] == [
        market["trades"][2].pk]


def test_trading_activity_by_day_and_offering(admin_client, market):
    offering = market["offering"]
    rows = assert_exports_match_json(admin_client, "trading-activity")
    assert rows == [
        {"day": market["day1"].isoformat(), "offering_id": offering.pk, "offering_title": offering.title,
         "trades": 2, "units": 3,
         "value": "2400.00", "fees": "6.00", "unique_buyers": 2, "unique_sellers": 0, "unique_traders": 2},
        {"day": market["day2"].isoformat(), "offering_id": offering.pk, "offering_title": offering.title,
         "trades": 1, "units": 1,
         "value": "900.00", "fees": "4.50", "unique_buyers": 1, "unique_sellers": 1, "unique_traders": 2},
    ]
    # Over the whole period, A bought and sold: counted once among the traders.
    by_offering = all_results(admin_client, "trading-activity", group="offering")
    assert [(row["trades"], row["value"], row["unique_buyers"], row["unique_sellers"], row["unique_traders"])
            for row in by_offering] == [(3, "3300.00", 2, 1, 2)]


# --- query counts ----------------------------------------------------------------------------

REPORT_PARAMS = [
    ("onboarding", {}), ("onboarding", {"group": "user"}), ("transactions", {}), ("sales-purchases", {}),
    ("transactions", {"from": "2000-01-01", "to": "2100-01-01"}),
    ("trading-activity", {}), ("trading-activity", {"group": "day"}), ("bids", {}), ("tds", {}),
]


@pytest.mark.parametrize(("name", "params"), REPORT_PARAMS)
def test_a_report_page_costs_a_fixed_number_of_queries(admin_client, market, name, params,
                                                       django_assert_max_num_queries):
    # 1 to load the signed-in user, then a COUNT and a SELECT (transactions: one SELECT; for a
    # date range, the page's keys and then its rows).
    with django_assert_max_num_queries(3):
        first = admin_client.get(URL.format(name), {**params, "page_size": 1})
    with django_assert_max_num_queries(3):
        bigger = admin_client.get(URL.format(name), {**params, "page_size": 200})
    assert first.status_code == bigger.status_code == 200
