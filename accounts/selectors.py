import functools

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.utils.module_loading import import_string

from accounts.enums import OnboardingStepStatus
from accounts.models import User
from core.audit import AuditEvent
from core.errors import NotFound
from core.sql import use_hand_written_sql

HAND_WRITTEN_SQL = True
_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]


def user_for_token(*, user_id: int) -> User | None:
    """The user an access token names, or None. Every authenticated request loads it, so on
    PostgreSQL the SELECT is written out, once per process, from the model's own columns:
    compiling the ORM's `get()` cost more than running it (docs/benchmarks.md, "Marketplace
    buy"). The values need no conversion there (a test keeps it so); other databases take
    the ORM."""
    if not use_hand_written_sql(HAND_WRITTEN_SQL):
        return User.objects.filter(pk=user_id).first()
    with connection.cursor() as cursor:
        cursor.execute(_user_select_sql(), [user_id])
        row = cursor.fetchone()
    return None if row is None else User.from_db(connection.alias, _USER_FIELDS, row)


@functools.cache
def _user_select_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in User._meta.concrete_fields)
    return f"SELECT {columns} FROM {quote(User._meta.db_table)} WHERE {quote(User._meta.pk.column)} = %s"  # noqa: S608


def onboarding_default(*, user: User) -> dict:
    """Until KYC exists nobody can trade. The KYC app replaces this through the
    `ONBOARDING_PROVIDER` setting (accounts must not import the apps built on it)."""
    return {"kyc_status": "not_started", "bank_status": "not_started", "wallet_ready": False, "can_trade": False}


def onboarding_status(*, user: User) -> dict:
    provider = import_string(getattr(settings, "ONBOARDING_PROVIDER", "accounts.selectors.onboarding_default"))
    return provider(user=user)


def onboarding_annotation_default(users: QuerySet[User]) -> QuerySet[User]:
    """Until KYC exists every step is not started; the KYC app replaces this through the
    `ONBOARDING_ANNOTATION` setting, the list's twin of `ONBOARDING_PROVIDER`."""
    not_started = Value(OnboardingStepStatus.NOT_STARTED)
    return users.annotate(kyc_status=not_started, bank_status=not_started)


def user_list_for_staff(*, search: str = "", role: str | None = None, kyc_status: str | None = None,
                        bank_status: str | None = None, is_active: bool | None = None) -> QuerySet[User]:
    """Staff's user list (the view allows admins and super admins), each user annotated with
    `kyc_status` and `bank_status` exactly as `onboarding_status` reports them, in one query."""
    annotate = import_string(getattr(settings, "ONBOARDING_ANNOTATION",
                                     "accounts.selectors.onboarding_annotation_default"))
    users = annotate(User.objects.all())
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
