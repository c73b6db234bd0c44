"""Two investors negotiate a trade entirely through the API; who may see and do what."""

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from bidding.models import Bid
from tests.bidding.factories import bidder, investor_listing, place
from tests.conftest import authenticate
from tests.trading.factories import make_offering, post_primary, trader
from trading.models import Holding, Trade
from wallet.selectors import wallet_balance

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _fees(settings):
    settings.BUYER_FEE_BPS = 25
    settings.SELLER_FEE_BPS = 25


def client_for(user) -> APIClient:
    return authenticate(APIClient(), user)


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]


def balances(user):
    balance = wallet_balance(user=user)
    return balance.available, balance.held


def test_two_investors_negotiate_a_trade_through_the_api(assert_books_clean):
    primary = post_primary(make_offering(), units=100)
    seller, buyer = trader("20000.00"), trader("10000.00")
    sell, buy = client_for(seller), client_for(buyer)
    assert buy.post(f"/api/v1/listings/{primary.pk}/buy/", {"units": 1}).status_code == 201  # 802.00
    sell.post(f"/api/v1/listings/{primary.pk}/buy/", {"units": 20})  # 16040.00
    response = sell.post("/api/v1/listings/", {"offering": primary.offering_id, "units": 10,
                                               "price_per_unit": "800.00", "min_units": 2}, format="json")
    assert response.status_code == 201, response.json()
    listing_id = response.json()["id"]

    check = buy.post("/api/v1/bids/check-balance/", {"listing": listing_id, "units": 10, "price_per_unit": "750.00"},
                     format="json")
    assert check.status_code == 200, check.json()
    assert check.json() == {"listing": listing_id, "units": 10, "price_per_unit": "750.00", "required": "7518.75",
                            "available": "9198.00", "sufficient": True}

    placed = buy.post("/api/v1/bids/", {"listing": listing_id, "units": 10, "price_per_unit": "750.00"},
                      format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert placed.status_code == 201, placed.json()
    body = placed.json()
    bid_id = body["id"]
    assert {k: body[k] for k in ("status", "units", "units_filled", "price_per_unit", "held_amount", "side", "trade",
                                 "ask_price_per_unit")} == {
        "status": "open", "units": 10, "units_filled": 0, "price_per_unit": "750.00", "held_amount": "7518.75",
        "side": "placed", "trade": None, "ask_price_per_unit": "800.00"}
    assert balances(buyer) == (D("1679.25"), D("7518.75"))

    received = sell.get("/api/v1/bids/?side=received").json()
    assert [(b["id"], b["side"], b["held_amount"]) for b in received["results"]] == [(bid_id, "received", None)]

    accepted = sell.post(f"/api/v1/bids/{bid_id}/accept/", {"units": 4}, format="json")
    assert accepted.status_code == 201, accepted.json()
    assert {k: accepted.json()[k] for k in ("side", "units", "price_per_unit", "amount", "fee", "total")} == {
        "side": "sell", "units": 4, "price_per_unit": "750.00", "amount": "3000.00", "fee": "7.50",
        "total": "2992.50"}

    modified = buy.patch(f"/api/v1/bids/{bid_id}/", {"price_per_unit": "760.00"}, format="json")
    assert modified.status_code == 200, modified.json()
    assert (modified.json()["status"], modified.json()["units"], modified.json()["held_amount"]) == (
        "partially_accepted", 6, "4571.40")  # 4560 + 11.40
    assert sell.post(f"/api/v1/bids/{bid_id}/accept/", {}, format="json").status_code == 201

    detail = buy.get(f"/api/v1/bids/{bid_id}/").json()
    assert (detail["status"], detail["units"], detail["units_filled"], detail["held_amount"]) == (
        "accepted", 0, 10, "0.00")
    assert [event["kind"] for event in detail["history"]] == ["placed", "accepted", "modified", "accepted"]
    assert balances(buyer) == (D("9198.00") - D("3007.50") - D("4571.40"), D("0.00"))
    assert balances(seller) == (D("3960.00") + D("2992.50") + D("4548.60"), D("0.00"))
    assert Holding.objects.get(owner=buyer).units == 11
    assert [t.price_per_unit for t in Trade.objects.filter(bid_id=bid_id).order_by("id")] == [D("750.00"),
                                                                                              D("760.00")]
    assert_books_clean()


def test_placing_again_with_the_same_idempotency_key_replays_without_a_second_bid(assert_books_clean):
    listing = investor_listing()
    buyer = bidder("5000.00")
    client, key = client_for(buyer), str(uuid.uuid4())
    payload = {"listing": listing.pk, "units": 2, "price_per_unit": "700.00"}
    first = client.post("/api/v1/bids/", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post("/api/v1/bids/", payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code, again.json()) == (201, 201, first.json())
    assert Bid.objects.count() == 1
    assert balances(buyer) == (D("3596.50"), D("1403.50"))
    assert_books_clean()


def test_a_modification_that_trades_is_replayed_with_its_key_not_run_again(assert_books_clean):
    """Found by the chaos test: a client whose PATCH timed out after the bid crossed the ask
    retried it and was told `bid_not_open`, though it had bought. With the key, the retry
    gets the first answer (the trade) and nothing moves twice."""
    listing = investor_listing()  # asks 800.00
    buyer = bidder("5000.00")
    client, key = client_for(buyer), str(uuid.uuid4())
    bid = place(buyer, listing, 2, "700.00")
    first = client.patch(f"/api/v1/bids/{bid.pk}/", {"price_per_unit": "800.00"}, format="json",
                         HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "accepted" and first.json()["trade"] is not None
    after_first = balances(buyer)
    again = client.patch(f"/api/v1/bids/{bid.pk}/", {"price_per_unit": "800.00"}, format="json",
                         HTTP_IDEMPOTENCY_KEY=key)
    assert (again.status_code, again.json()) == (200, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert Trade.objects.filter(bid_id=bid.pk).count() == 1
    assert balances(buyer) == after_first
    assert_books_clean()


def test_a_bid_at_the_ask_answers_with_the_trade():
    listing = investor_listing()
    response = client_for(bidder("5000.00")).post(
        "/api/v1/bids/", {"listing": listing.pk, "units": 2, "price_per_unit": "900.00"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["held_amount"], body["trade"]["price_per_unit"], body["trade"]["total"]) == (
        "accepted", "0.00", "800.00", "1604.00")


def test_who_may_do_what_with_a_bid():
    listing = investor_listing()
    buyer, stranger = bidder("5000.00"), bidder("5000.00")
    bid = place(buyer, listing, 2, "700.00")
    seller_client, buyer_client, stranger_client = client_for(listing.seller), client_for(buyer), client_for(stranger)

    # A stranger cannot see it at all.
    for response in (
        stranger_client.get(f"/api/v1/bids/{bid.pk}/"),
        stranger_client.patch(f"/api/v1/bids/{bid.pk}/", {"units": 3}, format="json"),
        stranger_client.post(f"/api/v1/bids/{bid.pk}/withdraw/"),
        stranger_client.post(f"/api/v1/bids/{bid.pk}/accept/", {}, format="json"),
        stranger_client.post(f"/api/v1/bids/{bid.pk}/reject/"),
    ):
        assert (response.status_code, error_code(response)) == (404, "not_found")
    # The other party sees it but may not act for the first.
    for response in (
        buyer_client.post(f"/api/v1/bids/{bid.pk}/accept/", {}, format="json"),
        buyer_client.post(f"/api/v1/bids/{bid.pk}/reject/"),
        seller_client.patch(f"/api/v1/bids/{bid.pk}/", {"units": 3}, format="json"),
        seller_client.post(f"/api/v1/bids/{bid.pk}/withdraw/"),
    ):
        assert (response.status_code, error_code(response)) == (403, "permission_denied")
    assert seller_client.get(f"/api/v1/bids/{bid.pk}/").json()["held_amount"] is None
    bid.refresh_from_db()
    assert (bid.status, bid.units, bid.held_amount) == ("open", 2, D("1403.50"))
    assert balances(buyer) == (D("3596.50"), D("1403.50"))


def test_refusals_over_http_have_the_api_shape():
    listing = investor_listing(min_units=2)
    buyer = bidder("1000.00")
    client = client_for(buyer)
    response = client.post("/api/v1/bids/", {"listing": listing.pk, "units": 2, "price_per_unit": "700.00"},
                           format="json")
    assert (response.status_code, error_code(response)) == (422, "insufficient_funds")
    response = client.post("/api/v1/bids/", {"listing": listing.pk, "units": 1, "price_per_unit": "100.00"},
                           format="json")
    assert (response.status_code, error_code(response), response.json()["errors"][0]["attr"]) == (
        422, "below_minimum_units", "units")
    bid = place(buyer, listing, 2, "100.00")
    client.post(f"/api/v1/bids/{bid.pk}/withdraw/")
    response = client.post(f"/api/v1/bids/{bid.pk}/withdraw/")
    assert (response.status_code, error_code(response)) == (409, "bid_not_open")
    response = client.patch(f"/api/v1/bids/{bid.pk}/", {}, format="json")
    assert response.status_code == 400
    no_bank = client_for(trader("0.00"))
    assert no_bank.get("/api/v1/bids/").status_code == 200
    assert balances(buyer) == (D("1000.00"), D("0.00"))


def test_listing_bids_filters_and_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    first, second = investor_listing(), investor_listing()
    buyer = bidder("100000.00")
    client = client_for(buyer)
    for listing in (first, second):
        place(buyer, listing, 2, "700.00")
    withdrawn = place(bidder("5000.00"), first, 2, "600.00")
    client_for(withdrawn.bidder).post(f"/api/v1/bids/{withdrawn.pk}/withdraw/")
    for _ in range(3):
        place(bidder("5000.00"), first, 2, "650.00")

    with django_assert_max_num_queries(4):
        placed = client.get("/api/v1/bids/?side=placed")
    assert placed.json()["count"] == 2
    assert client.get(f"/api/v1/bids/?listing={first.pk}").json()["count"] == 1

    seller = client_for(first.seller)
    with django_assert_max_num_queries(4):
        received = seller.get("/api/v1/bids/?side=received")
    assert received.json()["count"] == 5
    assert seller.get("/api/v1/bids/?side=received&status=withdrawn").json()["count"] == 1
    assert seller.get("/api/v1/bids/?side=received&status=open").json()["count"] == 4
    assert seller.get("/api/v1/bids/?side=placed").json()["count"] == 0
    assert client.get("/api/v1/bids/?side=sideways").status_code == 400
