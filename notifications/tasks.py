"""Celery tasks: take ids, call a service, safe to retry."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from notifications import live
from notifications.enums import DeliveryStatus
from notifications.models import NotificationDelivery
from notifications.services import DeliveryOutcome, notification_delivery_send

DELIVERY_MAX_RETRIES = 5


@shared_task(bind=True, name="notifications.tasks.notification_delivery_task", ignore_result=True,
             max_retries=DELIVERY_MAX_RETRIES)
def notification_delivery_task(self, delivery_id: int) -> str:
    retries = self.request.retries
    while True:
        outcome = notification_delivery_send(delivery_id=delivery_id, final_attempt=retries >= DELIVERY_MAX_RETRIES)
        if outcome != DeliveryOutcome.RETRY:
            return outcome
        if not self.request.is_eager:
            # 10 s, 20 s, 40 s … capped at 10 minutes.
            raise self.retry(countdown=min(600, 10 * 2**retries))
        retries += 1  # eager (embedded default, tests): no worker comes back later, so retry now


@shared_task(name="notifications.tasks.notification_delivery_sweep_task", ignore_result=True)
def notification_delivery_sweep_task() -> int:
    """Re-enqueue deliveries whose task was lost (broker down at commit, worker killed)."""
    stale = NotificationDelivery.objects.filter(
        status=DeliveryStatus.PENDING, created_at__lt=timezone.now() - timedelta(minutes=15),
        attempts__lte=DELIVERY_MAX_RETRIES,
    ).values_list("id", flat=True)[:500]
    ids = list(stale)
    for delivery_id in ids:
        notification_delivery_task.delay(delivery_id)
    return len(ids)


@shared_task(name="notifications.tasks.marketplace_flush_task", ignore_result=True)
def marketplace_flush_task(listing_id) -> bool:
    return live.marketplace_flush(listing_id=listing_id)
