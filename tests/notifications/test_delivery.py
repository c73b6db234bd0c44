import pytest
from django.core import mail

from integrations.errors import IntegrationError
from integrations.models import ApiCall, OutboundMessage
from notifications.enums import DeliveryChannel, DeliveryStatus, NotificationKind
from notifications.models import Notification, NotificationDelivery, NotificationPreference
from notifications.services import notification_send
from notifications.tasks import DELIVERY_MAX_RETRIES
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _send(user, kind=NotificationKind.WITHDRAWAL_PAID, key="withdrawal.paid:1"):
    return notification_send(user_id=user.id, kind=kind, event_key=key, title="Withdrawal paid",
                             body="₹10.00 was sent to your bank account.")


def test_sms_and_email_go_out_after_commit_and_are_logged(django_capture_on_commit_callbacks):
    user = UserFactory(email="asha@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _send(user)
    assert OutboundMessage.objects.count() == 0 and mail.outbox == []  # nothing before commit
    for callback in callbacks:
        callback()

    sms = OutboundMessage.objects.get(channel="sms")
    assert (sms.to, sms.body) == (user.phone, "Tranche: Withdrawal paid. ₹10.00 was sent to your bank account.")
    assert [(m.to, m.subject) for m in mail.outbox] == [(["asha@example.com"], "Tranche: Withdrawal paid")]
    assert sorted(ApiCall.objects.values_list("service", "provider", "outcome")) == [
        ("email", "locmem", "ok"), ("sms", "console", "ok")]
    assert set(NotificationDelivery.objects.values_list("channel", "status", "attempts")) == {
        (DeliveryChannel.SMS, DeliveryStatus.SENT, 1), (DeliveryChannel.EMAIL, DeliveryStatus.SENT, 1)}


def test_preferences_decide_the_channels(django_capture_on_commit_callbacks):
    user = UserFactory(email="asha@example.com")
    NotificationPreference.objects.create(user=user, kind=NotificationKind.WITHDRAWAL_PAID, channel="sms",
                                          enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        _send(user)
    assert list(NotificationDelivery.objects.values_list("channel", flat=True)) == [DeliveryChannel.EMAIL]
    assert not OutboundMessage.objects.filter(channel="sms").exists()
    assert len(mail.outbox) == 1


def test_defaults_send_no_sms_or_email_for_a_new_bid():
    user = UserFactory(email="asha@example.com")
    _send(user, kind=NotificationKind.BID_RECEIVED, key="bid.placed:1")
    assert Notification.objects.filter(user=user, is_in_app=True).count() == 1
    assert not NotificationDelivery.objects.exists()


def test_no_email_without_an_address(django_capture_on_commit_callbacks):
    user = UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        _send(user)
    assert list(NotificationDelivery.objects.values_list("channel", flat=True)) == [DeliveryChannel.SMS]


def test_in_app_off_still_sends_sms_but_is_not_listed(django_capture_on_commit_callbacks):
    user = UserFactory(email="")
    NotificationPreference.objects.create(user=user, kind=NotificationKind.KYC_VERIFIED, channel="in_app",
                                          enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        _send(user, kind=NotificationKind.KYC_VERIFIED, key="kyc.verified:x")
    assert Notification.objects.get(user=user).is_in_app is False
    assert OutboundMessage.objects.filter(channel="sms", to=user.phone).count() == 1


def test_everything_off_creates_nothing():
    user = UserFactory(email="asha@example.com")
    for channel in DeliveryChannel.values:
        NotificationPreference.objects.create(user=user, kind=NotificationKind.BID_EXPIRED, channel=channel,
                                              enabled=False)
    assert _send(user, kind=NotificationKind.BID_EXPIRED, key="bid.expired:1") is None
    assert not Notification.objects.exists()


class FlakySms:
    """Stands in for the SMS provider: fails `failures` times, then accepts."""

    def __init__(self, failures: int, retryable: bool = True):
        self.failures, self.retryable, self.sent = failures, retryable, []

    def send(self, *, to: str, body: str) -> None:
        if self.failures:
            self.failures -= 1
            raise IntegrationError("provider down", service="sms", operation="send", retryable=self.retryable)
        self.sent.append(to)


def _patch_sms(monkeypatch, fake):
    import integrations.registry

    real = integrations.registry.get_adapter
    monkeypatch.setattr(integrations.registry, "get_adapter", lambda service: fake if service == "sms" else
                        real(service))


def test_a_transient_sms_failure_is_retried_until_it_goes_through(monkeypatch, django_capture_on_commit_callbacks):
    fake = FlakySms(failures=2)
    _patch_sms(monkeypatch, fake)
    user = UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        _send(user)
    delivery = NotificationDelivery.objects.get()
    assert fake.sent == [user.phone]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)


def test_a_permanent_failure_is_not_retried(monkeypatch, django_capture_on_commit_callbacks):
    fake = FlakySms(failures=1, retryable=False)
    _patch_sms(monkeypatch, fake)
    user = UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        _send(user)
    delivery = NotificationDelivery.objects.get()
    assert (delivery.status, delivery.attempts, fake.sent) == (DeliveryStatus.FAILED, 1, [])
    assert "provider down" in delivery.last_error


def test_retries_stop_after_the_limit(monkeypatch, django_capture_on_commit_callbacks):
    fake = FlakySms(failures=100)
    _patch_sms(monkeypatch, fake)
    user = UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        _send(user)
    delivery = NotificationDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, DELIVERY_MAX_RETRIES + 1)


def test_a_sent_delivery_is_never_sent_again(django_capture_on_commit_callbacks):
    from notifications.tasks import notification_delivery_task

    user = UserFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        _send(user)
    delivery = NotificationDelivery.objects.get()
    notification_delivery_task.delay(delivery.id)
    assert OutboundMessage.objects.filter(channel="sms").count() == 1
