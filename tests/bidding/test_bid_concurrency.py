"""Real threads against PostgreSQL: whatever the interleaving, a bid's hold is paid or
released exactly once, a trade uses one consistent price, and nothing is oversold."""

from decimal import Decimal

import pytest

from bidding.models import Bid
from bidding.services import bid_accept, bid_modify, bid_required_amount, bid_withdraw
from core.errors import DomainError
from tests.bidding.factories import bidder, investor_listing, place
from tests.concurrency import run_concurrently as run_at_once
from tests.conftest import requires_postgres
from tests.trading.factories import trader
from trading.models import Holding, Listing, Trade
from trading.services import listing_buy, listing_cancel
from wallet.models import JournalEntry
from wallet.selectors import wallet_balance

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("writers")]

D = Decimal


@pytest.fixture(autouse=True)
def _fees(settings):
    settings.BUYER_FEE_BPS = 25
    settings.SELLER_FEE_BPS = 25


def balances(user):
    balance = wallet_balance(user=user)
    return balance.available, balance.held


def codes(results) -> set[str]:
    return {r.code for r in results if isinstance(r, DomainError)}


def unexpected(results) -> list:
    return [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]


def test_accept_racing_withdraw_has_exactly_one_winner(assert_books_clean):
    for _round in range(2):
        listing = investor_listing(units=10)
        buyer = bidder("10000.00")
        bid = place(buyer, listing, 4, "700.00")  # holds 2807.00

        seller, bid_id = listing.seller, bid.pk
        results = run_at_once([lambda s=seller, b=bid_id: bid_accept(seller=s, bid_id=b),
                               lambda u=buyer, b=bid_id: bid_withdraw(bidder=u, bid_id=b)])

        assert unexpected(results) == []
        assert sum(not isinstance(r, Exception) for r in results) == 1, results
        assert codes(results) == {"bid_not_open"}
        bid.refresh_from_db()
        trades = Trade.objects.filter(bid_id=bid.pk).count()
        if bid.status == "accepted":
            assert trades == 1
            assert balances(buyer) == (D("7193.00"), D("0.00"))
        else:
            assert (bid.status, trades) == ("withdrawn", 0)
            assert balances(buyer) == (D("10000.00"), D("0.00"))
        assert bid.held_amount == D("0.00")
    assert_books_clean()


def test_a_double_click_on_accept_makes_one_trade(assert_books_clean):
    listing = investor_listing(units=10)
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 4, "700.00")

    results = run_at_once([lambda: bid_accept(seller=listing.seller, bid_id=bid.pk) for _ in range(2)])

    assert unexpected(results) == []
    assert codes(results) == {"bid_not_open"}
    assert Trade.objects.filter(bid_id=bid.pk).count() == 1
    assert JournalEntry.objects.filter(kind="trade.bid", reference=f"bid:{bid.pk}").count() == 1
    assert balances(buyer) == (D("7193.00"), D("0.00"))
    assert_books_clean()


def test_modify_racing_accept_trades_at_one_consistent_price(assert_books_clean):
    listing = investor_listing(units=10)
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 4, "700.00")

    results = run_at_once([lambda: bid_accept(seller=listing.seller, bid_id=bid.pk),
                           lambda: bid_modify(bidder=buyer, bid_id=bid.pk, price_per_unit=D("720.00"))])

    assert unexpected(results) == []
    trade = Trade.objects.get(bid_id=bid.pk)
    assert trade.price_per_unit in (D("700.00"), D("720.00"))
    if trade.price_per_unit == D("700.00"):
        assert codes(results) == {"bid_not_open"}  # accepted first; the modify found it closed
    else:
        assert codes(results) == set()  # modified first; accepted at the new price
    paid = bid_required_amount(units=4, price_per_unit=trade.price_per_unit)
    assert trade.amount + trade.buyer_fee == paid
    assert balances(buyer) == (D("10000.00") - paid, D("0.00"))
    assert_books_clean()


def test_a_buy_of_the_last_units_racing_an_accept_never_oversells(assert_books_clean):
    listing = investor_listing(units=10, seller_units=10)
    buyer, rival = bidder("10000.00"), trader("10000.00")
    bid = place(buyer, listing, 10, "700.00")

    results = run_at_once([lambda: bid_accept(seller=listing.seller, bid_id=bid.pk),
                           lambda: listing_buy(buyer=rival, listing_id=listing.pk, units=10)])

    assert unexpected(results) == []
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert codes(results) <= {"listing_closed", "insufficient_units"}
    listing.refresh_from_db()
    assert (listing.units_remaining, listing.status) == (0, "filled")
    assert Trade.objects.filter(listing=listing).count() == 1
    seller_holding = Holding.objects.get(owner=listing.seller)
    assert (seller_holding.units, seller_holding.units_listed) == (0, 0)
    assert sum(Holding.objects.filter(owner__in=[buyer, rival]).values_list("units", flat=True)) == 10
    bid.refresh_from_db()
    assert bid.status in ("accepted", "closed")  # closed: the listing's end released it
    assert bid.held_amount == D("0.00")
    assert balances(buyer)[1] == D("0.00")
    assert_books_clean()


def test_listing_cancel_racing_accept_ends_consistently(assert_books_clean):
    listing = investor_listing(units=10)
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 4, "700.00")

    results = run_at_once([lambda: bid_accept(seller=listing.seller, bid_id=bid.pk),
                           lambda: listing_cancel(user=listing.seller, listing_id=listing.pk)])

    assert unexpected(results) == []
    bid.refresh_from_db()
    listing.refresh_from_db()
    assert listing.status == "cancelled"  # 6 units were left either way
    if isinstance(results[0], Exception):
        assert codes(results) == {"listing_closed"}  # cancelled first: the accept found it closed
        assert (bid.status, Trade.objects.filter(bid_id=bid.pk).count()) == ("closed", 0)
        assert balances(buyer) == (D("10000.00"), D("0.00"))
    else:
        assert (bid.status, Trade.objects.filter(bid_id=bid.pk).count()) == ("accepted", 1)
        assert balances(buyer) == (D("7193.00"), D("0.00"))
    assert bid.held_amount == D("0.00")
    assert not Bid.objects.filter(listing=listing, status__in=("open", "partially_accepted")).exists()
    assert Listing.objects.get(pk=listing.pk).units_remaining == (10 if isinstance(results[0], Exception) else 6)
    assert_books_clean()
