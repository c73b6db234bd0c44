from celery import shared_task

from trading.services import listing_expire_due


@shared_task(name="trading.tasks.listing_expire_task", ignore_result=True)
def listing_expire_task() -> int:
    return listing_expire_due()

