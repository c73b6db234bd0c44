from celery import shared_task

from bidding.services import bid_expire_due


@shared_task(name="bidding.tasks.bid_expire_task", ignore_result=True)
def bid_expire_task() -> int:
    return bid_expire_due()
