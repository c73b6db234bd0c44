"""Writes: create notifications (idempotently, with their deliveries), mark them read, set
preferences. Pushes and outside sends happen only after the transaction commits."""

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from notifications import live
from notifications.enums import DeliveryChannel, DeliveryStatus, is_locked
from notifications.errors import PreferenceLocked
from notifications.models import Notification, NotificationDelivery, NotificationPreference
from notifications.selectors import (
    notification_get_for_user,
    notification_unread_count,
    notification_unread_counts,
    preference_is_enabled,
    preference_lookup,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationMessage:
    user_id: int
    kind: str
    event_key: str
    title: str
    body: str
    data: dict = field(default_factory=dict)


def notification_send(*, user_id: int, kind: str, event_key: str, title: str, body: str,
                      data: dict | None = None) -> Notification | None:
    created = notification_send_many(
        messages=[NotificationMessage(user_id=user_id, kind=kind, event_key=event_key, title=title, body=body,
                                      data=data or {})]
    )
    return created[0] if created else None


def notification_send_many(*, messages: list[NotificationMessage]) -> list[Notification]:
    """Create each message's notification unless (user, event_key) exists already, with an
    SMS/email delivery per the user's preferences. Returns the rows created by this call.

    Idempotent: a repeat (or a concurrent duplicate, which waits on the unique index and
    then finds the row) creates nothing and sends nothing. Unknown users are skipped.
    After commit: in-app rows are pushed to the user's socket, deliveries go to Celery."""
    unique: dict[tuple[int, str], NotificationMessage] = {}
    for message in messages:
        unique.setdefault((message.user_id, message.event_key), message)
    if not unique:
        return []
    user_ids = {user_id for user_id, _ in unique}
    with transaction.atomic():
        existing = set(
            Notification.objects.filter(user_id__in=user_ids, event_key__in={key for _, key in unique})
            .values_list("user_id", "event_key")
        )
        users = {user.id: user for user in User.objects.filter(id__in=user_ids).only("id", "phone", "email",
                                                                                       "is_active")}
        stored = preference_lookup(user_ids=user_ids, kinds={message.kind for message in unique.values()})
        wanted: list[tuple[Notification, list[tuple[str, str]]]] = []
        for (user_id, event_key), message in unique.items():
            user = users.get(user_id)
            if (user_id, event_key) in existing:
                continue
            if user is None:
                logger.warning("notification %s for unknown user %s skipped", event_key, user_id)
                continue

            def enabled(channel: str, user_id=user_id, kind=message.kind) -> bool:
                return preference_is_enabled(stored, user_id=user_id, kind=kind, channel=channel)

            outside = []
            if user.is_active and enabled(DeliveryChannel.SMS) and user.phone:
                outside.append((DeliveryChannel.SMS, user.phone))
            if user.is_active and enabled(DeliveryChannel.EMAIL) and user.email:
                outside.append((DeliveryChannel.EMAIL, user.email))
            in_app = enabled(DeliveryChannel.IN_APP)
            if not in_app and not outside:
                continue
            wanted.append((Notification(user_id=user_id, kind=message.kind, event_key=event_key, title=message.title,
                                        body=message.body, data=message.data, is_in_app=in_app), outside))
        created = _create_new(wanted)
        deliveries = [NotificationDelivery(notification=notification, channel=channel, to=to)
                      for notification, outside in created for channel, to in outside]
        NotificationDelivery.objects.bulk_create(deliveries)
        if created:
            shown = [notification for notification, _ in created if notification.is_in_app]
            delivery_ids = [delivery.id for delivery in deliveries]
            transaction.on_commit(lambda: _after_create(shown, delivery_ids), robust=True)
    return [notification for notification, _ in created]


def _create_new(wanted: list[tuple[Notification, list]]) -> list[tuple[Notification, list]]:
    """Insert the notifications: all in one statement, or, when one of them exists already (a
    concurrent duplicate committed since the check above), one at a time, skipping those."""
    if not wanted:
        return []
    try:
        with transaction.atomic():  # a savepoint: the failed statement leaves nothing behind
            Notification.objects.bulk_create([notification for notification, _ in wanted])
        return wanted
    except IntegrityError:
        for notification, _ in wanted:
            notification.pk = None
    created = []
    for notification, outside in wanted:
        try:
            with transaction.atomic():
                notification.save(force_insert=True)
        except IntegrityError:
            continue
        created.append((notification, outside))
    return created


def _after_create(shown: list[Notification], delivery_ids: list[int]) -> None:
    from notifications.tasks import notification_delivery_task

    # Only users with a socket open get a push (and cost an unread count).
    listening = live.users_listening(user_ids={notification.user_id for notification in shown})
    shown = [notification for notification in shown if notification.user_id in listening]
    if shown:
        counts = notification_unread_counts(user_ids={notification.user_id for notification in shown})
        live.push_notifications(pushes=[(notification.user_id, live.notification_payload(notification),
                                         counts[notification.user_id]) for notification in shown])
    for delivery_id in delivery_ids:
        try:
            notification_delivery_task.delay(delivery_id)
        except Exception:
            logger.exception("could not enqueue delivery %s; the sweep picks it up", delivery_id)


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    with transaction.atomic():
        notification = notification_get_for_user(user=user, notification_id=notification_id)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            transaction.on_commit(lambda: _push_unread_count(user.id), robust=True)
    return notification


def notification_mark_all_read(*, user: User) -> int:
    with transaction.atomic():
        updated = Notification.objects.filter(user=user, is_in_app=True, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        if updated:
            transaction.on_commit(lambda: _push_unread_count(user.id), robust=True)
    return updated


def _push_unread_count(user_id: int) -> None:
    """Every open socket of the user (other devices too) learns the new count."""
    live.push_unread_count(user_id=user_id, unread_count=notification_unread_count(user_id=user_id))


def notification_preferences_set(*, user: User, changes: list[dict]) -> None:
    """Set the given (kind, channel) choices; others keep their value. A locked one
    (in-app for money movements and security events) cannot be turned off."""
    for change in changes:
        if not change["enabled"] and is_locked(change["kind"], change["channel"]):
            raise PreferenceLocked(
                f"{change['kind']} is always shown in the app; in-app cannot be turned off.", attr="preferences"
            )
    with transaction.atomic():
        NotificationPreference.objects.bulk_create(
            [NotificationPreference(user=user, kind=change["kind"], channel=change["channel"],
                                    enabled=change["enabled"]) for change in changes],
            update_conflicts=True, unique_fields=("user", "kind", "channel"), update_fields=("enabled", "updated_at"),
        )


class DeliveryOutcome:
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"


def notification_delivery_send(*, delivery_id: int, final_attempt: bool) -> str:
    """Send one pending SMS/email (outside any transaction). Returns a `DeliveryOutcome`.

    At least once: a worker that dies between the provider accepting the message and the
    `sent` mark leaves it pending, and the retry sends it again. A sent or failed delivery
    is never sent again."""
    from integrations.errors import IntegrationError
    from integrations.registry import get_adapter

    delivery = NotificationDelivery.objects.select_related("notification").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return DeliveryOutcome.DONE
    notification = delivery.notification
    NotificationDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        if delivery.channel == DeliveryChannel.SMS:
            get_adapter("sms").send(to=delivery.to, body=_sms_text(notification))
        else:
            get_adapter("email").send(to=delivery.to, subject=f"Tranche: {notification.title}",
                                      body=f"{notification.body}\n\n— Tranche")
    except IntegrationError as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if exc.retryable and not final_attempt:
            NotificationDelivery.objects.filter(pk=delivery.pk).update(last_error=error)
            return DeliveryOutcome.RETRY
        NotificationDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=error)
        logger.warning("notification delivery %s failed for good: %s", delivery.pk, error)
        return DeliveryOutcome.FAILED
    NotificationDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    return DeliveryOutcome.DONE


def _sms_text(notification: Notification) -> str:
    return f"Tranche: {notification.title}. {notification.body}"[:480]
