"""Real threads against PostgreSQL: nothing is oversold or double-spent."""

from decimal import Decimal

import pytest

from core.errors import DomainError
from tests.concurrency import run_concurrently
from tests.conftest import requires_postgres
from tests.trading.factories import make_offering, post_primary, trader
from trading.models import Holding, Listing, Trade
from trading.services import listing_buy, listing_cancel, listing_post_secondary
from wallet.selectors import wallet_balance

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("writers")]


def test_fifty_buyers_on_ten_units_sell_exactly_ten(assert_books_clean):
    listing = post_primary(make_offering(), units=100)
    early = trader("1000000.00")
    listing_buy(buyer=early, listing_id=listing.pk, units=90)  # 10 left
    buyers = [trader("10000.00") for _ in range(50)]

    results = run_concurrently([lambda b=b: listing_buy(buyer=b, listing_id=listing.pk, units=1) for b in buyers])

    trades = [r for r in results if isinstance(r, Trade)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(trades) == 10
    assert {e.code for e in errors} <= {"insufficient_units", "listing_closed"}, errors
    listing.refresh_from_db()
    assert (listing.units_remaining, listing.status) == (0, "filled")
    assert Holding.objects.filter(owner__in=buyers).exclude(units=0).count() == 10
    for buyer, result in zip(buyers, results, strict=True):
        expected = Decimal("10000.00") - (Decimal("802.00") if isinstance(result, Trade) else 0)
        assert wallet_balance(user=buyer).available == expected
    assert_books_clean()


def test_two_buyers_on_the_last_unit(assert_books_clean):
    listing = post_primary(make_offering(), units=100)
    listing_buy(buyer=trader("1000000.00"), listing_id=listing.pk, units=99)
    first, second = trader("5000.00"), trader("5000.00")
    results = run_concurrently([lambda: listing_buy(buyer=first, listing_id=listing.pk, units=1),
                           lambda: listing_buy(buyer=second, listing_id=listing.pk, units=1)])
    assert sum(isinstance(r, Trade) for r in results) == 1
    assert all(isinstance(r, Trade | DomainError) for r in results)
    assert Trade.objects.filter(listing=listing).count() == 2
    assert_books_clean()


def test_a_buy_racing_the_sellers_cancel_has_one_consistent_outcome(assert_books_clean):
    primary = post_primary(make_offering(), units=100)
    seller = trader("100000.00")
    listing_buy(buyer=seller, listing_id=primary.pk, units=20)
    for _ in range(5):
        resale = listing_post_secondary(seller=seller, offering_id=primary.offering_id, units=4,
                                        price_per_unit=Decimal("800.00"))
        buyer = trader("10000.00")
        buy_result, cancel_result = run_concurrently([
            lambda b=buyer, r=resale: listing_buy(buyer=b, listing_id=r.pk, units=4),
            lambda r=resale: listing_cancel(user=seller, listing_id=r.pk),
        ])
        resale.refresh_from_db()
        if isinstance(buy_result, Trade):
            # The buy won: the whole listing was sold, so the cancel found nothing open.
            assert resale.status == "filled"
            assert isinstance(cancel_result, DomainError) and cancel_result.code == "listing_closed"
        else:
            assert resale.status == "cancelled"
            assert isinstance(buy_result, DomainError) and buy_result.code == "listing_closed"
            assert wallet_balance(user=buyer).available == Decimal("10000.00")
        holding = Holding.objects.get(owner=seller)
        assert holding.units_listed == 0
    assert_books_clean()


def test_many_buyers_across_listings_never_overdraw(assert_books_clean):
    """One buyer with money for exactly three buys tries eight at once on eight listings."""
    listings = [post_primary(make_offering(), units=10) for _ in range(8)]
    buyer = trader("2406.00")  # 3 × (800 + 2 fee)
    results = run_concurrently([lambda lst=lst: listing_buy(buyer=buyer, listing_id=lst.pk, units=1)
                                for lst in listings])
    assert sum(isinstance(r, Trade) for r in results) == 3
    assert {r.code for r in results if isinstance(r, Exception)} == {"insufficient_funds"}
    assert wallet_balance(user=buyer).available == Decimal("0.00")
    assert Listing.objects.filter(units_remaining=9).count() == 3
    assert_books_clean()
