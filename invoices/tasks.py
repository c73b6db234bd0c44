"""Beat jobs of the primary platform. Tasks take ids, never model instances; each
organization's work is its own task, given its `organization_id` explicitly."""

from celery import shared_task

from accounts.models import Organization
from invoices import services
from invoices.enums import OUTSTANDING_STATUSES
from invoices.models import FinanceRequest


@shared_task(name="invoices.tasks.overdue_mark_task", ignore_result=True)
def overdue_mark_task(*, organization_id: int) -> int:
    """Mark one organization's overdue requests and accrue overdue interest (idempotent)."""
    return services.overdue_mark(organization_id=organization_id)


@shared_task(name="invoices.tasks.overdue_sweep_task", ignore_result=True)
def overdue_sweep_task() -> int:
    """The beat entry: one `overdue_mark_task` per organization with money outstanding."""
    organization_ids = (
        FinanceRequest.objects.filter(status__in=OUTSTANDING_STATUSES)
        .values_list("organization_id", flat=True).distinct().order_by("organization_id")
    )
    count = 0
    for organization_id in Organization.objects.filter(pk__in=list(organization_ids)).values_list("pk", flat=True):
        overdue_mark_task.delay(organization_id=organization_id)
        count += 1
    return count
