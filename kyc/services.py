"""Every write of the kyc app.

Verification (PAN and penny drop) calls outside services, which never happens inside a
database transaction. So `kyc_verify` and `bank_account_verify` work in three steps:
1. claim the row under its lock (still `pending` and due): count the attempt and push
   `next_attempt_at` back, so a concurrent task or the sweep leaves it alone;
2. call the provider with no transaction open;
3. lock the row again and apply the answer only if it is still `pending` (staff may have
   decided meanwhile). A provider failure leaves the row `pending`; `verification_sweep`
   (a beat job) retries it when due, and after `KYC_VERIFY_MAX_ATTEMPTS` it goes to a human
   (KYC: manual review) or fails (bank account).

Events for higher apps go through the outbox in the transaction that changes the status:
`kyc.verified` {user_id}, `kyc.rejected` / `kyc.manual_review` {user_id, reason},
`bank_account.verified` / `bank_account.failed` {user_id, bank_account_id}.
"""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail

from core import validators
from core.audit import audit_record
from core.crypto import blind_index
from core.duties import duty_check_not_own
from core.errors import DomainError, InvalidState, NotFound, PermissionDenied
from core.outbox import outbox_publish
from core.uploads import DOCUMENT_TYPES, upload_check
from integrations.errors import IntegrationError
from integrations.kyc import GstinRecord, Prefill
from integrations.registry import get_adapter
from kyc.enums import BankAccountStatus, DocumentKind, KYCKind, KYCStatus
from kyc.errors import (
    BankAccountExists,
    BankAccountLimit,
    DocumentInvalid,
    KycAlreadySubmitted,
    KycRequired,
    PanAlreadyRegistered,
)
from kyc.models import BankAccount, KYCDocument, KYCProfile
from kyc.names import name_match_score
from kyc.permissions import is_kyc_reviewer

logger = logging.getLogger(__name__)

MAX_DOCUMENTS_PER_USER = 20
MINIMUM_AGE_YEARS = 18


class ProviderUnavailable(DomainError):
    status_code = 503
    code = "provider_unavailable"
    default_detail = "The verification provider is not answering; try again shortly."


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(attempts - 1, 0)))


# --- Provider look-ups (nothing saved) ---------------------------------------------------

def kyc_prefill(*, user) -> Prefill:
    """What the KYC provider knows for the caller's phone. Not saved: the user confirms it."""
    try:
        return get_adapter("kyc").prefill(phone=user.phone)
    except IntegrationError as exc:
        raise ProviderUnavailable() from exc


def kyc_pan_to_gst(*, pan: str) -> list[GstinRecord]:
    number = validators.check(validators.validate_pan, pan, attr="pan")
    try:
        return get_adapter("kyc").gstins_for_pan(pan=number)
    except IntegrationError as exc:
        raise ProviderUnavailable() from exc


# --- KYC profile -------------------------------------------------------------------------

def _invalid(attr: str, message: str, code: str) -> exceptions.ValidationError:
    """A field-level 400 in the same shape as the serializers' and validators' errors."""
    return exceptions.ValidationError({attr: [ErrorDetail(message, code=code)]})


def _required(value, attr: str):
    if value in (None, ""):
        raise _invalid(attr, "This field is required.", "required")
    return value


def kyc_submit(
    *,
    user,
    kind: str,
    full_name: str,
    pan: str,
    address: str = "",
    date_of_birth: date | None = None,
    company_name: str = "",
    incorporation_date: date | None = None,
    gstin: str = "",
    aadhaar: str = "",
) -> KYCProfile:
    """Create or (after a rejection) replace the caller's KYC details and queue verification.
    Locks the caller's profile row."""
    is_company = kind == KYCKind.COMPANY
    full_name = _required(full_name.strip(), "full_name")
    pan = validators.check(validators.validate_pan, pan, attr="pan", individual=not is_company)
    if is_company:
        company_name = _required(company_name.strip(), "company_name")
        _required(incorporation_date, "incorporation_date")
        date_of_birth = None
    else:
        _required(date_of_birth, "date_of_birth")
        today = timezone.localdate()
        age = today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
        if age < MINIMUM_AGE_YEARS:
            raise _invalid("date_of_birth", "Investors must be at least 18 years old.", "underage")
        company_name, incorporation_date = "", None
    if gstin:
        gstin = validators.check(validators.validate_gstin, gstin, attr="gstin", pan=pan)
    aadhaar_last4 = validators.check(validators.validate_aadhaar, aadhaar, attr="aadhaar") if aadhaar else ""
    pan_index = blind_index(pan)

    with transaction.atomic():
        profile = KYCProfile.objects.select_for_update().filter(user=user).first()
        if profile is not None and profile.status != KYCStatus.REJECTED:
            raise KycAlreadySubmitted()
        if KYCProfile.objects.filter(pan_index=pan_index).exclude(user=user).exists():
            raise PanAlreadyRegistered(attr="pan")
        profile = profile or KYCProfile(user=user)
        now = timezone.now()
        for name, value in {
            "kind": kind, "full_name": full_name, "pan": pan, "pan_index": pan_index, "address": address.strip(),
            "date_of_birth": date_of_birth, "company_name": company_name, "incorporation_date": incorporation_date,
            "gstin": gstin, "aadhaar_last4": aadhaar_last4 or profile.aadhaar_last4,
            "status": KYCStatus.PENDING, "status_reason": "", "provider": "", "provider_reference": "",
            "registered_name": "", "name_match": None, "attempts": 0, "next_attempt_at": now, "last_error": "",
            "submitted_at": now, "verified_at": None, "reviewed_by": None, "reviewed_at": None,
        }.items():
            setattr(profile, name, value)
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError as exc:  # a concurrent submission won the unique PAN or user
            if KYCProfile.objects.filter(pan_index=pan_index).exclude(user=user).exists():
                raise PanAlreadyRegistered(attr="pan") from exc
            raise KycAlreadySubmitted() from exc
        audit_record(action="kyc.submitted", actor=user, target=profile, data={"kind": kind})
        profile_id = profile.pk
        transaction.on_commit(lambda: _enqueue("kyc_verify_task", profile_id), robust=True)
    return profile


def _enqueue(task_name: str, object_id: int) -> None:
    from kyc import tasks

    try:
        getattr(tasks, task_name).delay(object_id)
    except Exception:  # the sweep picks the row up when it is due
        logger.warning("could not enqueue %s(%s); the sweep will retry", task_name, object_id, exc_info=True)


def _claim(model, object_id: int, now):
    """Step 1: the row if it is pending and due, with the attempt counted; else None."""
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=object_id, status="pending").first()
        if row is None or (row.next_attempt_at is not None and row.next_attempt_at > now):
            return None
        row.attempts += 1
        row.next_attempt_at = now + _backoff(row.attempts)
        row.save(update_fields=["attempts", "next_attempt_at"])
        return row


def _kyc_set_status(profile: KYCProfile, status: str, reason: str, *, actor=None) -> None:
    """Move a locked profile to a final or review status and publish its event."""
    profile.status = status
    profile.status_reason = reason[:255]
    if status == KYCStatus.VERIFIED:
        profile.verified_at = timezone.now()
    profile.save()
    audit_record(action=f"kyc.{status}", actor=actor, target=profile, data={"reason": profile.status_reason})
    payload = {"user_id": profile.user_id}
    if status != KYCStatus.VERIFIED:
        payload["reason"] = profile.status_reason
    outbox_publish(topic=f"kyc.{status}", payload=payload)


def kyc_verify(*, profile_id: int, now=None) -> KYCProfile | None:
    """Verify a pending profile's PAN with the provider (see the module docstring).
    Returns the profile, or None when it was not pending and due. Never raises for a
    provider failure: the profile stays pending and is retried."""
    now = now or timezone.now()
    claimed = _claim(KYCProfile, profile_id, now)
    if claimed is None:
        return None
    adapter = get_adapter("kyc")
    try:
        check = adapter.verify_pan(pan=claimed.pan, name=claimed.legal_name, date_of_birth=claimed.date_of_birth)
        error = ""
    except IntegrationError as exc:
        check, error = None, f"{type(exc).__name__}: {exc}"

    with transaction.atomic():
        profile = KYCProfile.objects.select_for_update().filter(pk=profile_id, status=KYCStatus.PENDING).first()
        if profile is None:
            return None
        profile.provider = getattr(adapter, "provider", "")
        if check is None:
            profile.last_error = error[:500]
            if profile.attempts >= settings.KYC_VERIFY_MAX_ATTEMPTS:
                _kyc_set_status(profile, KYCStatus.MANUAL_REVIEW,
                                "The PAN could not be checked automatically; a reviewer will check it.")
            else:
                profile.save(update_fields=["last_error", "provider", "updated_at"])
            return profile
        profile.provider_reference = check.reference[:100]
        profile.registered_name = check.registered_name[:200]
        profile.last_error = ""
        if check.outcome == "invalid":
            _kyc_set_status(profile, KYCStatus.REJECTED, f"The PAN was not verified: {check.reason or 'invalid'}.")
        elif check.outcome == "unverifiable":
            reason = check.reason or "no answer"
            _kyc_set_status(profile, KYCStatus.MANUAL_REVIEW,
                            f"The PAN could not be confirmed ({reason}); a reviewer will check it.")
        else:
            profile.name_match = name_match_score(check.registered_name, profile.legal_name)
            if profile.name_match < settings.KYC_NAME_MATCH_THRESHOLD:
                _kyc_set_status(profile, KYCStatus.MANUAL_REVIEW,
                                f"The name does not match the PAN's records (score {profile.name_match}).")
            else:
                _kyc_set_status(profile, KYCStatus.VERIFIED, "")
        return profile


def _kyc_review_target(*, actor, profile_id: int) -> KYCProfile:
    if not is_kyc_reviewer(actor):
        raise PermissionDenied()
    profile = KYCProfile.objects.select_for_update().filter(pk=profile_id).first()
    if profile is None:
        raise NotFound()
    duty_check_not_own(actor=actor, submitter_id=profile.user_id)
    if profile.status not in (KYCStatus.MANUAL_REVIEW, KYCStatus.PENDING):
        raise InvalidState(f"KYC is {profile.status}; only pending or manual-review KYC can be decided.")
    return profile


def kyc_approve(*, actor, profile_id: int, reason: str = "") -> KYCProfile:
    """Staff approval (API and Django admin). Locks the profile row."""
    with transaction.atomic():
        profile = _kyc_review_target(actor=actor, profile_id=profile_id)
        profile.reviewed_by, profile.reviewed_at = actor, timezone.now()
        _kyc_set_status(profile, KYCStatus.VERIFIED, reason.strip() or "Approved by a reviewer.", actor=actor)
    return profile


def kyc_reject(*, actor, profile_id: int, reason: str) -> KYCProfile:
    """Staff rejection with a reason the investor sees. Locks the profile row."""
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "Give the reason for the rejection.", "required")
    with transaction.atomic():
        profile = _kyc_review_target(actor=actor, profile_id=profile_id)
        profile.reviewed_by, profile.reviewed_at = actor, timezone.now()
        _kyc_set_status(profile, KYCStatus.REJECTED, reason, actor=actor)
    return profile


# --- Documents ---------------------------------------------------------------------------

def kyc_document_upload(*, user, kind: str, file: UploadedFile) -> KYCDocument:
    """Store a KYC document. The type comes from the file's first bytes, never its name."""
    if kind not in DocumentKind.values:
        raise _invalid("kind", "Unknown document kind.", "invalid_choice")
    checked = upload_check(file, allowed=DOCUMENT_TYPES, max_bytes=settings.KYC_DOCUMENT_MAX_BYTES, attr="file",
                           error=DocumentInvalid)
    if KYCDocument.objects.filter(user=user).count() >= MAX_DOCUMENTS_PER_USER:
        raise DocumentInvalid("Too many documents uploaded.", code="document_limit", attr="file")

    document = KYCDocument(user=user, kind=kind, content_type=checked.content_type, size=checked.size,
                           sha256=checked.sha256, original_name=checked.original_name)
    document.file.save(checked.stored_name, file, save=False)  # storage first: a failed insert removes it
    try:
        with transaction.atomic():
            document.save()
            audit_record(action="kyc.document_uploaded", actor=user, target=document,
                         data={"kind": kind, "content_type": checked.content_type, "size": checked.size})
    except Exception:
        document.file.delete(save=False)
        raise
    return document


def kyc_document_record_download(*, actor, document: KYCDocument) -> None:
    """A reviewer reading someone's identity document is audited; the owner is not."""
    if actor.pk != document.user_id:
        with transaction.atomic():
            audit_record(action="kyc.document_downloaded", actor=actor, target=document,
                         data={"owner_id": document.user_id})


# --- Bank accounts -----------------------------------------------------------------------

def bank_account_add(*, user, account_number: str, ifsc: str, holder_name: str) -> BankAccount:
    """Add a bank account and queue its penny drop. Needs submitted KYC (its name is what
    the bank's name must match). Locks the caller's KYC profile row, which serialises the
    caller's additions (the limit and the duplicate check)."""
    account_number = validators.check(validators.validate_account_number, account_number, attr="account_number")
    ifsc = validators.check(validators.validate_ifsc, ifsc, attr="ifsc")
    holder_name = _required(" ".join(holder_name.split()), "holder_name")
    account_index = blind_index(f"{ifsc}|{account_number}")

    with transaction.atomic():
        profile = KYCProfile.objects.select_for_update().filter(user=user).first()
        if profile is None or profile.status == KYCStatus.REJECTED:
            raise KycRequired("Submit your KYC before adding a bank account.")
        existing = BankAccount.objects.select_for_update().filter(user=user, account_index=account_index).first()
        if existing is not None and existing.status != BankAccountStatus.FAILED:
            raise BankAccountExists(attr="account_number")
        active = BankAccount.objects.filter(user=user).exclude(status=BankAccountStatus.FAILED).count()
        if active >= settings.KYC_MAX_BANK_ACCOUNTS:
            raise BankAccountLimit()
        account = existing or BankAccount(user=user, account_number=account_number, account_index=account_index)
        account.ifsc, account.holder_name = ifsc, holder_name
        account.status, account.status_reason = BankAccountStatus.PENDING, ""
        account.registered_name, account.name_match = "", None
        account.provider, account.provider_reference = "", ""
        account.attempts, account.next_attempt_at, account.last_error = 0, timezone.now(), ""
        account.save()
        audit_record(action="bank_account.added", actor=user, target=account, data={"ifsc": ifsc})
        account_id = account.pk
        transaction.on_commit(lambda: _enqueue("bank_account_verify_task", account_id), robust=True)
    return account


def _bank_set_status(account: BankAccount, status: str, reason: str) -> None:
    account.status = status
    account.status_reason = reason[:255]
    if status == BankAccountStatus.VERIFIED:
        account.verified_at = timezone.now()
        has_primary = BankAccount.objects.filter(user_id=account.user_id, is_primary=True).exists()
        account.is_primary = not has_primary
    account.save()
    audit_record(action=f"bank_account.{status}", target=account, data={"reason": account.status_reason})
    outbox_publish(topic=f"bank_account.{status}",
                   payload={"user_id": account.user_id, "bank_account_id": account.pk})


def bank_account_verify(*, bank_account_id: int, now=None) -> BankAccount | None:
    """Penny-drop a pending account (see the module docstring). The drop moves money, so a
    drop whose answer is still open is polled by its reference, never sent again."""
    now = now or timezone.now()
    claimed = _claim(BankAccount, bank_account_id, now)
    if claimed is None:
        return None
    adapter = get_adapter("bank")
    try:
        if claimed.provider_reference:
            drop = adapter.penny_drop_status(provider_reference=claimed.provider_reference)
        else:
            drop = adapter.penny_drop(account_number=claimed.account_number, ifsc=claimed.ifsc,
                                      holder_name=claimed.holder_name, reference=f"bank-account-{claimed.pk}")
        error = ""
    except IntegrationError as exc:
        drop, error = None, f"{type(exc).__name__}: {exc}"

    with transaction.atomic():
        profile = KYCProfile.objects.filter(user_id=claimed.user_id).first()
        account = BankAccount.objects.select_for_update().filter(
            pk=bank_account_id, status=BankAccountStatus.PENDING).first()
        if account is None:
            return None
        account.provider = getattr(adapter, "provider", "")
        if drop is None:
            account.last_error = error[:500]
            if account.attempts >= settings.KYC_VERIFY_MAX_ATTEMPTS:
                _bank_set_status(account, BankAccountStatus.FAILED, "The bank did not answer; add the account again.")
            else:
                account.save(update_fields=["last_error", "provider"])
            return account
        account.provider_reference = drop.reference[:100]
        account.last_error = ""
        if drop.outcome == "pending":
            account.save(update_fields=["provider", "provider_reference", "last_error"])
        elif drop.outcome == "failed":
            _bank_set_status(account, BankAccountStatus.FAILED, f"Penny drop failed: {drop.reason or 'rejected'}.")
        else:
            account.registered_name = drop.registered_name[:200]
            account.name_match = name_match_score(drop.registered_name, profile.legal_name if profile else "")
            if account.name_match < settings.KYC_NAME_MATCH_THRESHOLD:
                _bank_set_status(
                    account, BankAccountStatus.FAILED,
                    f"The account holder's name does not match your KYC name (score {account.name_match}).",
                )
            else:
                _bank_set_status(account, BankAccountStatus.VERIFIED, "")
        return account


def bank_account_make_primary(*, user, bank_account_id: int) -> BankAccount:
    """Make a verified account the caller's primary one. Locks the caller's accounts by id."""
    with transaction.atomic():
        accounts = list(BankAccount.objects.select_for_update().filter(user=user).order_by("id"))
        account = next((a for a in accounts if a.pk == bank_account_id), None)
        if account is None:
            raise NotFound()
        if account.status != BankAccountStatus.VERIFIED:
            raise InvalidState("Only a verified bank account can be primary.")
        if not account.is_primary:
            BankAccount.objects.filter(user=user, is_primary=True).update(is_primary=False)
            account.is_primary = True
            account.save(update_fields=["is_primary"])
            audit_record(action="bank_account.made_primary", actor=user, target=account)
    return account


# --- The sweep (beat job) ----------------------------------------------------------------

def verification_sweep(*, now=None, limit: int = 200) -> dict[str, int]:
    """Retry every pending profile and bank account whose next attempt is due."""
    now = now or timezone.now()
    profile_ids = list(KYCProfile.objects.filter(status=KYCStatus.PENDING, next_attempt_at__lte=now)
                       .order_by("next_attempt_at").values_list("id", flat=True)[:limit])
    account_ids = list(BankAccount.objects.filter(status=BankAccountStatus.PENDING, next_attempt_at__lte=now)
                       .order_by("next_attempt_at").values_list("id", flat=True)[:limit])
    profiles = sum(kyc_verify(profile_id=pk, now=now) is not None for pk in profile_ids)
    accounts = sum(bank_account_verify(bank_account_id=pk, now=now) is not None for pk in account_ids)
    return {"kyc_profiles": profiles, "bank_accounts": accounts}
