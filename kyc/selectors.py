"""Every read of the kyc app, scoped to the caller. Another user's object is a 404."""

from django.db import connection
from django.db.models import Case, Exists, F, Min, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from core.errors import NotFound, PermissionDenied
from kyc.enums import BankAccountStatus, KYCStatus
from kyc.models import BankAccount, KYCDocument, KYCProfile
from kyc.permissions import is_kyc_reviewer


def kyc_profile_for_user(*, user) -> KYCProfile | None:
    return KYCProfile.objects.filter(user=user).first()


def _onboarding_row(user) -> dict:
    """KYC status and bank state in one query. The gate runs on every trading request, so
    the SQL is written out: compiling the equivalent ORM subqueries cost more than running
    them (docs/benchmarks.md, "Marketplace buy")."""
    banks = connection.ops.quote_name(BankAccount._meta.db_table)
    profiles = connection.ops.quote_name(KYCProfile._meta.db_table)  # one per user (OneToOne)
    # Only table names are formatted in; every value is a parameter.
    bank_exists = f"EXISTS (SELECT 1 FROM {banks} WHERE user_id = %s AND status = %s)"  # noqa: S608
    sql = f"SELECT (SELECT status FROM {profiles} WHERE user_id = %s), {bank_exists}, {bank_exists}, {bank_exists}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk, BankAccountStatus.VERIFIED, user.pk, BankAccountStatus.PENDING,
                             user.pk, BankAccountStatus.FAILED])
        kyc, verified, pending, failed = cursor.fetchone()
    return {"kyc": kyc, "bank_verified": bool(verified), "bank_pending": bool(pending), "bank_failed": bool(failed)}


def _bank_status(row: dict) -> str:
    for status in ("verified", "pending", "failed"):
        if row.get(f"bank_{status}"):
            return status
    return "not_started"


def kyc_status_for_user(*, user) -> str:
    status = KYCProfile.objects.filter(user=user).values_list("status", flat=True).first()
    return status or KYCStatus.NOT_STARTED


def bank_status_for_user(*, user) -> str:
    """`verified` when any account is; else `pending`, `failed` or `not_started`."""
    return _bank_status(_onboarding_row(user))


def trader_gate_sql(*, user) -> tuple[str, list]:
    """The onboarding gate as an SQL expression and its parameters, for a statement that must
    meet it before it writes: the expression is `user`'s id when `can_trade` holds and raises
    SQLSTATE `KYC01` otherwise (`kyc_trader()`, kyc migration 0002; PostgreSQL only).
    `kyc.permissions.raise_for_gate_refusal` turns the refusal into the gate's error."""
    sql = "kyc_trader(%s::bigint, %s::varchar, %s::varchar, %s::varchar, %s::varchar)"
    return sql, [user.pk, KYCStatus.VERIFIED, BankAccountStatus.VERIFIED, BankAccountStatus.PENDING,
                 BankAccountStatus.FAILED]


def onboarding_status(*, user) -> dict:
    """What `GET /me/` reports (the `ONBOARDING_PROVIDER`). The wallet is opened on the
    `kyc.verified` event, so it is ready once KYC is verified."""
    return onboarding_status_from_row(_onboarding_row(user))


def onboarding_status_from_row(row: dict) -> dict:
    """The statuses from the facts `_onboarding_row` reads (`kyc_trader()` reports the same)."""
    kyc_status = row.get("kyc") or KYCStatus.NOT_STARTED
    bank_status = _bank_status(row)
    kyc_verified = kyc_status == KYCStatus.VERIFIED
    return {
        "kyc_status": kyc_status,
        "bank_status": bank_status,
        "wallet_ready": kyc_verified,
        "can_trade": kyc_verified and bank_status == BankAccountStatus.VERIFIED,
    }


def user_can_trade(*, user) -> bool:
    return onboarding_status(user=user)["can_trade"]


def bank_account_list_for_user(*, user) -> QuerySet[BankAccount]:
    return BankAccount.objects.filter(user=user).order_by("-is_primary", "-id")


def bank_account_get_for_user(*, user, bank_account_id: int) -> BankAccount:
    account = BankAccount.objects.filter(user=user, pk=bank_account_id).first()
    if account is None:
        raise NotFound("No such bank account.")
    return account


def bank_account_primary_for_user(*, user) -> BankAccount | None:
    """The verified account withdrawals go to, if any."""
    return BankAccount.objects.filter(user=user, is_primary=True, status=BankAccountStatus.VERIFIED).first()


def kyc_document_list_for_user(*, user) -> QuerySet[KYCDocument]:
    return KYCDocument.objects.filter(user=user).order_by("-id")


def kyc_document_get_for_download(*, user, document_id: int) -> KYCDocument:
    """The owner and KYC reviewers may download a document; for anyone else it does not exist."""
    documents = KYCDocument.objects.all() if is_kyc_reviewer(user) else KYCDocument.objects.filter(user=user)
    document = documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound("No such document.")
    return document


def kyc_review_queue(*, actor, status: str | None = None) -> QuerySet[KYCProfile]:
    if not is_kyc_reviewer(actor):
        raise PermissionDenied()
    profiles = KYCProfile.objects.select_related("user", "reviewed_by").order_by("submitted_at", "id")
    if status:
        profiles = profiles.filter(status=status)
    return profiles


def kyc_profile_get_for_review(*, actor, profile_id: int) -> KYCProfile:
    profile = kyc_review_queue(actor=actor).prefetch_related("user__kyc_documents").filter(pk=profile_id).first()
    if profile is None:
        raise NotFound("No such KYC profile.")
    return profile


def users_with_onboarding(users: QuerySet) -> QuerySet:
    """Annotate each user's KYC and bank status exactly as `onboarding_status`
    reports them (bank: verified, else pending, else failed, else not started), in SQL, so a
    list costs one query."""
    accounts = BankAccount.objects.filter(user=OuterRef("pk"))
    verified = accounts.filter(status=BankAccountStatus.VERIFIED)
    return users.annotate(
        kyc_status=Coalesce(F("kyc_profile__status"), Value(KYCStatus.NOT_STARTED)),
        kyc_submitted_at=F("kyc_profile__submitted_at"),
        kyc_verified_at=F("kyc_profile__verified_at"),
        bank_status=Case(
            When(Exists(verified), then=Value(BankAccountStatus.VERIFIED)),
            When(Exists(accounts.filter(status=BankAccountStatus.PENDING)), then=Value(BankAccountStatus.PENDING)),
            When(Exists(accounts.filter(status=BankAccountStatus.FAILED)), then=Value(BankAccountStatus.FAILED)),
            default=Value("not_started"),
        ),
        bank_verified_at=Subquery(verified.order_by().values("user").annotate(first=Min("verified_at"))
                                  .values("first")[:1]),
    )
