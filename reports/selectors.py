"""Staff reads across apps: the user list (with onboarding status), the audit trail, and a
caller's own report exports. The views allow admins and super admins only."""

from django.db.models import Q, QuerySet

from accounts.models import User
from core.audit import AuditEvent
from core.errors import NotFound
from reports.base import datetime_range
from reports.catalog import users_with_onboarding
from reports.models import ReportExport


def user_list_for_staff(*, search: str = "", role: str | None = None, kyc_status: str | None = None,
                        bank_status: str | None = None, is_active: bool | None = None) -> QuerySet[User]:
    users = users_with_onboarding(User.objects.all())
    if search:
        users = users.filter(Q(phone__icontains=search) | Q(name__icontains=search) | Q(email__icontains=search))
    if role:
        users = users.filter(role=role)
    if is_active is not None:
        users = users.filter(is_active=is_active)
    if kyc_status:
        users = users.filter(kyc_status=kyc_status)
    if bank_status:
        users = users.filter(bank_status=bank_status)
    return users.order_by("-id")


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
