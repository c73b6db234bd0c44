"""Random sequences of place / modify / withdraw / accept / reject / expire / buy on one
investor's listing. After every step: each bidder's held balance equals the sum of their
active bids' `held_amount` (and each hold is what the bid's rest costs), every rupee a
bidder or the seller started with is accounted for by the trades, units are conserved,
and `reconcile` is clean.

Same pattern as the wallet's state machine: one database transaction for the whole run
(rolled back at the end), fresh users and a fresh listing per example. The listing's end is
delivered by draining the outbox by hand, as the worker would after commit."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from bidding.enums import ACTIVE_STATUSES
from bidding.models import Bid
from bidding.services import (
    bid_accept,
    bid_expire_due,
    bid_modify,
    bid_place,
    bid_reject,
    bid_required_amount,
    bid_withdraw,
)
from core.errors import DomainError
from core.outbox import outbox_drain
from tests.bidding.factories import investor_listing
from tests.trading.factories import trader
from trading.models import Trade
from trading.reconcile import units_differences
from trading.services import listing_buy
from wallet.reconcile import reconcile
from wallet.selectors import wallet_balance

EXPECTED_REFUSALS = {"insufficient_funds", "insufficient_units", "below_minimum_units", "listing_closed",
                     "bid_not_open", "bid_already_open"}
FUNDS = Decimal("20000.00")
prices = st.integers(min_value=70000, max_value=81000).map(lambda paise: Decimal(paise) / 100)  # some ≥ the ask
bidder_index = st.integers(0, 2)


class BiddingMachine(RuleBasedStateMachine):
    @initialize()
    def open_a_listing(self):
        self.listing = investor_listing(units=12, price="800.00", min_units=2, seller_units=15)
        self.seller = self.listing.seller
        self.seller_start = wallet_balance(user=self.seller).available
        self.bidders = [trader(str(FUNDS)) for _ in range(3)]
        self.rival = trader("100000.00")
        self.now = timezone.now()

    def _attempt(self, function, **kwargs):
        try:
            function(**kwargs)
        except DomainError as exc:
            assert exc.code in EXPECTED_REFUSALS, exc
        outbox_drain()  # deliver `listing.closed` (and the rest) as the worker would

    def _bid_of(self, index):
        return Bid.objects.filter(listing=self.listing, bidder=self.bidders[index]).order_by("-id").first()

    @rule(index=bidder_index, units=st.integers(1, 8), price=prices, expiring=st.booleans())
    def place(self, index, units, price, expiring):
        self._attempt(bid_place, bidder=self.bidders[index], listing_id=self.listing.pk, units=units,
                      price_per_unit=price, expires_at=self.now + timedelta(hours=1) if expiring else None,
                      now=self.now)

    @rule(index=bidder_index, units=st.none() | st.integers(1, 8), price=st.none() | prices)
    def modify(self, index, units, price):
        bid = self._bid_of(index)
        if bid is not None:
            self._attempt(bid_modify, bidder=self.bidders[index], bid_id=bid.pk, units=units, price_per_unit=price,
                          now=self.now)

    @rule(index=bidder_index)
    def withdraw(self, index):
        bid = self._bid_of(index)
        if bid is not None:
            self._attempt(bid_withdraw, bidder=self.bidders[index], bid_id=bid.pk, now=self.now)

    @rule(index=bidder_index, units=st.none() | st.integers(1, 8))
    def accept(self, index, units):
        bid = self._bid_of(index)
        if bid is not None:
            self._attempt(bid_accept, seller=self.seller, bid_id=bid.pk, units=units, now=self.now)

    @rule(index=bidder_index)
    def reject(self, index):
        bid = self._bid_of(index)
        if bid is not None:
            self._attempt(bid_reject, seller=self.seller, bid_id=bid.pk, now=self.now)

    @rule()
    def time_passes(self):
        self.now += timedelta(hours=2)
        bid_expire_due(now=self.now)

    @rule(units=st.integers(1, 6))
    def someone_buys(self, units):
        self._attempt(listing_buy, buyer=self.rival, listing_id=self.listing.pk, units=units)

    @invariant()
    def holds_match_the_bids_and_the_money_is_all_there(self):
        if not hasattr(self, "listing"):
            return
        for user in self.bidders:
            balance = wallet_balance(user=user)
            active = Bid.objects.filter(bidder=user, status__in=ACTIVE_STATUSES)
            assert balance.held == (active.aggregate(total=Sum("held_amount"))["total"] or Decimal("0.00"))
            for bid in active:
                rest = bid_required_amount(units=bid.units, price_per_unit=bid.price_per_unit)
                assert rest - Decimal("0.01") <= bid.held_amount <= rest, bid  # a paisa short at most
            assert not Bid.objects.filter(bidder=user, held_amount__gt=0).exclude(status__in=ACTIVE_STATUSES).exists()
            spent = sum((t.amount + t.buyer_fee for t in Trade.objects.filter(buyer=user)), Decimal("0.00"))
            assert balance.available + balance.held + spent == FUNDS
        received = sum((t.amount - t.seller_fee for t in Trade.objects.filter(seller=self.seller)), Decimal("0.00"))
        assert wallet_balance(user=self.seller).available == self.seller_start + received
        self.listing.refresh_from_db()
        sold = Trade.objects.filter(listing=self.listing).aggregate(total=Sum("units"))["total"] or 0
        assert self.listing.units_remaining == self.listing.units_offered - sold
        if self.listing.status != "open":
            assert not Bid.objects.filter(listing=self.listing, status__in=ACTIVE_STATUSES).exists()
        assert units_differences() == []
        assert reconcile() == []


@pytest.mark.django_db
def test_random_bidding_keeps_money_and_units_exact():
    from django.test import override_settings

    with override_settings(BUYER_FEE_BPS=25, SELLER_FEE_BPS=25):
        run_state_machine_as_test(BiddingMachine, settings=settings(
            max_examples=15, stateful_step_count=20, deadline=None, derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ))
