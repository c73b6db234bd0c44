from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import transaction
from freezegun import freeze_time

from core.outbox import registered_handlers
from integrations.models import OutboundMessage
from notifications.enums import NotificationKind as Kind
from notifications.models import Notification, NotificationDelivery
from tests.accounts.factories import UserFactory
from tests.notifications.conftest import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return SimpleNamespace(**{name: UserFactory(email=f"{name}@example.com") for name in ("a", "b", "c")})


# topic, payload(people), expected [(person, kind, title)]
CASES = [
    ("kyc.verified", lambda p: {"user_id": p.a.id}, [("a", Kind.KYC_VERIFIED, "KYC verified")]),
    ("kyc.rejected", lambda p: {"user_id": p.a.id, "reason": "PAN name mismatch."},
     [("a", Kind.KYC_REJECTED, "KYC not approved")]),
    ("kyc.manual_review", lambda p: {"user_id": p.a.id}, [("a", Kind.KYC_MANUAL_REVIEW, "KYC under review")]),
    ("deposit.credited", lambda p: {"user_id": p.a.id, "deposit_id": 7, "amount": "125000.00"},
     [("a", Kind.DEPOSIT_CREDITED, "Money added")]),
    ("deposit.rejected", lambda p: {"user_id": p.a.id, "deposit_id": 8, "amount": "500.00", "note": "Blurry proof."},
     [("a", Kind.DEPOSIT_REJECTED, "Deposit rejected")]),
    ("withdrawal.paid", lambda p: {"user_id": p.a.id, "withdrawal_id": 3, "amount": "2500.00"},
     [("a", Kind.WITHDRAWAL_PAID, "Withdrawal paid")]),
    ("withdrawal.failed", lambda p: {"user_id": p.a.id, "withdrawal_id": 4, "amount": "2500.00"},
     [("a", Kind.WITHDRAWAL_FAILED, "Withdrawal failed")]),
    ("trade.executed",
     lambda p: {"trade_id": 11, "listing_id": 5, "offering_id": 2, "buyer_id": p.a.id, "seller_id": p.b.id,
                "units": 10, "price_per_unit": "1010.50", "amount": "10105.00"},
     [("a", Kind.TRADE_EXECUTED, "Units bought"), ("b", Kind.TRADE_EXECUTED, "Units sold")]),
    ("trade.executed",  # bought from the platform's own inventory: no seller to tell
     lambda p: {"trade_id": 12, "listing_id": 5, "offering_id": 2, "buyer_id": p.a.id, "seller_id": None,
                "units": 1, "price_per_unit": "1000.00", "amount": "1000.00"},
     [("a", Kind.TRADE_EXECUTED, "Units bought")]),
    ("bid.placed", lambda p: {"bid_id": 21, "listing_id": 5, "bidder_id": p.a.id, "seller_id": p.b.id, "units": 4,
                              "price_per_unit": "990.00"},
     [("b", Kind.BID_RECEIVED, "New bid on your listing")]),
    ("bid.accepted", lambda p: {"bid_id": 21, "listing_id": 5, "bidder_id": p.a.id, "seller_id": p.b.id,
                                "units": 4, "price_per_unit": "990.00"},
     [("a", Kind.BID_ACCEPTED, "Bid accepted")]),
    ("bid.rejected", lambda p: {"bid_id": 22, "listing_id": 5, "bidder_id": p.a.id, "seller_id": p.b.id,
                                "units": 4, "price_per_unit": "990.00"},
     [("a", Kind.BID_REJECTED, "Bid rejected")]),
    ("bid.expired", lambda p: {"bid_id": 23, "listing_id": 5, "bidder_id": p.a.id, "seller_id": p.b.id,
                               "units": 4, "price_per_unit": "990.00"},
     [("a", Kind.BID_EXPIRED, "Bid expired")]),
    ("distribution.paid",
     lambda p: {"distribution_id": 31, "offering_id": 2, "lines": [
         {"user_id": p.a.id, "gross": "110.00", "tds": "11.00", "net": "99.00"},
         {"user_id": p.c.id, "gross": "55.00", "tds": "5.50", "net": "49.50"}]},
     [("a", Kind.DISTRIBUTION_PAID, "Repayment received"), ("c", Kind.DISTRIBUTION_PAID, "Repayment received")]),
    ("offering.defaulted", lambda p: {"offering_id": 2, "holder_ids": [p.a.id, p.b.id, p.a.id], "reason": ""},
     [("a", Kind.OFFERING_DEFAULTED, "Offering in default"), ("b", Kind.OFFERING_DEFAULTED, "Offering in default")]),
    ("impersonation.started", lambda p: {"user_id": p.c.id, "impersonator_id": p.a.id},
     [("c", Kind.IMPERSONATION_STARTED, "Support is viewing your account")]),
]


def _our_handler(topic: str):
    handlers = [fn for name, fn in registered_handlers(topic).items() if name.startswith("notifications.handlers.")]
    assert len(handlers) == 1, f"exactly one notifications handler for {topic}"
    return handlers[0]


def _snapshot():
    return (
        sorted(Notification.objects.values_list("user_id", "kind", "title")),
        NotificationDelivery.objects.count(),
        OutboundMessage.objects.count(),
        len(mail.outbox),
    )


@pytest.mark.parametrize(("topic", "payload", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_event_notifies_the_right_people_once(topic, payload, expected, people,
                                                   django_capture_on_commit_callbacks):
    body = payload(people)
    with django_capture_on_commit_callbacks(execute=True):
        publish(topic, body)

    want = sorted((getattr(people, who).id, kind, title) for who, kind, title in expected)
    after_first = _snapshot()
    assert after_first[0] == want

    # The handler runs again (a redelivery) and the event is even published a second time.
    handler = _our_handler(topic)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            handler(body)
        with transaction.atomic():
            handler(body)
        publish(topic, body)
    assert _snapshot() == after_first


def test_money_is_shown_in_rupees_with_indian_grouping(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish("deposit.credited", {"user_id": people.a.id, "deposit_id": 1, "amount": "1234567.5"})
    notification = Notification.objects.get(user=people.a)
    assert notification.body == "₹12,34,567.50 was added to your wallet."
    assert notification.data == {"deposit_id": 1, "amount": "1234567.50"}


def test_trade_tells_each_side_its_own_side(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish("trade.executed", {"trade_id": 9, "listing_id": 5, "offering_id": 2, "buyer_id": people.a.id,
                                   "seller_id": people.b.id, "units": 3, "price_per_unit": "1000",
                                   "amount": "3000.00"})
    buyer = Notification.objects.get(user=people.a)
    seller = Notification.objects.get(user=people.b)
    assert (buyer.data["side"], seller.data["side"]) == ("buy", "sell")
    assert buyer.body == "You bought 3 units of offering #2 at ₹1,000.00 each (₹3,000.00)."
    assert buyer.data["price_per_unit"] == "1000.00"


def test_distribution_sums_two_lines_of_one_holder(people, django_capture_on_commit_callbacks):
    lines = [{"user_id": people.a.id, "gross": "10.00", "tds": "1.00", "net": "9.00"},
             {"user_id": people.a.id, "gross": "20.00", "tds": "2.00", "net": "18.00"}]
    with django_capture_on_commit_callbacks(execute=True):
        publish("distribution.paid", {"distribution_id": 5, "offering_id": 2, "lines": lines})
    notification = Notification.objects.get(user=people.a)
    assert notification.data == {"distribution_id": 5, "offering_id": 2, "gross": "30.00", "tds": "3.00",
                                 "net": "27.00"}


def test_an_event_for_an_unknown_user_is_skipped_not_retried(people, django_capture_on_commit_callbacks):
    from core.outbox import OutboxMessage

    with django_capture_on_commit_callbacks(execute=True):
        publish("withdrawal.paid", {"user_id": 999_999_999, "withdrawal_id": 1, "amount": "1.00"})
    assert not Notification.objects.exists()
    ours = OutboxMessage.objects.get(handler="notifications.handlers.on_withdrawal_paid")
    assert ours.status == OutboxMessage.Status.PROCESSED


def test_an_event_without_an_id_is_new_again_after_the_dedupe_window(people, django_capture_on_commit_callbacks):
    payload = {"user_id": people.c.id, "impersonator_id": people.a.id}
    with freeze_time("2026-11-21 10:00:00"), django_capture_on_commit_callbacks(execute=True):
        publish("impersonation.started", payload)
    with freeze_time("2026-11-21 10:04:00"), django_capture_on_commit_callbacks(execute=True):
        publish("impersonation.started", payload)  # a repeat of the same event
    assert Notification.objects.filter(user=people.c).count() == 1
    with freeze_time("2026-11-21 10:25:00"), django_capture_on_commit_callbacks(execute=True):
        publish("impersonation.started", payload)  # another support session later on
    assert Notification.objects.filter(user=people.c).count() == 2


def test_a_batch_of_events_makes_each_notification_once_in_a_few_statements(
        people, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    from notifications.handlers import on_trade_executed

    payloads = [{"trade_id": trade_id, "listing_id": 5, "offering_id": 2, "buyer_id": people.a.id,
                 "seller_id": people.b.id, "units": 1, "price_per_unit": "1000", "amount": "1000.00"}
                for trade_id in range(1, 41)]
    # For 80 notifications: existing rows, users, preferences, the notifications, the deliveries,
    # and three savepoints' SAVEPOINT/RELEASE (this block's, the service's, the INSERT's).
    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(11), transaction.atomic():
        on_trade_executed(payloads)
    assert Notification.objects.count() == 80
    assert NotificationDelivery.objects.count() == 80  # trade_executed: email by default
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        on_trade_executed(payloads)  # redelivered: nothing new
    assert Notification.objects.count() == 80


def test_a_duplicate_committed_after_the_check_is_skipped_and_the_rest_of_the_batch_is_made(
        people, django_capture_on_commit_callbacks, monkeypatch):
    """Another delivery of the same event can commit between the existence check and the
    insert; the batch's one INSERT then fails and each row is tried alone."""
    from notifications import services
    from notifications.handlers import on_deposit_credited

    Notification.objects.create(user=people.a, kind=Kind.DEPOSIT_CREDITED, event_key="deposit.credited:2",
                                title="Money added", body="(the other delivery's)")
    real_filter = services.Notification.objects.filter
    missed = []

    def filter_missing_the_duplicate(*args, **kwargs):
        if not missed:  # the existence check, run before the other delivery committed
            missed.append(1)
            return Notification.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(services.Notification.objects, "filter", filter_missing_the_duplicate)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        on_deposit_credited([{"user_id": people.a.id, "deposit_id": deposit_id, "amount": "10.00"}
                             for deposit_id in (1, 2, 3)])
    assert missed == [1]
    assert sorted(Notification.objects.values_list("event_key", "body")) == [
        ("deposit.credited:1", "₹10.00 was added to your wallet."),
        ("deposit.credited:2", "(the other delivery's)"),
        ("deposit.credited:3", "₹10.00 was added to your wallet."),
    ]
    assert NotificationDelivery.objects.filter(notification__event_key="deposit.credited:2").count() == 0
