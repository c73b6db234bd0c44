from celery import shared_task

from trading.services import listing_expire_due


@shared_task(name="trading.tasks.listing_expire_task", ignore_result=True)
def listing_expire_task() -> int:
    return listing_expire_due()


# Servicing's tasks (imported here so Celery's autodiscovery of `trading.tasks` finds them).
from trading.servicing.tasks import days_past_due_task, distribution_run_task  # noqa: E402,F401
