"""Staff HTTP edge of the reports app: the six reports (JSON, CSV, XLSX, PNG), export jobs,
the user list and the audit trail. Admins and super admins only (`accounts.permissions`)."""

from django.conf import settings
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ADMIN_ROLES, IsStaffRole
from core.pagination import NewestFirstCursorPagination
from reports import rendering, selectors, services
from reports.base import DateRangeFilter
from reports.catalog import REPORTS, report_get
from reports.errors import ChartNotAvailable
from reports.models import ReportExport

FORMATS = ("json", "csv", "xlsx", "png")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FormatParamNegotiation(BaseContentNegotiation):
    """`?format=` picks the report's output here, not DRF's renderer; errors stay JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    report = serializers.CharField(source="name")
    format = serializers.CharField()
    params = serializers.DictField()
    status = serializers.CharField()
    row_count = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    poll_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    def get_poll_url(self, export) -> str:
        return self.context["request"].build_absolute_uri(reverse("admin-report-export", args=[export.pk]))

    def get_download_url(self, export) -> str | None:
        if export.status != "done" or not export.file:
            return None
        token = services.report_export_link_token(export=export)
        path = reverse("admin-report-export-download", args=[export.pk])
        return self.context["request"].build_absolute_uri(f"{path}?token={token}")


def _export_response(export: ReportExport, request, code=status.HTTP_200_OK) -> Response:
    return Response(ExportOutputSerializer(export, context={"request": request}).data, status=code)


class ReportApi(APIView):
    permission_classes = (IsStaffRole(roles=ADMIN_ROLES),)
    content_negotiation_class = FormatParamNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=sorted(REPORTS)),
            OpenApiParameter("format", str, enum=FORMATS, description="json (default), csv, xlsx, or png "
                             "(onboarding and trading-activity). An export over the inline limit answers 202 "
                             "with a job to poll."),
            OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("page", int), OpenApiParameter("page_size", int),
            OpenApiParameter("cursor", str, description="transactions only (keyset pagination)"),
            OpenApiParameter("group", str, description="onboarding: day|user; trading-activity: "
                             "day|offering|day_offering"),
        ],
        responses={200: OpenApiTypes.OBJECT, 202: ExportOutputSerializer,
                   (200, "text/csv"): OpenApiTypes.BINARY, (200, XLSX_TYPE): OpenApiTypes.BINARY,
                   (200, "image/png"): OpenApiTypes.BINARY},
    )
    def get(self, request, name: str):
        report = report_get(name)
        output = request.query_params.get("format", "json")
        if output not in FORMATS:
            raise serializers.ValidationError({"format": f"Choose one of {', '.join(FORMATS)}."})
        filters = report.parse_filters(request.query_params)
        if output == "json":
            return Response(report.page(filters, request, self))
        if output == "png":
            if not report.has_chart:
                raise ChartNotAvailable(attr="format")
            return HttpResponse(report.chart_png(filters), content_type="image/png")
        params = {key: value for key, value in request.query_params.items()
                  if key not in ("format", "page", "page_size", "cursor")}
        rows = report.count(filters)
        if rows > settings.REPORT_EXPORT_SYNC_MAX_ROWS:
            export = services.report_export_request(actor=request.user, name=name, params=params, format=output)
            return _export_response(export, request, status.HTTP_202_ACCEPTED)
        services.report_export_audit(actor=request.user, name=name, params=params, format=output, rows=rows)
        filename = f"{name}-{timezone.localdate():%Y%m%d}.{output}"
        if output == "csv":
            response = StreamingHttpResponse(rendering.csv_stream_bytes(report, filters),
                                             content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(rendering.xlsx_bytes(report, filters), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ReportExportApi(APIView):
    """Poll an export job (only the staff member who asked for it)."""

    permission_classes = (IsStaffRole(roles=ADMIN_ROLES),)

    @extend_schema(responses={200: ExportOutputSerializer})
    def get(self, request, export_id: int):
        return _export_response(selectors.report_export_get_for_user(user=request.user, export_id=export_id), request)


class ReportExportDownloadApi(APIView):
    permission_classes = (IsStaffRole(roles=ADMIN_ROLES),)
    content_negotiation_class = FormatParamNegotiation

    @extend_schema(parameters=[OpenApiParameter("token", str, required=True)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              403: OpenApiResponse(description="Link not valid for this user, or expired.")})
    def get(self, request, export_id: int):
        export = selectors.report_export_get_for_user(user=request.user, export_id=export_id)
        handle = services.report_export_open(user=request.user, export=export, token=request.query_params.get("token"))
        content_type = "text/csv; charset=utf-8" if export.format == "csv" else XLSX_TYPE
        return FileResponse(handle, as_attachment=True, filename=f"{export.name}-{export.pk}.{export.format}",
                            content_type=content_type)


class AuditEventListApi(APIView):
    """The audit trail, newest first (append-only: there is no way to change or delete an event)."""
    pagination_class = NewestFirstCursorPagination  # the GET answers a page; documents it in the schema

    permission_classes = (IsStaffRole(roles=ADMIN_ROLES),)

    class FilterSerializer(DateRangeFilter):
        actor = serializers.IntegerField(required=False)
        impersonator = serializers.IntegerField(required=False)
        impersonated = serializers.BooleanField(required=False, allow_null=True, default=None)
        target_type = serializers.CharField(required=False, max_length=64, help_text="e.g. `accounts.user`")
        target_id = serializers.CharField(required=False, max_length=64)
        action = serializers.CharField(required=False, max_length=64,
                                       help_text="Exact, or a prefix ending in `.` (`impersonation.`).")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        at = serializers.DateTimeField()
        action = serializers.CharField()
        actor = serializers.IntegerField(source="actor_id", allow_null=True)
        actor_phone = serializers.CharField(source="actor.phone", allow_null=True, default=None)
        impersonator = serializers.IntegerField(source="impersonator_id", allow_null=True)
        impersonator_phone = serializers.CharField(source="impersonator.phone", allow_null=True, default=None)
        target_type = serializers.CharField()
        target_id = serializers.CharField()
        data = serializers.JSONField()
        ip = serializers.IPAddressField(allow_null=True)
        request_id = serializers.CharField()

    @extend_schema(
        parameters=[OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
                    OpenApiParameter("actor", int), OpenApiParameter("impersonator", int),
                    OpenApiParameter("impersonated", bool), OpenApiParameter("target_type", str),
                    OpenApiParameter("target_id", str), OpenApiParameter("action", str)],
        responses={200: OutputSerializer(many=True)},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(selectors.audit_event_list(filters=filters.validated_data), request,
                                           view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
