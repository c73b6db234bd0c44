"""Report exports: inline (small) or as a Celery job (over `REPORT_EXPORT_SYNC_MAX_ROWS`).

A job is a `ReportExport` row created with the caller's filters; the task is enqueued after
the row commits, runs the same report with the same filters, streams it into a temporary
file (flat memory: CSV line by line, XLSX with a write-only workbook) and stores the file.
The download link is signed for the requesting user and the export id, and is refused
after `REPORT_EXPORT_LINK_SECONDS`. Every export, inline or not, is audited.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from reports import rendering
from reports.catalog import report_get
from reports.enums import ExportFormat, ExportStatus
from reports.errors import ExportLinkInvalid, ExportNotReady
from reports.models import ReportExport

logger = logging.getLogger(__name__)

_SALT = "reports.export.download"


def report_export_audit(*, actor, name: str, params: dict, format: str, rows: int | None) -> None:
    audit_record(action="report.exported", actor=actor, data={"report": name, "params": params, "format": format,
                                                              "rows": rows})


def report_export_request(*, actor, name: str, params: dict, format: str) -> ReportExport:
    """Queue an export job; the task starts after this commits."""
    report = report_get(name)
    report.parse_filters(params)  # refuse bad filters now, not in the worker
    with transaction.atomic():
        export = ReportExport.objects.create(requested_by=actor, name=name, params=params, format=format)
        report_export_audit(actor=actor, name=name, params=params, format=format, rows=None)
        transaction.on_commit(lambda: _enqueue(export.pk))
    return export


def _enqueue(export_id: int) -> None:
    from reports.tasks import report_export_task

    report_export_task.delay(export_id)


def report_export_run(*, export_id: int) -> ReportExport | None:
    """Build the export's file. Safe to repeat: a finished export is left alone."""
    with transaction.atomic():
        export = ReportExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return export
        export.status = ExportStatus.RUNNING
        export.save(update_fields=["status"])
    report = report_get(export.name)
    try:
        filters = report.parse_filters(export.params)
        with tempfile.TemporaryFile() as target:
            if export.format == ExportFormat.CSV:
                rows = _write_csv(report, filters, target)
            else:
                rows = rendering.xlsx_write_streaming(report, filters, target)
            target.seek(0)
            export.file.save(f"{export.name}-{export.pk}.{export.format}", File(target), save=False)
    except Exception as exc:  # the caller polls: tell them, keep the trace in the log
        logger.exception("report export %s failed", export.pk)
        ReportExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=str(exc)[:500],
                                                         finished_at=timezone.now())
        return ReportExport.objects.get(pk=export.pk)
    now = timezone.now()
    export.status = ExportStatus.DONE
    export.row_count = rows
    export.finished_at = now
    export.expires_at = now + timedelta(hours=settings.REPORT_EXPORT_KEEP_HOURS)
    export.save(update_fields=["status", "row_count", "finished_at", "expires_at", "file"])
    return export


def _write_csv(report, filters, target) -> int:
    count = -1  # the header line
    pending: list[str] = []
    for line in rendering.csv_lines(report, filters):
        count += 1
        pending.append(line)
        if len(pending) >= rendering.CHUNK_ROWS:
            target.write("".join(pending).encode())
            pending = []
    target.write("".join(pending).encode())
    return count


def report_export_link_token(*, export: ReportExport) -> str:
    return signing.dumps({"export": export.pk, "user": export.requested_by_id}, salt=_SALT)


def report_export_file(*, user, export: ReportExport, token: str):
    """The export's stored file (a FieldFile), if `token` was signed for this user and this
    export within the link's lifetime and the file is still kept."""
    try:
        claims = signing.loads(token or "", salt=_SALT, max_age=settings.REPORT_EXPORT_LINK_SECONDS)
    except signing.BadSignature:
        raise ExportLinkInvalid() from None
    if claims != {"export": export.pk, "user": user.pk} or export.requested_by_id != user.pk:
        raise ExportLinkInvalid()
    if export.status != ExportStatus.DONE or not export.file:
        raise ExportNotReady()
    if export.expires_at and export.expires_at <= timezone.now():
        raise ExportLinkInvalid("The export has expired. Run it again.")
    return export.file


def report_export_purge(*, now=None) -> int:
    """Delete the files of expired exports (the rows stay, for the record)."""
    now = now or timezone.now()
    purged = 0
    for export in ReportExport.objects.filter(expires_at__lte=now).exclude(file=""):
        export.file.delete(save=False)
        ReportExport.objects.filter(pk=export.pk).update(file="")
        purged += 1
    return purged
