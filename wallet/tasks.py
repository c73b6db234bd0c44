"""Wallet jobs: take ids, load rows, call a service; every one is safe to repeat."""

from celery import shared_task
from django.utils import timezone


@shared_task(name="wallet.tasks.withdrawal_payout_task", ignore_result=True)
def withdrawal_payout_task(withdrawal_id: int) -> None:
    from wallet.services.withdrawals import withdrawal_payout_send

    withdrawal_payout_send(withdrawal_id=withdrawal_id)


@shared_task(name="wallet.tasks.withdrawal_resume_task", ignore_result=True)
def withdrawal_resume_task() -> int:
    from wallet.services.withdrawals import withdrawal_resume

    return withdrawal_resume()


@shared_task(name="wallet.tasks.reconcile_task", ignore_result=True)
def reconcile_task() -> str:
    return reconcile_record(trigger="beat").__str__()


def reconcile_record(*, trigger: str):
    """Run `reconcile()` and keep the result (a `ReconciliationRun` and an audit event)."""
    from django.db import transaction

    from core.audit import audit_record
    from wallet.models import ReconciliationRun
    from wallet.reconcile import reconcile

    started = timezone.now()
    differences = reconcile()
    with transaction.atomic():
        run = ReconciliationRun.objects.create(started_at=started, finished_at=timezone.now(),
                                               is_clean=not differences, differences=differences, trigger=trigger)
        audit_record(action="wallet.reconciled", target=run,
                     data={"clean": not differences, "differences": len(differences)})
    return run
