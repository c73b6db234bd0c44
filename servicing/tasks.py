from celery import shared_task

from servicing.services import distribution_run, offering_days_past_due_refresh


@shared_task(name="servicing.tasks.days_past_due_task", ignore_result=True)
def days_past_due_task() -> int:
    return offering_days_past_due_refresh()


@shared_task(name="servicing.tasks.distribution_run_task", ignore_result=True)
def distribution_run_task(distribution_id: int) -> int:
    """By hand or from ops: run one distribution (the outbox normally does it)."""
    return distribution_run(distribution_id=distribution_id).pk
