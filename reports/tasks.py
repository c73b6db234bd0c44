from celery import shared_task

from reports import services


@shared_task(acks_late=True)
def report_export_task(export_id: int) -> None:
    services.report_export_run(export_id=export_id)


@shared_task
def report_export_purge_task() -> int:
    return services.report_export_purge()
