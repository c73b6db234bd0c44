import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from core.outbox import OutboxMessage
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate, requires_postgres
from tests.trading.factories import make_offering, post_primary, trader
from trading.enums import OfferingStatus
from trading.models import Holding, Listing, Trade, UnitTransfer
from trading.services import listing_buy, listing_cancel, listing_post_secondary
from wallet.enums import AccountKind
from wallet.selectors import wallet_balance, wallet_system_balance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("writers")]


def buy(client, listing, units, **headers):
    return client.post(f"/api/v1/listings/{listing.pk}/buy/", {"units": units}, **headers)


def available(user) -> Decimal:
    return wallet_balance(user=user).available


@pytest.fixture
def listing():
    return post_primary(make_offering(), units=100, price="800.00", min_units=5)


def test_buying_from_the_platform_moves_exact_money_and_units(api_client, listing, settings, assert_books_clean):
    settings.BUYER_FEE_BPS = 25
    buyer = trader("100000.00")
    fees_before = wallet_system_balance(kind=AccountKind.FEES)

    response = buy(authenticate(api_client, buyer), listing, 10)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {
        "id": body["id"], "listing": listing.pk, "offering": listing.offering_id, "side": "buy", "units": 10,
        "price_per_unit": "800.00", "amount": "8000.00", "fee": "20.00", "total": "8020.00",
        "created_at": body["created_at"],
    }
    assert available(buyer) == Decimal("91980.00")
    assert wallet_system_balance(kind=AccountKind.PLATFORM_PROCEEDS) == Decimal("8000.00")
    assert wallet_system_balance(kind=AccountKind.FEES) - fees_before == Decimal("20.00")
    holding = Holding.objects.get(owner=buyer)
    assert (holding.units, holding.units_listed, holding.cost_basis) == (10, 0, Decimal("8000.00"))
    inventory = Holding.objects.get(offering=listing.offering, owner__isnull=True)
    assert (inventory.units, inventory.units_listed) == (90, 90)
    listing.refresh_from_db()
    assert (listing.units_remaining, listing.status) == (90, "open")
    transfer = UnitTransfer.objects.get(kind="trade")
    assert (transfer.from_holding_id, transfer.to_holding_id, transfer.units) == (inventory.pk, holding.pk, 10)
    event = OutboxMessage.objects.filter(topic="trade.executed").first()
    assert event is not None and event.payload["buyer_id"] == buyer.pk and event.payload["seller_id"] is None
    assert_books_clean()


def test_secondary_sale_charges_both_fees(listing, settings, assert_books_clean):
    settings.BUYER_FEE_BPS = 25
    settings.SELLER_FEE_BPS = 50
    seller = trader("100000.00")
    listing_buy(buyer=seller, listing_id=listing.pk, units=20)  # 16,000 + 40 fee
    resale = listing_post_secondary(seller=seller, offering_id=listing.offering_id, units=10,
                                    price_per_unit=Decimal("810.00"))
    buyer = trader("50000.00")
    seller_before = available(seller)

    trade = listing_buy(buyer=buyer, listing_id=resale.pk, units=10)

    assert (trade.amount, trade.buyer_fee, trade.seller_fee) == (Decimal("8100.00"), Decimal("20.25"),
                                                                 Decimal("40.50"))
    assert available(buyer) == Decimal("50000.00") - Decimal("8120.25")
    assert available(seller) - seller_before == Decimal("8059.50")
    seller_holding = Holding.objects.get(owner=seller)
    assert (seller_holding.units, seller_holding.units_listed) == (10, 0)
    assert seller_holding.cost_basis == Decimal("8000.00")  # half of 16,000 at the average price
    assert trade.seller_cost_basis == Decimal("8000.00")
    assert_books_clean()


def test_a_partial_fill_leaves_the_rest_open_and_the_last_fill_closes_it(listing, assert_books_clean):
    first, second = trader("100000.00"), trader("100000.00")
    listing_buy(buyer=first, listing_id=listing.pk, units=60)
    listing_buy(buyer=second, listing_id=listing.pk, units=40)
    listing.refresh_from_db()
    assert (listing.units_remaining, listing.status) == (0, "filled")
    listing.offering.refresh_from_db()
    assert listing.offering.status == OfferingStatus.SOLD_OUT
    assert_books_clean()


@pytest.mark.parametrize(("units", "code", "status"), [(3, "below_minimum_units", 422),
                                                        (101, "insufficient_units", 422)])
def test_unit_rules_refuse_and_move_nothing(api_client, listing, units, code, status, assert_books_clean):
    buyer = trader("100000.00")
    response = buy(authenticate(api_client, buyer), listing, units)
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert available(buyer) == Decimal("100000.00")
    assert not Trade.objects.exists() and not Holding.objects.filter(owner=buyer, units__gt=0).exists()
    assert_books_clean()


def test_the_last_units_may_be_fewer_than_the_minimum(listing):
    listing_buy(buyer=trader("100000.00"), listing_id=listing.pk, units=97)
    trade = listing_buy(buyer=trader("10000.00"), listing_id=listing.pk, units=3)  # min 5, only 3 left
    assert trade.units == 3


def test_insufficient_funds_moves_nothing(api_client, listing, assert_books_clean):
    buyer = trader("8019.99")  # 10 units cost 8,000 + 20 fee
    response = buy(authenticate(api_client, buyer), listing, 10)
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "code": "insufficient_funds", "attr": "amount",
        "detail": "Not enough money in available: balance 8019.99, needs 8020.00.",
    }  # worded alike on both paths: the database function's refusal is worded in Python
    assert available(buyer) == Decimal("8019.99")
    listing.refresh_from_db()
    assert listing.units_remaining == 100
    assert not Trade.objects.exists()
    assert_books_clean()


def test_self_trade_is_refused(api_client, listing):
    seller = trader("100000.00")
    listing_buy(buyer=seller, listing_id=listing.pk, units=10)
    resale = listing_post_secondary(seller=seller, offering_id=listing.offering_id, units=10,
                                    price_per_unit=Decimal("800.00"))
    response = buy(authenticate(api_client, seller), resale, 5)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "self_trade"
    assert Trade.objects.count() == 1


def test_a_cancelled_listing_cannot_be_bought(api_client, listing, assert_books_clean):
    seller = trader("100000.00")
    listing_buy(buyer=seller, listing_id=listing.pk, units=10)
    resale = listing_post_secondary(seller=seller, offering_id=listing.offering_id, units=10,
                                    price_per_unit=Decimal("800.00"))
    listing_cancel(user=seller, listing_id=resale.pk)
    buyer = trader("100000.00")
    response = buy(authenticate(api_client, buyer), resale, 5)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "listing_closed"
    assert available(buyer) == Decimal("100000.00")
    assert Holding.objects.get(owner=seller).units_listed == 0
    assert_books_clean()


def test_a_listing_past_its_close_cannot_be_bought(api_client):
    offering = make_offering()
    closes = timezone.now() + timedelta(hours=1)
    listing = post_primary(offering, units=50, closes_at=closes)
    buyer = trader("100000.00")
    with freeze_time(closes + timedelta(seconds=1)):
        response = buy(authenticate(api_client, buyer), listing, 5)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "listing_closed"


def test_a_listing_not_yet_open_cannot_be_bought(api_client):
    listing = post_primary(make_offering(), units=50, opens_at=timezone.now() + timedelta(days=1))
    response = buy(authenticate(api_client, trader("100000.00")), listing, 5)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "listing_closed"


def test_an_unverified_buyer_is_refused(api_client, listing):
    from wallet.models import LedgerAccount

    unverified = UserFactory()
    response = buy(authenticate(api_client, unverified), listing, 5)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "kyc_required"
    listing.refresh_from_db()
    assert listing.units_remaining == 100
    assert not LedgerAccount.objects.filter(owner=unverified).exists()  # the attempt opened no wallet


def known_wallet_trader(client, listing, django_capture_on_commit_callbacks):
    """A trader who has bought once, committed, so this process knows their wallet: their
    next buy meets the onboarding gate inside the settling statement."""
    buyer = trader("100000.00")
    with django_capture_on_commit_callbacks(execute=True):
        assert buy(authenticate(client, buyer), listing, 5).status_code == 201
    return buyer


@pytest.mark.parametrize(("revoke", "code", "words"), [
    ("kyc", "kyc_required", "Trading needs verified KYC; yours is rejected."),
    ("bank", "bank_account_required", "Trading needs a verified bank account; yours is failed."),
])
@pytest.mark.parametrize("keyed", [False, True])
def test_a_trader_whose_onboarding_lapsed_is_refused_by_the_settling_statement(
        api_client, listing, writers, revoke, code, words, keyed, django_capture_on_commit_callbacks,
        assert_books_clean):
    """KYC rejected, or the only bank account failed, after the wallet was opened: the buy is
    refused with the gate's own error and words (on PostgreSQL by `kyc_trader()` inside the
    statement, in the request's transaction when keyed), and nothing moves."""
    from kyc.models import BankAccount, KYCProfile

    buyer = known_wallet_trader(api_client, listing, django_capture_on_commit_callbacks)
    if revoke == "kyc":
        KYCProfile.objects.filter(user=buyer).update(status="rejected")
    else:
        BankAccount.objects.filter(user=buyer).update(status="failed", is_primary=False)
    before = (available(buyer), Trade.objects.count(), Holding.objects.get(owner=buyer).units)
    headers = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if keyed else {}

    response = buy(api_client, listing, 5, **headers)

    assert response.status_code == 403, response.json()
    assert response.json()["errors"][0] == {"code": code, "detail": words, "attr": None}
    assert (available(buyer), Trade.objects.count(), Holding.objects.get(owner=buyer).units) == before
    if keyed:
        assert buy(api_client, listing, 5, **headers).json() == response.json()  # the refusal is stored
    assert_books_clean()


def test_a_buyer_without_a_verified_bank_account_is_refused(api_client, listing):
    from tests.wallet.factories import fund, verified_investor

    buyer = verified_investor()
    fund(buyer, "10000.00")
    response = buy(authenticate(api_client, buyer), listing, 5)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "bank_account_required"


def test_idempotent_replay_buys_once(api_client, listing, assert_books_clean):
    buyer = trader("100000.00")
    client = authenticate(api_client, buyer)
    key = str(uuid.uuid4())
    first = buy(client, listing, 10, HTTP_IDEMPOTENCY_KEY=key)
    second = buy(client, listing, 10, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Trade.objects.count() == 1
    assert available(buyer) == Decimal("91980.00")
    other = buy(client, listing, 11, HTTP_IDEMPOTENCY_KEY=key)
    assert other.status_code == 422 and other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert_books_clean()


@pytest.mark.parametrize("units", [0, -1, "abc", 1.5, None])
def test_bad_units_are_a_400(api_client, listing, units):
    response = api_client.post(f"/api/v1/listings/{listing.pk}/buy/", {"units": units}, format="json",
                               **{"HTTP_AUTHORIZATION": authenticate(api_client, trader("1000.00"))
                                  ._credentials["HTTP_AUTHORIZATION"]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "units"
    assert not Trade.objects.exists()


def test_an_unknown_listing_is_a_404(api_client):
    response = buy(authenticate(api_client, trader("1000.00")), Listing(pk=999999), 1)
    assert response.status_code == 404


@requires_postgres
def test_a_buy_costs_a_fixed_number_of_statements(api_client, listing, writers, django_capture_on_commit_callbacks,
                                                   django_assert_num_queries):
    """The hot path's statement budget (docs/benchmarks.md, "Marketplace buy"): the user, the
    onboarding gate, the payer's wallet (not cached yet for a new trader) and the whole fill,
    outbox messages included, as one call of `trading_settle()`, plus the savepoint pair the
    test's own transaction adds (outside a transaction the call commits alone). The ORM path
    (SQLite's) takes sixteen more: the listing lock, the holdings lock, a first buyer's
    holding and its lock, the account lock, the entry, its transfers, the balances and the
    audit event inside a savepoint pair, the fill's five statements and the outbox."""
    with django_capture_on_commit_callbacks(execute=True):  # what a committed buy leaves cached
        assert buy(authenticate(api_client, trader("10000.00")), listing, 5).status_code == 201
    client = authenticate(APIClient(), trader("10000.00"))
    with django_assert_num_queries({"sql": 6, "orm": 22}[writers]):
        assert buy(client, listing, 5).status_code == 201


@requires_postgres
def test_a_known_trader_meets_the_onboarding_gate_inside_the_settling_statement(
        api_client, listing, writers, django_capture_on_commit_callbacks):
    """Once the buyer's wallet is known, the database path reads the gate in the statement that
    settles (one round trip fewer: the user, then `trading_settle(…, kyc_trader(…), …)`, in the
    test transaction's savepoint pair); the ORM path reads it first, on its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    known_wallet_trader(api_client, listing, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as captured:
        assert buy(api_client, listing, 5).status_code == 201
    statements = [query["sql"] for query in captured.captured_queries]
    reading_kyc = [sql for sql in statements if "kyc_" in sql]
    assert len(reading_kyc) == 1
    if writers == "sql":
        assert len(statements) == 4 and "trading_settle(" in reading_kyc[0] and "kyc_trader(" in reading_kyc[0]
    else:
        assert "trading_settle(" not in reading_kyc[0]


@requires_postgres
def test_a_keyed_buy_adds_the_key_statements_and_no_savepoint(api_client, listing, writers,
                                                             django_capture_on_commit_callbacks):
    """With an Idempotency-Key the buy runs inside the request's transaction: two more
    statements (the claim, the stored response) and the savepoint pair of the request's own
    block (the test's transaction is around it), but none for the buy's block inside it.
    (The ORM path's ledger_post keeps a savepoint of its own.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_capture_on_commit_callbacks(execute=True):
        assert buy(authenticate(api_client, trader("10000.00")), listing, 5).status_code == 201
    client = authenticate(APIClient(), trader("10000.00"))
    with CaptureQueriesContext(connection) as unkeyed:
        assert buy(client, listing, 5).status_code == 201
    client = authenticate(APIClient(), trader("10000.00"))
    with CaptureQueriesContext(connection) as keyed:
        assert buy(client, listing, 5, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code == 201
    savepoints = [q["sql"] for q in keyed.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == {"sql": 1, "orm": 2}[writers]
    assert len(keyed.captured_queries) == len(unkeyed.captured_queries) + 2


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_keyed_buy_that_is_refused_inside_the_request_transaction_moves_nothing(listing, writers,
                                                                                  assert_books_clean):
    """No savepoint inside the request's transaction: a refusal raised half-way through the
    buy must still roll back everything it wrote, and the refusal is stored for the key."""
    from core.idempotency import IdempotencyKey

    buyer = trader("1000.00")  # 5 units at 800.00 need 4010.00
    client = authenticate(APIClient(), buyer)
    before = available(buyer)
    response = buy(client, listing, 5, HTTP_IDEMPOTENCY_KEY="refused")
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "insufficient_funds"
    assert (available(buyer), Trade.objects.count(), Holding.objects.filter(owner=buyer).count()) == (before, 0, 0)
    assert IdempotencyKey.objects.get(key="refused").response_status == 422
    assert_books_clean()


def test_a_buy_posts_one_entry_with_its_audit_event(listing, settings, assert_books_clean):
    """The entry, its transfers and the `ledger.posted` event a buy writes, on both paths
    (the database function builds the audit data itself)."""
    from core.audit import AuditEvent
    from wallet.models import Transfer
    from wallet.services import wallet_open, wallet_system_account

    settings.BUYER_FEE_BPS = 25
    buyer = trader("10000.00")
    trade = listing_buy(buyer=buyer, listing_id=listing.pk, units=5)  # 4,000 + 10 fee

    entry = trade.journal_entry
    assert (entry.kind, entry.reference, entry.memo, entry.created_by_id) == (
        "trade.buy", f"listing:{listing.pk}", f"5 units of offering {listing.offering_id}", buyer.pk)
    paying = wallet_open(user=buyer).available.pk
    proceeds = wallet_system_account(AccountKind.PLATFORM_PROCEEDS).pk
    fees = wallet_system_account(AccountKind.FEES).pk
    legs = list(Transfer.objects.filter(entry=entry).order_by("pk").values_list(
        "debit_account_id", "credit_account_id", "amount", "debit_balance_after", "credit_balance_after"))
    assert legs == [(paying, proceeds, Decimal("4000.00"), Decimal("6000.00"), None),
                    (paying, fees, Decimal("10.00"), Decimal("5990.00"), None)]
    event = AuditEvent.objects.get(action="ledger.posted", target_id=str(entry.pk))
    assert (event.actor_id, event.target_type) == (buyer.pk, "wallet.journalentry")
    assert event.data == {"kind": "trade.buy", "reference": f"listing:{listing.pk}",
                          "transfers": [[paying, proceeds, "4000.00"], [paying, fees, "10.00"]]}
    assert_books_clean()


def test_a_fill_paid_from_a_hold_is_refused_beyond_the_hold(listing, settings, assert_books_clean):
    """A bid's fill is paid from its hold and never more (bidding resizes the hold first; this
    is the last check), worded alike on both paths; nothing moves."""
    from trading.services import settle_locked_listing
    from wallet.errors import HoldExceeded
    from wallet.services import wallet_hold, wallet_release

    settings.BUYER_FEE_BPS = 25
    buyer = trader("10000.00")
    wallet_hold(user=buyer, amount=Decimal("4009.99"), reference="bid:test")  # 5 units cost 4,010.00
    with pytest.raises(HoldExceeded) as refused, transaction.atomic():  # the caller's, as bidding's
        settle_locked_listing(listing=listing, buyer=buyer, units=5, price_per_unit=listing.price_per_unit,
                              pay_from_hold_reference="bid:test")
    assert str(refused.value.detail) == "Only 4009.99 is held for bid:test; cannot pay 4010.00."
    assert not Trade.objects.exists()
    assert wallet_balance(user=buyer).held == Decimal("4009.99")
    wallet_release(user=buyer, amount=Decimal("4009.99"), reference="bid:test")  # no bid owns it
    assert_books_clean()


def test_a_seller_whose_wallet_was_never_opened_is_paid(assert_books_clean):
    """A secondary seller normally has a wallet (they paid for their units); one who does
    not — units moved to them without a trade — gets it opened by the buy, then paid."""
    from kyc.enums import KYCStatus
    from tests.kyc.factories import KYCProfileFactory
    from trading.enums import UnitTransferKind
    from wallet.models import LedgerAccount

    listing = post_primary(make_offering(), units=50)  # 50 of the inventory's 100 units stay free
    seller = UserFactory()
    KYCProfileFactory(user=seller, status=KYCStatus.VERIFIED)
    inventory = Holding.objects.get(offering=listing.offering, owner__isnull=True)
    holding = Holding.objects.create(owner=seller, offering=listing.offering, units=10, units_listed=10,
                                     cost_basis=Decimal("8000.00"))
    Holding.objects.filter(pk=inventory.pk).update(units=inventory.units - 10)
    UnitTransfer.objects.create(offering=listing.offering, from_holding=inventory, to_holding=holding, units=10,
                                kind=UnitTransferKind.TRADE, reference="test: moved without a trade")
    resale = Listing.objects.create(offering=listing.offering, kind="secondary", seller=seller,
                                    seller_holding=holding, units_offered=10, units_remaining=10,
                                    price_per_unit=Decimal("900.00"))
    assert not LedgerAccount.objects.filter(owner=seller).exists()

    listing_buy(buyer=trader("100000.00"), listing_id=resale.pk, units=10)

    assert available(seller) == Decimal("9000.00") - Trade.objects.get(listing=resale).seller_fee
    assert_books_clean()


def test_a_buy_that_fills_the_listing_publishes_its_events(assert_books_clean):
    """The messages a filling buy leaves in the outbox, one per registered handler, the same
    on both paths (the database function writes them itself)."""
    from core.outbox import handler_names

    listing = post_primary(make_offering(), units=4, price="812.50")
    buyer = trader("10000.00")
    before = OutboxMessage.objects.order_by("pk").values_list("pk", flat=True).last() or 0
    trade = listing_buy(buyer=buyer, listing_id=listing.pk, units=4)

    messages = list(OutboxMessage.objects.filter(pk__gt=before).order_by("pk")
                    .values_list("topic", "handler", "payload", "status"))
    offering_id = listing.offering_id
    expected = [
        ("trade.executed", {"trade_id": trade.pk, "listing_id": listing.pk, "offering_id": offering_id,
                            "buyer_id": buyer.pk, "seller_id": None, "units": 4, "price_per_unit": "812.50",
                            "amount": "3250.00", "bid_id": None}),
        ("listing.closed", {"listing_id": listing.pk, "offering_id": offering_id, "status": "filled"}),
        ("listing.changed", {"listing_id": listing.pk, "offering_id": offering_id, "units_remaining": 0,
                             "status": "filled", "price_per_unit": "812.50"}),
    ]
    assert messages == [(topic, name, payload, "pending") for topic, payload in expected
                        for name in handler_names(topic)]
    assert {topic for topic, *_ in messages} == {"trade.executed", "listing.closed", "listing.changed"}
    assert_books_clean()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_refused_first_buy_leaves_no_holding(listing, assert_books_clean):
    """On PostgreSQL a buy outside any transaction is one statement that commits alone; a
    refusal found after the buyer's first holding was created undoes it (the function raises),
    so no empty holding is left behind. The ORM path rolls its own transaction back."""
    from django.db import connection

    from wallet.errors import InsufficientFunds

    buyer = trader("100.00")
    assert not connection.in_atomic_block
    with pytest.raises(InsufficientFunds):
        listing_buy(buyer=buyer, listing_id=listing.pk, units=5)
    assert not Holding.objects.filter(owner=buyer).exists()
    assert not Trade.objects.exists()
    assert available(buyer) == Decimal("100.00")

    trade = listing_buy(buyer=trader("10000.00"), listing_id=listing.pk, units=5)
    assert Trade.objects.filter(pk=trade.pk).exists()
    assert_books_clean()
