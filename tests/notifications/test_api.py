from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.enums import DeliveryChannel, NotificationKind
from notifications.models import Notification, NotificationPreference
from tests.accounts.factories import UserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


def test_list_shows_unread_first_then_newest(investor, investor_client):
    now = timezone.now()
    old_unread = NotificationFactory(user=investor, created_at=now - timedelta(days=2))
    new_read = NotificationFactory(user=investor, created_at=now, read_at=now)
    new_unread = NotificationFactory(user=investor, created_at=now - timedelta(hours=1))
    NotificationFactory()  # someone else's
    NotificationFactory(user=investor, is_in_app=False)  # in-app turned off: SMS-only row

    response = investor_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [new_unread.id, old_unread.id, new_read.id]
    assert body["results"][0] == {
        "id": new_unread.id, "kind": "deposit_credited", "title": new_unread.title, "body": new_unread.body,
        "data": {}, "created_at": new_unread.created_at.isoformat(), "read_at": None, "is_read": False,
    }


def test_list_filters_by_kind_and_unread(investor, investor_client):
    trade = NotificationFactory(user=investor, kind=NotificationKind.TRADE_EXECUTED)
    NotificationFactory(user=investor, kind=NotificationKind.TRADE_EXECUTED, read_at=timezone.now())
    NotificationFactory(user=investor, kind=NotificationKind.BID_RECEIVED)
    response = investor_client.get(URL, {"kind": "trade_executed", "unread": "true"})
    assert [item["id"] for item in response.json()["results"]] == [trade.id]
    assert investor_client.get(URL, {"kind": "trade_executed"}).json()["count"] == 2


def test_list_refuses_an_unknown_kind(investor_client):
    response = investor_client.get(URL, {"kind": "lottery_won"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "kind"


def test_list_costs_a_fixed_number_of_queries(investor, investor_client, django_assert_max_num_queries):
    NotificationFactory.create_batch(30, user=investor)
    # authentication (user) + count + page
    with django_assert_max_num_queries(3):
        response = investor_client.get(URL)
    assert len(response.json()["results"]) == 30


def test_list_needs_a_signed_in_user(api_client):
    assert api_client.get(URL).status_code == 401


def test_mark_one_read(investor, investor_client):
    notification = NotificationFactory(user=investor)
    response = investor_client.post(f"{URL}{notification.id}/read/")
    assert response.status_code == 200
    assert response.json()["is_read"] is True
    notification.refresh_from_db()
    assert notification.read_at is not None
    first_read_at = notification.read_at
    investor_client.post(f"{URL}{notification.id}/read/")  # again: keeps the first time
    notification.refresh_from_db()
    assert notification.read_at == first_read_at


def test_someone_elses_notification_is_not_found_and_stays_unread(investor_client):
    other = NotificationFactory(user=UserFactory())
    response = investor_client.post(f"{URL}{other.id}/read/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read_and_unread_count(investor, investor_client):
    NotificationFactory.create_batch(3, user=investor)
    NotificationFactory(user=investor, read_at=timezone.now())
    theirs = NotificationFactory()
    assert investor_client.get(f"{URL}unread-count/").json() == {"unread_count": 3}

    response = investor_client.post(f"{URL}read-all/")
    assert response.json() == {"updated": 3, "unread_count": 0}
    assert investor_client.get(f"{URL}unread-count/").json() == {"unread_count": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_preferences_show_defaults_and_locks(investor_client):
    response = investor_client.get(f"{URL}preferences/")
    assert response.status_code == 200
    rows = {(row["kind"], row["channel"]): row for row in response.json()}
    assert len(rows) == len(NotificationKind) * len(DeliveryChannel)
    assert rows[("deposit_credited", "in_app")] == {"kind": "deposit_credited", "channel": "in_app",
                                                    "enabled": True, "locked": True}
    assert rows[("impersonation_started", "in_app")]["locked"] is True
    assert rows[("bid_received", "in_app")]["locked"] is False
    assert rows[("bid_received", "sms")]["enabled"] is False
    assert rows[("withdrawal_paid", "sms")]["enabled"] is True


def test_preferences_put_changes_only_what_it_names(investor, investor_client):
    response = investor_client.put(f"{URL}preferences/", {"preferences": [
        {"kind": "bid_received", "channel": "sms", "enabled": True},
        {"kind": "withdrawal_paid", "channel": "email", "enabled": False},
    ]})
    assert response.status_code == 200
    rows = {(row["kind"], row["channel"]): row["enabled"] for row in response.json()}
    assert rows[("bid_received", "sms")] is True
    assert rows[("withdrawal_paid", "email")] is False
    assert rows[("withdrawal_paid", "sms")] is True  # untouched default
    assert NotificationPreference.objects.filter(user=investor).count() == 2

    investor_client.put(f"{URL}preferences/", {"preferences": [
        {"kind": "bid_received", "channel": "sms", "enabled": False}]})
    assert NotificationPreference.objects.get(user=investor, kind="bid_received", channel="sms").enabled is False


def test_money_and_security_cannot_be_hidden_in_the_app(investor, investor_client):
    response = investor_client.put(f"{URL}preferences/", {"preferences": [
        {"kind": "bid_received", "channel": "email", "enabled": True},
        {"kind": "trade_executed", "channel": "in_app", "enabled": False},
    ]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "preference_locked"
    assert not NotificationPreference.objects.exists()  # nothing changed, not even the valid one


def test_preferences_put_validates_input(investor_client):
    response = investor_client.put(f"{URL}preferences/", {"preferences": [
        {"kind": "bid_received", "channel": "pigeon", "enabled": True}]})
    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()


def test_a_notification_is_unique_per_user_and_event():
    from django.db import IntegrityError, transaction

    first = NotificationFactory(event_key="trade.executed:1")
    NotificationFactory(event_key="trade.executed:1")  # another user: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationFactory(user=first.user, event_key="trade.executed:1")
    assert Notification.objects.count() == 2
