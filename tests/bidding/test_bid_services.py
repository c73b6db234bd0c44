"""Every transition and refusal of a bid, with the exact available and held balances after it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from bidding.models import Bid, BidEvent
from bidding.services import (
    bid_accept,
    bid_check_balance,
    bid_expire_due,
    bid_modify,
    bid_reject,
    bid_required_amount,
    bid_withdraw,
)
from core.errors import DomainError
from core.outbox import OutboxMessage
from kyc.enums import KYCStatus
from kyc.models import KYCProfile
from tests.bidding.factories import bidder, investor_listing, place
from tests.conftest import requires_postgres
from tests.trading.factories import make_offering, post_primary, trader
from tests.wallet.factories import fund, verified_investor
from trading.models import Holding, Trade
from trading.services import listing_buy, listing_cancel
from wallet.enums import AccountKind
from wallet.models import JournalEntry, WalletHold
from wallet.reconcile import reconcile
from wallet.selectors import wallet_balance, wallet_system_balance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("writers")]

D = Decimal


@pytest.fixture(autouse=True)
def _fees(settings):
    settings.BUYER_FEE_BPS = 25
    settings.SELLER_FEE_BPS = 25


def balances(user) -> tuple[Decimal, Decimal]:
    balance = wallet_balance(user=user)
    return balance.available, balance.held


def refused(code: str, function, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        function(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def payloads(topic: str) -> list[dict]:
    """What the services published on `topic` (one row per message, the test's listener's)."""
    return [m.payload for m in OutboxMessage.objects.filter(topic=topic, handler__endswith="listen").order_by("id")]


@pytest.fixture
def listing():
    return investor_listing(units=10, price="800.00", min_units=2)


# --- Amounts ----------------------------------------------------------------------------------

def test_required_amount_is_value_plus_the_buyers_fee_rounded_half_up():
    assert bid_required_amount(units=10, price_per_unit=D("750.00")) == D("7518.75")
    assert bid_required_amount(units=1, price_per_unit=D("2.00")) == D("2.01")  # 0.005 rounds up
    assert bid_required_amount(units=1, price_per_unit=D("1.00")) == D("1.00")  # 0.0025 rounds down


def test_check_balance_moves_nothing_and_prices_at_most_at_the_ask(listing):
    buyer = bidder("7518.74")
    check = bid_check_balance(user=buyer, listing_id=listing.pk, units=10, price_per_unit=D("750.00"))
    assert (check.required, check.available, check.sufficient) == (D("7518.75"), D("7518.74"), False)
    at_ask = bid_check_balance(user=buyer, listing_id=listing.pk, units=1, price_per_unit=D("900.00"))
    assert (at_ask.price_per_unit, at_ask.required, at_ask.sufficient) == (D("800.00"), D("802.00"), True)
    assert balances(buyer) == (D("7518.74"), D("0.00"))
    assert JournalEntry.objects.filter(kind="hold").count() == 0
    refused("not_found", bid_check_balance, user=buyer, listing_id=listing.pk + 999, units=1, price_per_unit=D("1"))


# --- Place ------------------------------------------------------------------------------------

def test_placing_holds_units_times_price_plus_fee(listing, assert_books_clean, django_capture_on_commit_callbacks):
    buyer = bidder("10000.00")
    with django_capture_on_commit_callbacks(execute=True):
        bid = place(buyer, listing, 10, "750.00")

    assert balances(buyer) == (D("2481.25"), D("7518.75"))
    bid.refresh_from_db()
    assert (bid.status, bid.units, bid.units_filled, bid.price_per_unit, bid.held_amount, bid.seller_id) == (
        "open", 10, 0, D("750.00"), D("7518.75"), listing.seller_id)
    assert WalletHold.objects.get(reference=f"bid:{bid.pk}").amount == D("7518.75")
    assert list(bid.events.values_list("kind", "status", "held_amount")) == [("placed", "open", D("7518.75"))]
    assert payloads("bid.placed") == [{"bid_id": bid.pk, "listing_id": listing.pk, "bidder_id": buyer.pk,
                                       "seller_id": listing.seller_id, "units": 10, "price_per_unit": "750.00"}]
    assert payloads("listing.changed")[-1]["best_bid"] == "750.00"
    assert assert_books_clean() is None


def test_with_fewer_units_left_than_the_minimum_a_bid_must_take_them_all(listing, assert_books_clean):
    listing_buy(buyer=trader("100000.00"), listing_id=listing.pk, units=9)  # 1 left, minimum 2
    buyer = bidder("1000.00")
    bid = place(buyer, listing, 1, "700.00")
    assert (bid.units, bid.held_amount) == (1, D("701.75"))
    assert balances(buyer) == (D("298.25"), D("701.75"))
    assert_books_clean()


@pytest.mark.parametrize(("units", "price", "code"), [
    (1, "750.00", "below_minimum_units"),
    (11, "750.00", "insufficient_units"),
    (10, "760.00", "insufficient_funds"),  # needs 7619.00, has 7600.00
])
def test_placing_refusals_move_nothing(listing, units, price, code, assert_books_clean):
    buyer = bidder("7600.00")
    refused(code, place, buyer, listing, units, price)
    assert balances(buyer) == (D("7600.00"), D("0.00"))
    assert Bid.objects.count() == 0
    assert WalletHold.objects.filter(amount__gt=0).count() == 0
    assert_books_clean()


def test_no_bid_on_ones_own_listing(listing):
    refused("self_trade", place, listing.seller, listing, 2, "700.00")
    assert Bid.objects.count() == 0


def test_one_open_bid_per_bidder_per_listing(listing, assert_books_clean):
    buyer = bidder("20000.00")
    place(buyer, listing, 2, "700.00")
    refused("bid_already_open", place, buyer, listing, 3, "710.00")
    assert balances(buyer) == (D("20000.00") - D("1403.50"), D("1403.50"))
    assert Bid.objects.count() == 1
    assert_books_clean()


def test_the_database_refuses_a_second_active_bid_too(listing):
    first = place(bidder(), listing, 2, "700.00")
    with pytest.raises(DatabaseError), transaction.atomic():
        Bid.objects.create(listing=listing, bidder=first.bidder, seller=listing.seller, units=2,
                           price_per_unit=D("1.00"))


def test_a_bid_on_a_closed_or_platform_listing_is_refused(listing):
    buyer = bidder()
    primary = post_primary(make_offering(), units=10)
    refused("listing_not_biddable", place, buyer, primary, 1, "700.00")
    listing_cancel(user=listing.seller, listing_id=listing.pk)
    refused("listing_closed", place, buyer, listing, 2, "700.00")
    refused("invalid", place, buyer, investor_listing(), 2, "700.00", expires_at=timezone.now() - timedelta(1))
    assert Bid.objects.count() == 0
    assert balances(buyer) == (D("10000.00"), D("0.00"))


def test_the_onboarding_gate_applies_to_bids(listing):
    no_bank = verified_investor()
    fund(no_bank, "5000.00")
    refused("bank_account_required", place, no_bank, listing, 2, "700.00")
    no_kyc = bidder("5000.00")
    KYCProfile.objects.filter(user=no_kyc).update(status=KYCStatus.PENDING)
    refused("kyc_required", place, no_kyc, listing, 2, "700.00")
    assert Bid.objects.count() == 0


@pytest.mark.parametrize("price", ["800.00", "950.00"])
def test_a_bid_at_or_above_the_ask_buys_at_the_ask(listing, price, assert_books_clean):
    buyer = bidder("10000.00")
    seller_before = balances(listing.seller)
    bid = place(buyer, listing, 3, price)

    trade = Trade.objects.get(buyer=buyer)
    assert (trade.units, trade.price_per_unit, trade.amount, trade.buyer_fee) == (3, D("800.00"), D("2400.00"),
                                                                                   D("6.00"))
    assert balances(buyer) == (D("7594.00"), D("0.00"))  # never more than the ask
    assert balances(listing.seller) == (seller_before[0] + D("2394.00"), D("0.00"))
    bid.refresh_from_db()
    assert (bid.status, bid.units, bid.units_filled, bid.price_per_unit, bid.held_amount) == (
        "accepted", 0, 3, D("800.00"), D("0.00"))
    assert bid.events.get().kind == "executed_at_ask"
    assert bid.events.get().data == {"bid_price": price}
    assert assert_books_clean() is None


# --- Modify -----------------------------------------------------------------------------------

def test_raising_a_bid_holds_the_extra_in_one_entry(listing, assert_books_clean):
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 4, "700.00")  # holds 2807.00
    entries = JournalEntry.objects.count()
    bid = bid_modify(bidder=buyer, bid_id=bid.pk, units=6, price_per_unit=D("750.00"))  # 4511.25
    assert JournalEntry.objects.count() == entries + 1
    assert JournalEntry.objects.latest("id").kind == "hold"
    assert balances(buyer) == (D("5488.75"), D("4511.25"))
    bid.refresh_from_db()
    assert (bid.units, bid.price_per_unit, bid.held_amount) == (6, D("750.00"), D("4511.25"))
    assert bid.events.last().data == {"before": {"units": 4, "price_per_unit": "700.00", "held_amount": "2807.00"}}
    assert payloads("bid.modified")[-1]["units"] == 6
    assert_books_clean()


def test_lowering_a_bid_releases_the_surplus_in_one_entry(listing, assert_books_clean):
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 6, "750.00")
    entries = JournalEntry.objects.count()
    bid_modify(bidder=buyer, bid_id=bid.pk, price_per_unit=D("700.00"))  # 4210.50
    assert JournalEntry.objects.count() == entries + 1
    assert JournalEntry.objects.latest("id").kind == "release"
    assert balances(buyer) == (D("5789.50"), D("4210.50"))
    assert_books_clean()


def test_a_raise_the_wallet_cannot_cover_leaves_the_bid_as_it_was(listing, assert_books_clean):
    buyer = bidder("3000.00")
    bid = place(buyer, listing, 4, "700.00")  # holds 2807.00, 193.00 left
    refused("insufficient_funds", bid_modify, bidder=buyer, bid_id=bid.pk, units=5)  # needs 701.75 more
    bid.refresh_from_db()
    assert (bid.units, bid.price_per_unit, bid.held_amount, bid.status) == (4, D("700.00"), D("2807.00"), "open")
    assert balances(buyer) == (D("193.00"), D("2807.00"))
    assert bid.events.count() == 1
    assert_books_clean()


def test_modify_checks_the_listings_terms(listing):
    buyer = bidder()
    bid = place(buyer, listing, 4, "700.00")
    refused("insufficient_units", bid_modify, bidder=buyer, bid_id=bid.pk, units=11)
    refused("below_minimum_units", bid_modify, bidder=buyer, bid_id=bid.pk, units=1)
    refused("not_found", bid_modify, bidder=bidder(), bid_id=bid.pk, units=5)
    refused("permission_denied", bid_modify, bidder=listing.seller, bid_id=bid.pk, units=5)
    bid.refresh_from_db()
    assert (bid.units, bid.held_amount) == (4, D("2807.00"))


def test_raising_a_bid_to_the_ask_buys_at_the_ask(listing, assert_books_clean):
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 4, "700.00")
    bid = bid_modify(bidder=buyer, bid_id=bid.pk, price_per_unit=D("820.00"))
    assert (bid.status, bid.units, bid.units_filled, bid.price_per_unit, bid.held_amount) == (
        "accepted", 0, 4, D("800.00"), D("0.00"))
    trade = Trade.objects.get(buyer=buyer)
    assert (trade.price_per_unit, trade.bid_id) == (D("800.00"), bid.pk)
    assert balances(buyer) == (D("10000.00") - D("3208.00"), D("0.00"))
    assert_books_clean()


# --- Withdraw, reject, expire ----------------------------------------------------------------

def test_withdrawing_releases_the_hold_once(listing, assert_books_clean):
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 4, "700.00")
    bid = bid_withdraw(bidder=buyer, bid_id=bid.pk)
    assert (bid.status, bid.held_amount) == ("withdrawn", D("0.00"))
    assert balances(buyer) == (D("10000.00"), D("0.00"))
    refused("bid_not_open", bid_withdraw, bidder=buyer, bid_id=bid.pk)
    refused("bid_not_open", bid_modify, bidder=buyer, bid_id=bid.pk, units=5)
    assert balances(buyer) == (D("10000.00"), D("0.00"))
    assert JournalEntry.objects.filter(kind="release", reference=f"bid:{bid.pk}").count() == 1
    refused("permission_denied", bid_withdraw, bidder=listing.seller, bid_id=bid.pk)
    assert payloads("bid.withdrawn")[-1]["bid_id"] == bid.pk
    assert_books_clean()


def test_rejecting_returns_the_hold_to_the_bidder(listing, assert_books_clean):
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 4, "700.00")
    refused("permission_denied", bid_reject, seller=buyer, bid_id=bid.pk)
    refused("not_found", bid_reject, seller=bidder(), bid_id=bid.pk)
    assert balances(buyer) == (D("7193.00"), D("2807.00"))
    bid = bid_reject(seller=listing.seller, bid_id=bid.pk)
    assert (bid.status, bid.held_amount) == ("rejected", D("0.00"))
    assert balances(buyer) == (D("10000.00"), D("0.00"))
    refused("bid_not_open", bid_reject, seller=listing.seller, bid_id=bid.pk)
    assert list(bid.events.values_list("kind", flat=True)) == ["placed", "rejected"]
    assert payloads("bid.rejected")[-1]["bid_id"] == bid.pk
    assert_books_clean()


def test_expiry_releases_due_bids_only_and_only_once(listing, assert_books_clean):
    now = timezone.now()
    early, late, forever = bidder("5000.00"), bidder("5000.00"), bidder("5000.00")
    due = place(early, listing, 2, "700.00", expires_at=now + timedelta(hours=1))
    later = place(late, listing, 2, "700.00", expires_at=now + timedelta(hours=3))
    place(forever, listing, 2, "700.00")

    assert bid_expire_due(now=now + timedelta(hours=2)) == 1
    assert bid_expire_due(now=now + timedelta(hours=2)) == 0
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.held_amount, later.status) == ("expired", D("0.00"), "open")
    assert balances(early) == (D("5000.00"), D("0.00"))
    assert balances(late) == (D("3596.50"), D("1403.50"))
    assert payloads("bid.expired") == [{"bid_id": due.pk, "listing_id": listing.pk, "bidder_id": early.pk,
                                        "seller_id": listing.seller_id, "units": 2, "price_per_unit": "700.00"}]
    assert_books_clean()


def test_a_bid_past_its_expiry_cannot_be_accepted_before_the_job_runs(listing):
    buyer = bidder("5000.00")
    bid = place(buyer, listing, 2, "700.00", expires_at=timezone.now() + timedelta(hours=1))
    refused("bid_not_open", bid_accept, seller=listing.seller, bid_id=bid.pk, now=timezone.now() + timedelta(hours=2))
    assert Trade.objects.filter(bid_id=bid.pk).count() == 0


# --- Accept --------------------------------------------------------------------------------------

def test_accepting_all_pays_the_seller_at_the_bid_price_from_the_hold(listing, assert_books_clean):
    buyer = bidder("10000.00")
    seller = listing.seller
    bid = place(buyer, listing, 10, "750.00")
    fees_before = wallet_system_balance(kind=AccountKind.FEES)

    fill = bid_accept(seller=seller, bid_id=bid.pk)

    trade = fill.trade
    assert (trade.units, trade.price_per_unit, trade.amount, trade.buyer_fee, trade.seller_fee, trade.bid_id) == (
        10, D("750.00"), D("7500.00"), D("18.75"), D("18.75"), bid.pk)
    assert balances(buyer) == (D("2481.25"), D("0.00"))
    assert balances(seller) == (D("3960.00") + D("7481.25"), D("0.00"))
    assert wallet_system_balance(kind=AccountKind.FEES) - fees_before == D("37.50")
    bid.refresh_from_db()
    assert (bid.status, bid.units, bid.units_filled, bid.held_amount) == ("accepted", 0, 10, D("0.00"))
    assert Holding.objects.get(owner=buyer).units == 10
    seller_holding = Holding.objects.get(owner=seller)
    assert (seller_holding.units, seller_holding.units_listed) == (10, 0)
    listing.refresh_from_db()
    assert (listing.units_remaining, listing.status) == (0, "filled")
    assert payloads("bid.accepted")[-1] == {"bid_id": bid.pk, "listing_id": listing.pk, "bidder_id": buyer.pk,
                                            "seller_id": seller.pk, "units": 10, "price_per_unit": "750.00",
                                            "trade_id": trade.pk}
    refused("bid_not_open", bid_accept, seller=seller, bid_id=bid.pk)
    assert Trade.objects.filter(bid_id=bid.pk).count() == 1
    assert_books_clean()


def test_a_partial_accept_leaves_the_rest_open_with_its_own_hold(listing, assert_books_clean):
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 10, "750.00")  # 7518.75
    bid_accept(seller=listing.seller, bid_id=bid.pk, units=4)  # pays 3007.50
    bid.refresh_from_db()
    assert (bid.status, bid.units, bid.units_filled, bid.held_amount) == ("partially_accepted", 6, 4, D("4511.25"))
    assert balances(buyer) == (D("2481.25"), D("4511.25"))

    bid_modify(bidder=buyer, bid_id=bid.pk, units=5)  # the rest stays modifiable: 3759.38 (3750 + 9.375)
    assert balances(buyer) == (D("3233.12"), D("3759.38"))
    bid_accept(seller=listing.seller, bid_id=bid.pk)
    bid.refresh_from_db()
    assert (bid.status, bid.units, bid.units_filled, bid.held_amount) == ("accepted", 0, 9, D("0.00"))
    assert balances(buyer) == (D("3233.12"), D("0.00"))
    assert list(bid.events.values_list("kind", "status")) == [
        ("placed", "open"), ("accepted", "partially_accepted"), ("modified", "partially_accepted"),
        ("accepted", "accepted")]
    assert_books_clean()


def test_partial_accept_releases_a_rounding_surplus(assert_books_clean):
    listing = investor_listing(units=10, price="800.00")
    buyer = bidder("10.00")
    bid = place(buyer, listing, 2, "1.00")  # 2.00 + fee 0.005 → 2.01
    bid_accept(seller=listing.seller, bid_id=bid.pk, units=1)  # pays 1.00 (fee 0.0025 → 0.00)
    bid.refresh_from_db()
    assert bid.held_amount == bid_required_amount(units=1, price_per_unit=D("1.00")) == D("1.00")
    assert balances(buyer) == (D("8.00"), D("1.00"))  # 7.99 after placing, + the paisa of surplus
    assert_books_clean()


def test_partial_accept_tops_up_a_rounding_shortfall_when_it_can(assert_books_clean):
    listing = investor_listing(units=10, price="800.00")
    buyer = bidder("10.00")
    bid = place(buyer, listing, 2, "2.00")  # 4.00 + 0.01 = 4.01
    bid_accept(seller=listing.seller, bid_id=bid.pk, units=1)  # pays 2.01, leaves 2.00 for a 2.01 rest
    bid.refresh_from_db()
    assert bid.held_amount == D("2.01")
    assert balances(buyer) == (D("5.98"), D("2.01"))
    bid_accept(seller=listing.seller, bid_id=bid.pk)
    assert balances(buyer) == (D("5.98"), D("0.00"))
    assert_books_clean()


def test_a_rounding_shortfall_the_bidder_cannot_cover_stays_consistent(assert_books_clean):
    listing = investor_listing(units=10, price="800.00")
    buyer = bidder("4.01")
    bid = place(buyer, listing, 2, "2.00")
    bid_accept(seller=listing.seller, bid_id=bid.pk, units=1)
    bid.refresh_from_db()
    assert (bid.held_amount, balances(buyer)) == (D("2.00"), (D("0.00"), D("2.00")))
    assert_books_clean()  # the hold and held_amount agree, a paisa under the rest's price
    refused("insufficient_funds", bid_accept, seller=listing.seller, bid_id=bid.pk)
    fund(buyer, "0.01")
    bid_accept(seller=listing.seller, bid_id=bid.pk)
    assert balances(buyer) == (D("0.00"), D("0.00"))
    assert_books_clean()


def test_accept_refusals_move_nothing(listing, assert_books_clean):
    buyer = bidder("10000.00")
    bid = place(buyer, listing, 6, "750.00")
    refused("insufficient_units", bid_accept, seller=listing.seller, bid_id=bid.pk, units=7)
    refused("permission_denied", bid_accept, seller=buyer, bid_id=bid.pk)
    refused("not_found", bid_accept, seller=bidder(), bid_id=bid.pk)
    refused("below_minimum_units", bid_accept, seller=listing.seller, bid_id=bid.pk, units=1)
    listing_buy(buyer=trader("100000.00"), listing_id=listing.pk, units=5)  # 5 left, the bid wants 6
    refused("insufficient_units", bid_accept, seller=listing.seller, bid_id=bid.pk)
    assert Trade.objects.filter(bid_id=bid.pk).count() == 0
    bid.refresh_from_db()
    assert (bid.status, bid.units, bid.held_amount) == ("open", 6, D("4511.25"))
    assert balances(buyer) == (D("5488.75"), D("4511.25"))
    bid_accept(seller=listing.seller, bid_id=bid.pk, units=5)  # fills the listing; the rest closes
    bid.refresh_from_db()
    assert (bid.status, bid.units, bid.units_filled, bid.held_amount) == ("closed", 1, 5, D("0.00"))
    assert balances(buyer) == (D("10000.00") - D("3759.38"), D("0.00"))
    assert_books_clean()


# --- The listing's end ---------------------------------------------------------------------------

def test_cancelling_the_listing_releases_every_active_bid(listing, django_capture_on_commit_callbacks,
                                                          assert_books_clean):
    first, second, gone = bidder("5000.00"), bidder("5000.00"), bidder("5000.00")
    a, b = place(first, listing, 2, "700.00"), place(second, listing, 3, "710.00")
    withdrawn = bid_withdraw(bidder=gone, bid_id=place(gone, listing, 2, "600.00").pk)

    with django_capture_on_commit_callbacks(execute=True):
        listing_cancel(user=listing.seller, listing_id=listing.pk)

    for bid in (a, b):
        bid.refresh_from_db()
        assert (bid.status, bid.held_amount) == ("closed", D("0.00"))
    for user in (first, second, gone):
        assert balances(user) == (D("5000.00"), D("0.00"))
    assert Bid.objects.get(pk=withdrawn.pk).status == "withdrawn"
    assert JournalEntry.objects.filter(kind="release", reference=f"bid:{withdrawn.pk}").count() == 1
    assert OutboxMessage.objects.filter(topic="listing.closed", status="processed").count() >= 1
    assert_books_clean()


def test_a_buy_that_fills_the_listing_closes_the_other_bids(listing, django_capture_on_commit_callbacks,
                                                            assert_books_clean):
    buyer = bidder("5000.00")
    bid = place(buyer, listing, 2, "700.00")
    with django_capture_on_commit_callbacks(execute=True):
        listing_buy(buyer=trader("100000.00"), listing_id=listing.pk, units=10)
    bid.refresh_from_db()
    assert (bid.status, bid.held_amount) == ("closed", D("0.00"))
    assert balances(buyer) == (D("5000.00"), D("0.00"))
    assert_books_clean()


def test_listing_end_handler_is_idempotent(listing, assert_books_clean):
    from bidding.services import bids_close_for_listing

    buyer = bidder("5000.00")
    place(buyer, listing, 2, "700.00")
    assert bids_close_for_listing(listing_id=listing.pk) == 0  # still open: nothing to do
    listing_cancel(user=listing.seller, listing_id=listing.pk)  # no commit here, so no handler ran
    assert bids_close_for_listing(listing_id=listing.pk) == 1
    assert bids_close_for_listing(listing_id=listing.pk) == 0
    assert balances(buyer) == (D("5000.00"), D("0.00"))
    assert_books_clean()


# --- Reconcile and history ---------------------------------------------------------------------

def test_reconcile_reports_a_bid_whose_held_amount_disagrees_with_the_wallet(listing):
    bid = place(bidder(), listing, 2, "700.00")
    assert reconcile() == []
    Bid.objects.filter(pk=bid.pk).update(held_amount=D("1000.00"))
    assert any(f"bid:{bid.pk}" in line for line in reconcile())


@requires_postgres
def test_bid_history_is_append_only(listing):
    bid = place(bidder(), listing, 2, "700.00")
    event = BidEvent.objects.get(bid=bid)
    with pytest.raises(DatabaseError), transaction.atomic():
        BidEvent.objects.filter(pk=event.pk).update(units=99)
    with pytest.raises(DatabaseError), transaction.atomic():
        BidEvent.objects.filter(pk=event.pk).delete()
