"""An export too big to answer inline (over `REPORT_EXPORT_SYNC_MAX_ROWS` rows) becomes a
`ReportExport` row and a Celery job; the caller polls it, and once it is `done` gets a
download link signed for them alone that works for `REPORT_EXPORT_LINK_SECONDS`. The file
is deleted after `expires_at` (hourly beat job)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from reports.enums import ExportFormat, ExportStatus


class ReportExport(models.Model):
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=32, help_text="The report, e.g. `transactions`.")
    params = models.JSONField(default=dict, blank=True, help_text="The report's filters, as given.")
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    status = models.CharField(max_length=12, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    file = models.FileField(upload_to="report-exports/", blank=True, max_length=200)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = [
            models.Index(fields=("requested_by", "-id"), name="reports_export_user_idx"),
            models.Index(fields=("expires_at",), name="reports_export_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}.{self.format} #{self.pk} ({self.status})"
