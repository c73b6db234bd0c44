import functools

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string

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
