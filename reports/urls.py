from django.urls import path

from reports import api

urlpatterns = [
    path("admin/audit-events/", api.AuditEventListApi.as_view(), name="admin-audit-events"),
    path("admin/reports/exports/<id:export_id>/", api.ReportExportApi.as_view(), name="admin-report-export"),
    path("admin/reports/exports/<id:export_id>/download/", api.ReportExportDownloadApi.as_view(),
         name="admin-report-export-download"),
    path("admin/reports/<slug:name>/", api.ReportApi.as_view(), name="admin-report"),
]
