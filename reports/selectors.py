"""Staff reads across apps: the audit trail and a caller's own report exports. The views allow
admins and super admins only."""

from django.db.models import QuerySet

from core.audit import AuditEvent
from core.errors import NotFound
from reports.base import datetime_range
from reports.models import ReportExport


def audit_event_list(*, filters: dict) -> QuerySet[AuditEvent]:
    """`filters`: actor, impersonator (user ids), target_type + target_id, action (exact, or a
    prefix ending in `.` such as `impersonation.`), from/to (dates)."""
    events = AuditEvent.objects.select_related("actor", "impersonator").filter(**datetime_range(filters, "at"))
    if filters.get("actor"):
        events = events.filter(actor_id=filters["actor"])
    if filters.get("impersonator"):
        events = events.filter(impersonator_id=filters["impersonator"])
    if filters.get("impersonated") is not None:
        events = events.filter(impersonator__isnull=not filters["impersonated"])
    if filters.get("target_type"):
        events = events.filter(target_type=filters["target_type"])
    if filters.get("target_id"):
        events = events.filter(target_id=str(filters["target_id"]))
    action = filters.get("action")
    if action:
        events = events.filter(action__startswith=action) if action.endswith(".") else events.filter(action=action)
    return events.order_by("-id")


def report_export_get_for_user(*, user, export_id: int) -> ReportExport:
    """Only the staff member who asked for an export can see it; anyone else gets a 404."""
    export = ReportExport.objects.filter(pk=export_id, requested_by=user).first()
    if export is None:
        raise NotFound("No such export.")
    return export
