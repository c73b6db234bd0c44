from celery import shared_task

from core.idempotency import idempotency_purge
from core.outbox import outbox_drain


@shared_task(name="core.tasks.outbox_drain_task", ignore_result=True)
def outbox_drain_task() -> int:
    return outbox_drain()


@shared_task(name="core.tasks.idempotency_purge_task", ignore_result=True)
def idempotency_purge_task() -> int:
    return idempotency_purge()
