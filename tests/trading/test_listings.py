from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from freezegun import freeze_time

from tests.conftest import authenticate
from tests.trading.factories import make_offering, post_primary, trader
from trading.models import Holding, Listing
from trading.services import listing_buy
from wallet.reconcile import reconcile

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller_with_units():
    listing = post_primary(make_offering(), units=100)
    seller = trader("100000.00")
    listing_buy(buyer=seller, listing_id=listing.pk, units=30)
    return seller, listing.offering


def post(client, offering, units, price="805.00", **extra):
    return client.post("/api/v1/listings/", {"offering": offering.pk, "units": units, "price_per_unit": price,
                                             **extra})


def test_a_sell_post_moves_free_units_to_listed(api_client, seller_with_units, assert_books_clean):
    seller, offering = seller_with_units
    response = post(authenticate(api_client, seller), offering, 12, min_units=2)
    assert response.status_code == 201, response.json()
    assert response.json()["seller_kind"] == "investor"
    assert response.json()["units_remaining"] == 12
    holding = Holding.objects.get(owner=seller)
    assert (holding.units, holding.units_listed) == (30, 12)
    assert_books_clean()


def test_a_sell_post_cannot_list_more_than_the_free_units(api_client, seller_with_units):
    seller, offering = seller_with_units
    client = authenticate(api_client, seller)
    assert post(client, offering, 20).status_code == 201
    response = post(client, offering, 11)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "insufficient_units"
    assert Holding.objects.get(owner=seller).units_listed == 20


def test_an_investor_without_units_cannot_post(api_client, seller_with_units):
    _, offering = seller_with_units
    response = post(authenticate(api_client, trader()), offering, 1)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "insufficient_units"


def test_cancel_returns_the_units(api_client, seller_with_units, assert_books_clean):
    seller, offering = seller_with_units
    client = authenticate(api_client, seller)
    listing_id = post(client, offering, 10).json()["id"]
    response = client.post(f"/api/v1/listings/{listing_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Holding.objects.get(owner=seller).units_listed == 0
    again = client.post(f"/api/v1/listings/{listing_id}/cancel/")
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "listing_closed"
    assert_books_clean()


def test_someone_elses_listing_cannot_be_cancelled(api_client, seller_with_units):
    seller, offering = seller_with_units
    listing_id = post(authenticate(api_client, seller), offering, 10).json()["id"]
    intruder = authenticate(api_client, trader())
    response = intruder.post(f"/api/v1/listings/{listing_id}/cancel/")
    assert response.status_code == 404
    assert Listing.objects.get(pk=listing_id).status == "open"
    assert Holding.objects.get(owner=seller).units_listed == 10


def test_the_platforms_listing_cannot_be_cancelled_by_an_investor(api_client):
    listing = post_primary(make_offering(), units=10)
    response = authenticate(api_client, trader()).post(f"/api/v1/listings/{listing.pk}/cancel/")
    assert response.status_code == 404


def test_expired_listings_are_closed_by_the_beat_job(seller_with_units, assert_books_clean):
    seller, offering = seller_with_units
    from trading.services import listing_post_secondary

    closes = timezone.now() + timedelta(hours=2)
    listing = listing_post_secondary(seller=seller, offering_id=offering.pk, units=10,
                                     price_per_unit=Decimal("805.00"), closes_at=closes)
    with freeze_time(closes - timedelta(minutes=1)):
        call_command("run_periodic", "trading-listing-expiry")
    assert Listing.objects.get(pk=listing.pk).status == "open"
    with freeze_time(closes + timedelta(minutes=1)):
        call_command("run_periodic", "trading-listing-expiry")
    listing.refresh_from_db()
    assert listing.status == "expired"
    assert Holding.objects.get(owner=seller).units_listed == 0
    assert_books_clean()


@pytest.mark.parametrize(("field", "value"), [("units", 0), ("price_per_unit", "0.00"), ("price_per_unit", "1.005"),
                                              ("price_per_unit", "abc"), ("min_units", 0)])
def test_bad_sell_posts_are_a_400(api_client, seller_with_units, field, value):
    seller, offering = seller_with_units
    body = {"offering": offering.pk, "units": 5, "price_per_unit": "800.00", field: value}
    response = authenticate(api_client, seller).post("/api/v1/listings/", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == field
    assert Holding.objects.get(owner=seller).units_listed == 0


def test_a_minimum_above_the_units_is_refused(api_client, seller_with_units):
    seller, offering = seller_with_units
    response = post(authenticate(api_client, seller), offering, 5, min_units=6)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "min_units"


def test_reconcile_reports_units_that_do_not_add_up(seller_with_units):
    seller, _ = seller_with_units
    assert reconcile() == []
    Holding.objects.filter(owner=seller).update(units=31)
    differences = reconcile()
    assert any("holdings" in line and "total units" in line for line in differences)
    assert any("transfers sum to 30" in line for line in differences)
