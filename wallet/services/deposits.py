"""Deposits: money into a wallet, `bank → available`.

Gateway (`method=gateway`): the deposit row is written first (status `pending`), then the
payment adapter is called *outside* any transaction and its payment id and `payment_url`
stored. The provider's webhook (`payment_webhook_receive`) is verified (HMAC + timestamp),
recorded once per provider event id (a unique row: a replay is a no-op), and credits the
deposit at most once, under the deposit's row lock, whatever the order or number of
deliveries: `captured` credits a `pending` or `failed` deposit; `failed` only marks a
`pending` one; anything after `credited` changes nothing. The credit's journal entry also
carries the idempotency key `deposit:<id>`, a third guard.

Offline (`bank_transfer`, `upi`, `cheque`, `cash`): a reference and a proof file (PDF, JPEG or
PNG by content, at most 5 MB) are required; the deposit waits in `pending_verification`
until a verifier (role verifier, admin or super admin; never the depositor) approves
(credits) or rejects it with a note.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.enums import Role
from core.audit import audit_record
from core.duties import duty_check_not_own
from core.errors import InvalidInput, PermissionDenied
from core.outbox import outbox_publish
from core.retry import retry_on_deadlock
from core.uploads import DOCUMENT_TYPES, CheckedUpload, upload_check
from integrations.errors import IntegrationError
from integrations.payments import CAPTURED, FAILED, PaymentWebhookEvent
from integrations.registry import get_adapter
from integrations.webhooks import WebhookInvalid
from wallet.enums import OFFLINE_METHODS, AccountKind, DepositMethod, DepositStatus, EntryKind, EventChannel
from wallet.errors import (
    CannotVerifyOwnDeposit,
    DepositNotPending,
    DuplicateReference,
    PaymentProviderUnavailable,
    ProofInvalid,
    ProofRequired,
    UnknownPayment,
    UnknownProvider,
    WebhookRejected,
)
from wallet.models import Deposit, ProviderEvent
from wallet.posting import ledger_post
from wallet.services.accounts import wallet_system_account
from wallet.services.movements import wallet_open

logger = logging.getLogger(__name__)

VERIFIER_ROLES = frozenset({Role.VERIFIER, Role.ADMIN, Role.SUPER_ADMIN})


def _require_kyc(user) -> None:
    from kyc.enums import KYCStatus
    from kyc.errors import KycRequired
    from kyc.selectors import kyc_status_for_user

    status = kyc_status_for_user(user=user)
    if status != KYCStatus.VERIFIED:
        raise KycRequired(f"Deposits need verified KYC; yours is {status.replace('_', ' ')}.")


def _check_amount(amount: Decimal, maximum: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or amount != amount.quantize(Decimal("0.01")) or amount <= 0:
        raise InvalidInput("Amount must be a positive number with at most 2 decimal places.", attr="amount")
    if amount > maximum:
        raise InvalidInput(f"Amount must be at most {maximum}.", code="max_value", attr="amount")
    return amount


def proof_validate(file: UploadedFile | None) -> CheckedUpload:
    """The proof, checked by core.uploads: type sniffed from its first bytes (never its name or
    header), at most WALLET_PROOF_MAX_BYTES."""
    if file is None:
        raise ProofRequired(attr="proof")
    return upload_check(file, allowed=DOCUMENT_TYPES, max_bytes=settings.WALLET_PROOF_MAX_BYTES, attr="proof",
                        error=ProofInvalid, code=ProofInvalid.code)


def deposit_create(*, user, amount: Decimal, method: str, reference: str = "",
                   proof: UploadedFile | None = None) -> Deposit:
    """Start a deposit. Gateway: returns it `pending` with a `payment_url`. Offline: returns
    it `pending_verification`. Nothing is credited here."""
    amount = _check_amount(amount, settings.WALLET_MAX_DEPOSIT)
    if method not in DepositMethod.values:
        raise InvalidInput("Unknown deposit method.", code="invalid_choice", attr="method")
    _require_kyc(user)
    wallet_open(user=user)
    if method == DepositMethod.GATEWAY:
        return _gateway_deposit_create(user=user, amount=amount)
    reference = (reference or "").strip()
    if not reference:
        raise ProofRequired("Offline deposits need the payment's reference (UTR, cheque or receipt number).",
                            attr="reference")
    checked = proof_validate(proof)
    deposit = Deposit(user=user, amount=amount, method=method, status=DepositStatus.PENDING_VERIFICATION,
                      reference=reference)
    deposit.proof.save(checked.stored_name, proof, save=False)
    try:
        with transaction.atomic():
            deposit.save()
            audit_record(action="deposit.submitted", actor=user, target=deposit,
                         data={"amount": str(amount), "method": method, "reference": reference})
    except IntegrityError:
        deposit.proof.delete(save=False)
        raise DuplicateReference(attr="reference") from None
    except Exception:
        deposit.proof.delete(save=False)
        raise
    return deposit


def _gateway_deposit_create(*, user, amount: Decimal) -> Deposit:
    adapter = get_adapter("payments")
    with transaction.atomic():
        deposit = Deposit.objects.create(user=user, amount=amount, method=DepositMethod.GATEWAY,
                                         status=DepositStatus.PENDING, provider=adapter.provider)
        audit_record(action="deposit.started", actor=user, target=deposit, data={"amount": str(amount)})
    try:  # outside any transaction: never hold locks while a provider thinks
        intent = adapter.create_payment(deposit_id=deposit.pk, amount=amount, currency=settings.CURRENCY,
                                        payer_phone=user.phone, description=f"Tranche wallet deposit {deposit.pk}")
    except IntegrationError as exc:
        Deposit.objects.filter(pk=deposit.pk, status=DepositStatus.PENDING).update(
            status=DepositStatus.FAILED, note=f"Payment provider error: {exc}"[:500], updated_at=timezone.now()
        )
        raise PaymentProviderUnavailable() from exc
    Deposit.objects.filter(pk=deposit.pk).update(provider_payment_id=intent.provider_payment_id,
                                                 payment_url=intent.payment_url, updated_at=timezone.now())
    deposit.refresh_from_db()
    return deposit


def _credit(deposit: Deposit, *, actor=None, memo: str) -> None:
    """Credit a locked deposit: bank → available, once."""
    accounts = wallet_open(user=deposit.user)
    entry = ledger_post(
        kind=EntryKind.DEPOSIT,
        transfers=[(wallet_system_account(AccountKind.BANK), accounts.available, deposit.amount)],
        reference=f"deposit:{deposit.pk}",
        memo=memo,
        created_by=actor,
        idempotency_key=f"deposit:{deposit.pk}",
    )
    deposit.status = DepositStatus.CREDITED
    deposit.entry = entry
    deposit.save(update_fields=["status", "entry", "updated_at"])
    outbox_publish(topic="deposit.credited", payload={"user_id": deposit.user_id, "deposit_id": deposit.pk,
                                                      "amount": str(deposit.amount)})


def payments_adapter_for(provider: str):
    """The payments adapter if `provider` is the one configured; webhooks for any other are 404."""
    if provider != settings.PAYMENT_PROVIDER:
        raise UnknownProvider()
    return get_adapter("payments")


def payment_webhook_receive(*, provider: str, headers, body: bytes) -> str:
    """Verify and apply one payment webhook delivery; returns what happened
    (`credited`, `failed`, `duplicate`, `ignored`, `amount_mismatch`); an unknown payment
    raises `UnknownPayment` (404, nothing recorded, so the provider delivers it again later)."""
    adapter = payments_adapter_for(provider)
    try:
        event = adapter.parse_webhook(headers=headers, body=body)
    except WebhookInvalid as exc:
        logger.warning("payment webhook refused: %s", exc)
        raise WebhookRejected(str(exc), code=f"webhook_{exc.reason}") from None
    return _payment_event_apply(provider=provider, event=event)


@retry_on_deadlock
def _payment_event_apply(*, provider: str, event: PaymentWebhookEvent) -> str:
    with transaction.atomic():
        try:
            with transaction.atomic():  # concurrent twins wait here on the unique index, then fail
                record = ProviderEvent.objects.create(
                    channel=EventChannel.PAYMENTS, provider=provider, event_id=event.event_id, kind=event.kind,
                    object_id=event.provider_payment_id, payload=event.raw,
                )
        except IntegrityError:
            return "duplicate"
        deposit = (
            Deposit.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(provider=provider, provider_payment_id=event.provider_payment_id)
            .first()
        )
        if deposit is None:
            # Not ours (yet): refuse without recording the event, so the provider retries later.
            logger.warning("payment webhook for an unknown payment %s", event.provider_payment_id)
            raise UnknownPayment()
        outcome = _payment_outcome(deposit, event)
        record.outcome = outcome
        record.save(update_fields=["outcome"])
        audit_record(action=f"deposit.webhook.{outcome}", target=deposit,
                     data={"event_id": event.event_id, "kind": event.kind, "provider": provider})
    return outcome


def _payment_outcome(deposit: Deposit, event: PaymentWebhookEvent) -> str:
    if event.kind == CAPTURED:
        if deposit.status not in (DepositStatus.PENDING, DepositStatus.FAILED):
            return "ignored"
        if event.amount is not None and event.amount != deposit.amount:
            logger.error("deposit %s: provider says %s, we asked %s; not credited", deposit.pk, event.amount,
                         deposit.amount)
            deposit.note = f"Amount mismatch: provider reported {event.amount}."
            deposit.save(update_fields=["note", "updated_at"])
            return "amount_mismatch"
        _credit(deposit, memo=f"Deposit via {deposit.provider}")
        return "credited"
    if event.kind == FAILED:
        if deposit.status != DepositStatus.PENDING:
            return "ignored"
        deposit.status = DepositStatus.FAILED
        deposit.save(update_fields=["status", "updated_at"])
        return "failed"
    return "ignored"


def _decide_target(*, actor, deposit_id: int) -> Deposit:
    if actor.role not in VERIFIER_ROLES:
        raise PermissionDenied()
    deposit = (
        Deposit.objects.select_for_update(of=("self",)).select_related("user")
        .filter(pk=deposit_id, method__in=OFFLINE_METHODS).first()
    )
    if deposit is None:
        from core.errors import NotFound

        raise NotFound("No such deposit.")
    duty_check_not_own(actor=actor, submitter_id=deposit.user_id, error=CannotVerifyOwnDeposit)
    if deposit.status != DepositStatus.PENDING_VERIFICATION:
        raise DepositNotPending(f"The deposit is {deposit.get_status_display().lower()}.")
    return deposit


@retry_on_deadlock
def deposit_approve(*, actor, deposit_id: int, note: str = "") -> Deposit:
    """A verifier confirms the money arrived: credit the deposit (once)."""
    with transaction.atomic():
        deposit = _decide_target(actor=actor, deposit_id=deposit_id)
        deposit.decided_by = actor
        deposit.decided_at = timezone.now()
        deposit.note = note
        _credit(deposit, actor=actor, memo=f"Deposit by {deposit.get_method_display().lower()} {deposit.reference}")
        deposit.save(update_fields=["decided_by", "decided_at", "note", "updated_at"])
        audit_record(action="deposit.approved", actor=actor, target=deposit, data={"note": note})
    return deposit


def deposit_reject(*, actor, deposit_id: int, note: str) -> Deposit:
    note = (note or "").strip()
    if not note:
        raise InvalidInput("Say why the deposit is rejected.", code="required", attr="note")
    with transaction.atomic():
        deposit = _decide_target(actor=actor, deposit_id=deposit_id)
        deposit.status = DepositStatus.REJECTED
        deposit.decided_by = actor
        deposit.decided_at = timezone.now()
        deposit.note = note
        deposit.save(update_fields=["status", "decided_by", "decided_at", "note", "updated_at"])
        audit_record(action="deposit.rejected", actor=actor, target=deposit, data={"note": note})
        outbox_publish(topic="deposit.rejected", payload={"user_id": deposit.user_id, "deposit_id": deposit.pk,
                                                          "amount": str(deposit.amount), "note": note})
    return deposit
