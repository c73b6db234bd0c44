"""The staff dashboard inside the Django admin (`/admin/dashboard/`, linked from the admin
index): the onboarding and trading-activity charts for a date range (default: the last
30 days), and how far event delivery is behind right now (`core.outbox.outbox_lag`). Behind
the admin's login (so TOTP) and the report roles (admin, super admin)."""

import datetime as dt

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.permissions import ADMIN_ROLES, has_staff_role
from core.errors import DomainError
from core.outbox import outbox_lag
from reports.catalog import report_get

CHARTS = ("trading-activity", "onboarding")


def _range(request) -> dict:
    today = timezone.localdate()
    try:
        start = dt.date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        start = today - dt.timedelta(days=29)
    try:
        end = dt.date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        end = today
    return {"from": min(start, end), "to": max(start, end)}


def _require_report_role(request) -> None:
    if not has_staff_role(request.user, ADMIN_ROLES):
        raise PermissionDenied


def dashboard_view(request):
    _require_report_role(request)
    window = _range(request)
    query = urlencode({"from": window["from"].isoformat(), "to": window["to"].isoformat()})
    charts = [{"title": report_get(name).title, "src": f"{reverse('admin-dashboard-chart', args=[name])}?{query}"}
              for name in CHARTS]
    context = {**admin.site.each_context(request), "title": "Dashboard", "charts": charts,
               "from": window["from"], "to": window["to"], "outbox": outbox_lag(),
               "outbox_max_lag": settings.OUTBOX_READY_MAX_LAG_SECONDS}
    return TemplateResponse(request, "admin/reports/dashboard.html", context)


def dashboard_chart_view(request, name: str):
    _require_report_role(request)
    if name not in CHARTS:
        raise PermissionDenied
    report = report_get(name)
    try:
        filters = report.parse_filters({key: value.isoformat() for key, value in _range(request).items()})
    except DomainError as exc:  # pragma: no cover (the range is always valid)
        return HttpResponse(str(exc), status=400)
    response = HttpResponse(report.chart_png(filters), content_type="image/png")
    response["Cache-Control"] = "private, max-age=60"
    return response


def dashboard_urls():
    """Mounted before `admin/` in config/urls.py; `admin_view` applies the admin's login."""
    return [
        path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="admin-dashboard"),
        path("admin/dashboard/charts/<slug:name>.png", admin.site.admin_view(dashboard_chart_view),
             name="admin-dashboard-chart"),
    ]
