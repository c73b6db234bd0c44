from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import irr
from tests.conftest import authenticate
from tests.trading.factories import make_offering, post_primary, trader
from trading.services import listing_buy, listing_post_secondary

pytestmark = pytest.mark.django_db


@pytest.fixture
def market():
    """Three offerings with different tenors and kinds, a primary listing each, and an
    investor who bought into two of them and resold some."""
    short = make_offering(due_in_days=60)
    long = make_offering(due_in_days=170, schedule_kind="equal_principal", frequency="monthly")
    third = make_offering(due_in_days=120)
    listings = [post_primary(short, units=100, price="800.00"), post_primary(long, units=100, price="790.00"),
                post_primary(third, units=100, price="805.00")]
    investor = trader("200000.00")
    listing_buy(buyer=investor, listing_id=listings[0].pk, units=10)
    listing_buy(buyer=investor, listing_id=listings[1].pk, units=20)
    resale = listing_post_secondary(seller=investor, offering_id=short.pk, units=4, price_per_unit=Decimal("801.00"))
    return {"offerings": [short, long, third], "listings": [*listings, resale], "investor": investor}


def test_marketplace_lists_open_listings_with_yield(api_client, market, django_assert_max_num_queries):
    client = authenticate(api_client, trader())
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/marketplace/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    row = next(r for r in body["results"] if r["id"] == market["listings"][0].pk)
    assert row["seller_kind"] == "platform" and row["units_remaining"] == 90
    short = market["offerings"][0]
    flows = [(cf.due_date, cf.principal + cf.interest) for cf in short.cash_flows.all()]
    expected = irr.xirr_at_price(flows, timezone.localdate(), Decimal("800.00"))
    assert abs(Decimal(row["xirr"]) - Decimal(repr(expected))) < Decimal("0.000001")
    assert row["maturity_date"] == short.maturity_date.isoformat()
    assert next(r for r in body["results"] if r["id"] == market["listings"][3].pk)["seller_kind"] == "investor"


def test_marketplace_costs_the_same_queries_for_more_listings(api_client, market, django_assert_max_num_queries):
    for _ in range(5):
        post_primary(make_offering(), units=10)
    client = authenticate(api_client, trader())
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/marketplace/").json()["count"] == 9


def test_marketplace_filters_and_orders(api_client, market):
    client = authenticate(api_client, trader())
    kinds = {r["schedule_kind"] for r in client.get("/api/v1/marketplace/?schedule_kind=equal_principal")
             .json()["results"]}
    assert kinds == {"equal_principal"}
    short_only = client.get("/api/v1/marketplace/?max_tenor_days=90").json()["results"]
    assert {r["offering"] for r in short_only} == {market["offerings"][0].pk}
    ordered = [Decimal(r["xirr"]) for r in client.get("/api/v1/marketplace/?ordering=-xirr").json()["results"]]
    assert ordered == sorted(ordered, reverse=True)
    floor = ordered[1]
    assert all(Decimal(r["xirr"]) >= floor
               for r in client.get(f"/api/v1/marketplace/?min_xirr={floor}").json()["results"])
    assert client.get("/api/v1/marketplace/?ordering=bogus").status_code == 400


def test_holdings_show_units_cost_and_yield(api_client, market, django_assert_max_num_queries):
    client = authenticate(api_client, market["investor"])
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/holdings/")
    assert response.status_code == 200
    rows = {r["offering"]: r for r in response.json()["results"]}
    short, long, _ = market["offerings"]
    assert rows[short.pk]["units"] == 10 and rows[short.pk]["units_listed"] == 4
    assert rows[short.pk]["average_price"] == "800.00"
    assert rows[short.pk]["invested"] == "8020.00"  # price plus the buyer's fee
    assert rows[long.pk]["invested"] == "15839.50"  # 20 × 790 + 39.50
    cash_flow = short.cash_flows.get()
    assert rows[short.pk]["next_cash_flow"] == {"date": cash_flow.due_date.isoformat(),
                                                "amount": str((cash_flow.principal + cash_flow.interest) * 10)}
    own_flows = [(timezone.localdate(), Decimal("-8020.00")),
                 (cash_flow.due_date, (cash_flow.principal + cash_flow.interest) * 10)]
    assert abs(float(rows[short.pk]["xirr"]) - irr.xirr(own_flows)) < 1e-5


def test_holdings_cost_fixed_queries(api_client, market, django_assert_max_num_queries):
    investor = market["investor"]
    for _ in range(4):
        listing_buy(buyer=investor, listing_id=post_primary(make_offering(), units=10).pk, units=1)
    client = authenticate(api_client, investor)
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/holdings/").json()["results"]) == 6


def test_trades_show_both_sides_and_only_the_callers(api_client, market, django_assert_max_num_queries):
    investor = market["investor"]
    buyer = trader("10000.00")
    listing_buy(buyer=buyer, listing_id=market["listings"][3].pk, units=4)
    client = authenticate(api_client, investor)
    with django_assert_max_num_queries(4):
        rows = client.get("/api/v1/trades/").json()["results"]
    assert sorted(r["side"] for r in rows) == ["buy", "buy", "sell"]
    sale = next(r for r in rows if r["side"] == "sell")
    assert (sale["amount"], sale["fee"], sale["total"]) == ("3204.00", "8.01", "3195.99")
    other = authenticate(api_client, trader()).get("/api/v1/trades/").json()
    assert other["count"] == 0


def test_quote_turns_price_into_xirr_and_back(api_client, market):
    client = authenticate(api_client, trader())
    offering = market["offerings"][1]
    by_price = client.get(f"/api/v1/offerings/{offering.pk}/quote/?price=790.00").json()
    back = client.get(f"/api/v1/offerings/{offering.pk}/quote/?target_xirr={by_price['xirr']}").json()
    assert back["price_per_unit"] == "790.00"
    assert abs(float(back["xirr"]) - float(by_price["xirr"])) < 1e-5
    assert client.get(f"/api/v1/offerings/{offering.pk}/quote/").status_code == 400
    assert client.get("/api/v1/offerings/999999/quote/?price=1.00").status_code == 404


def test_my_listings(api_client, market):
    rows = authenticate(api_client, market["investor"]).get("/api/v1/listings/").json()["results"]
    assert [r["id"] for r in rows] == [market["listings"][3].pk]
    assert authenticate(api_client, trader()).get("/api/v1/listings/").json()["count"] == 0


def test_a_listing_closing_soon_still_shows_until_it_closes(api_client):
    listing = post_primary(make_offering(), units=10, closes_at=timezone.now() + timedelta(minutes=5))
    rows = authenticate(api_client, trader()).get("/api/v1/marketplace/").json()["results"]
    assert [r["id"] for r in rows] == [listing.pk]
