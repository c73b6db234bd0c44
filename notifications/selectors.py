from collections.abc import Iterable

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet

from accounts.models import User
from core.errors import NotFound
from notifications.enums import DeliveryChannel, NotificationKind, default_enabled, is_locked
from notifications.models import Notification, NotificationPreference


def notification_list(*, user: User, kind: str | None = None, unread_only: bool = False) -> QuerySet[Notification]:
    """The caller's in-app notifications: unread first, then newest first."""
    queryset = Notification.objects.filter(user=user, is_in_app=True)
    if kind:
        queryset = queryset.filter(kind=kind)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    is_unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return queryset.order_by(is_unread.desc(), "-created_at", "-id")


def notification_get_for_user(*, user: User, notification_id: int) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, user=user, is_in_app=True).first()
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


def notification_unread_count(*, user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, is_in_app=True, read_at__isnull=True).count()


def notification_unread_counts(*, user_ids: Iterable[int]) -> dict[int, int]:
    """Unread counts for many users in one query (users with none are 0)."""
    user_ids = list(user_ids)
    counts = dict.fromkeys(user_ids, 0)
    rows = (
        Notification.objects.filter(user_id__in=user_ids, is_in_app=True, read_at__isnull=True)
        .values("user_id")
        .annotate(unread=Count("id"))
        .values_list("user_id", "unread")
    )
    counts.update(rows)
    return counts


def preference_lookup(*, user_ids: Iterable[int], kinds: Iterable[str]) -> dict[tuple[int, str, str], bool]:
    """Stored choices as {(user_id, kind, channel): enabled}; missing keys mean 'default'."""
    rows = NotificationPreference.objects.filter(user_id__in=list(user_ids), kind__in=list(kinds))
    return {(row.user_id, row.kind, row.channel): row.enabled for row in rows}


def preference_is_enabled(stored: dict, *, user_id: int, kind: str, channel: str) -> bool:
    if is_locked(kind, channel):
        return True
    return stored.get((user_id, kind, channel), default_enabled(kind, channel))


def notification_preferences_for_user(*, user: User) -> list[dict]:
    """Every (kind, channel) pair with the value in force for the caller, and whether it is locked."""
    stored = preference_lookup(user_ids=[user.id], kinds=NotificationKind.values)
    return [
        {
            "kind": kind,
            "channel": channel,
            "enabled": preference_is_enabled(stored, user_id=user.id, kind=kind, channel=channel),
            "locked": is_locked(kind, channel),
        }
        for kind in NotificationKind.values
        for channel in DeliveryChannel.values
    ]
