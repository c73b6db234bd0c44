"""Notifications: what the platform told a user, and how each user wants to be told.

A `Notification` is written by an outbox handler (notifications/handlers.py) in the drain
transaction. `(user, event_key)` is unique, so a handler that runs twice for one event
writes one row. After the row commits it is pushed to the user's WebSocket group and, per
`NotificationPreference`, an SMS and/or email `NotificationDelivery` is sent by Celery.
Preferences are stored only where the user departs from the defaults in `enums.py`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from notifications.enums import DeliveryChannel, DeliveryStatus, NotificationKind


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    title = models.CharField(max_length=120)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    event_key = models.CharField(max_length=200, help_text="Identifies the event; one row per user and event.")
    # False when the user turned in-app off for this kind but still wants SMS/email: the row
    # anchors delivery and idempotency but is not listed or pushed.
    is_in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "event_key"), name="notification_unique_user_event"),
        ]
        indexes = [
            models.Index(fields=("user", "-created_at", "-id"), name="notification_user_recent_idx"),
            models.Index(
                fields=("user",), name="notification_unread_idx",
                condition=models.Q(read_at__isnull=True, is_in_app=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.user_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """A user's choice for one kind and channel, where it differs from the default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(max_length=8, choices=DeliveryChannel.choices)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "kind", "channel"), name="notification_preference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}: {'on' if self.enabled else 'off'}"


class NotificationDelivery(models.Model):
    """One SMS or email for one notification; sent by a Celery task after commit."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=DeliveryChannel.choices)
    to = models.CharField(max_length=254)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("notification", "channel"), name="notification_delivery_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} for notification {self.notification_id} ({self.status})"
