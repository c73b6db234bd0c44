from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string

from accounts.models import User
from core.audit import AuditEvent
from core.errors import NotFound


def onboarding_default(*, user: User) -> dict:
    """Until KYC exists nobody can trade. The KYC app replaces this through the
    `ONBOARDING_PROVIDER` setting (accounts must not import the apps built on it)."""
    return {"kyc_status": "not_started", "bank_status": "not_started", "wallet_ready": False, "can_trade": False}


def onboarding_status(*, user: User) -> dict:
    provider = import_string(getattr(settings, "ONBOARDING_PROVIDER", "accounts.selectors.onboarding_default"))
    return provider(user=user)


def activity_list_for_user(*, user: User) -> QuerySet[AuditEvent]:
    """Audit events where the user is the actor or the target (impersonated requests have the
    user as actor and the staff member as impersonator)."""
    return (
        AuditEvent.objects.filter(Q(actor=user) | Q(target_type="accounts.user", target_id=str(user.pk)))
        .select_related("impersonator")
        .order_by("-id")
    )


def user_get_for_staff(*, user_id: int) -> User:
    """Callers are staff with the user-management role (the view's permission checks it)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    return user
