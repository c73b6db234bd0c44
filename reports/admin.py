from django.contrib import admin

from core.admin import ReadOnlyAdmin
from reports.models import ReportExport


@admin.register(ReportExport)
class ReportExportAdmin(ReadOnlyAdmin):
    """Exports are made through the API (the file is for the requester only): listed here,
    never downloadable or editable."""

    list_display = ("id", "name", "format", "requested_by", "status", "row_count", "created_at", "finished_at",
                    "expires_at")
    list_filter = ("name", "format", "status")
    search_fields = ("requested_by__phone", "name")
    list_select_related = ("requested_by",)
    exclude = ("file",)
