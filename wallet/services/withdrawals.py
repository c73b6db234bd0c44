"""Withdrawals: money out to the caller's verified bank account.

1. `withdrawal_create` (one transaction): the withdrawal row, `available → pending_withdrawal`
   at once (so the money cannot be spent twice), and an outbox message
   `wallet.withdrawal_requested`.
2. The outbox handler schedules `withdrawal_payout_task` after the drain commits.
3. `withdrawal_payout_send` claims the row (`pending → processing`, under its lock), calls
   the payout adapter *outside* any transaction with `withdrawal-<id>` as the provider's
   idempotency key (a repeat pays once), then applies the answer.
4. `withdrawal_settle` (under the withdrawal's row lock, idempotent by status and by the
   entries' idempotency keys): `processed` → `pending_withdrawal → bank`, status `paid`;
   `failed` → `pending_withdrawal → available`, status `failed`; a `reversed` payout (the bank
   returned a paid one) → `bank → available`, status `reversed`. The payout webhook feeds
   the same function, so the order of the adapter's answer and the webhook does not matter.

A withdrawal stuck in `pending`/`processing` (a lost task, a provider timeout) is sent again
by the `wallet-payouts-resume` beat job; the idempotency key makes that safe.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import audit_record
from core.outbox import outbox_publish
from core.retry import retry_on_deadlock
from core.transactions import service_atomic
from integrations.errors import IntegrationError
from integrations.payouts import FAILED, PROCESSED, PROCESSING, REVERSED, Payee, PayoutResult, PayoutWebhookEvent
from integrations.registry import get_adapter
from integrations.webhooks import WebhookInvalid
from wallet.enums import AccountKind, EntryKind, EventChannel, WithdrawalStatus
from wallet.errors import UnknownPayment, UnknownProvider, WebhookRejected
from wallet.models import ProviderEvent, Withdrawal
from wallet.services.deposits import _check_amount
from wallet.services.ledger import ledger_post, wallet_system_account
from wallet.services.movements import wallet_open

logger = logging.getLogger(__name__)

TOPIC_REQUESTED = "wallet.withdrawal_requested"


def payout_key(withdrawal_id: int) -> str:
    """Our withdrawal id as the provider's idempotency key and reference."""
    return f"withdrawal-{withdrawal_id}"


@retry_on_deadlock
def withdrawal_create(*, user, amount: Decimal, bank_account_id: int) -> Withdrawal:
    """Request a withdrawal to one of the caller's verified bank accounts. The amount leaves
    `available` at once (`InsufficientFunds` if it is not there). Locks the caller's ledger
    accounts (inside `ledger_post`)."""
    from kyc.enums import BankAccountStatus
    from kyc.errors import BankAccountRequired
    from kyc.selectors import bank_account_get_for_user

    amount = _check_amount(amount, settings.WALLET_MAX_WITHDRAWAL)
    bank_account = bank_account_get_for_user(user=user, bank_account_id=bank_account_id)
    if bank_account.status != BankAccountStatus.VERIFIED:
        raise BankAccountRequired("Withdrawals go only to a verified bank account.", attr="bank_account")
    accounts = wallet_open(user=user)
    with service_atomic():
        withdrawal = Withdrawal.objects.create(user=user, amount=amount, bank_account=bank_account,
                                               status=WithdrawalStatus.PENDING)
        ledger_post(
            kind=EntryKind.WITHDRAWAL_REQUESTED,
            transfers=[(accounts.available, accounts.pending_withdrawal, amount)],
            reference=f"withdrawal:{withdrawal.pk}",
            memo=f"Withdrawal to {bank_account.ifsc} {bank_account.masked_account_number}",
            created_by=user,
            idempotency_key=f"withdrawal:{withdrawal.pk}:requested",
        )
        audit_record(action="withdrawal.requested", actor=user, target=withdrawal,
                     data={"amount": str(amount), "bank_account": bank_account.pk})
        outbox_publish(topic=TOPIC_REQUESTED, payload={"withdrawal_id": withdrawal.pk})
    return withdrawal


def withdrawal_payout_schedule(*, withdrawal_id: int) -> None:
    """Run the payout after the current transaction commits (never inside it)."""
    from wallet.tasks import withdrawal_payout_task

    def enqueue():
        try:
            withdrawal_payout_task.delay(withdrawal_id)
        except Exception:  # the resume beat job sends it later
            logger.warning("could not enqueue payout of withdrawal %s", withdrawal_id, exc_info=True)

    transaction.on_commit(enqueue)


def _claim(withdrawal_id: int) -> tuple[Withdrawal, Payee] | None:
    with transaction.atomic():
        withdrawal = (
            Withdrawal.objects.select_for_update(of=("self",)).select_related("bank_account", "user")
            .filter(pk=withdrawal_id).first()
        )
        if withdrawal is None or withdrawal.status not in (WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING):
            return None
        if withdrawal.status == WithdrawalStatus.PENDING:
            withdrawal.status = WithdrawalStatus.PROCESSING
        withdrawal.attempts += 1
        withdrawal.last_attempt_at = timezone.now()
        withdrawal.save(update_fields=["status", "attempts", "last_attempt_at", "updated_at"])
        account = withdrawal.bank_account
        payee = Payee(name=account.holder_name, account_number=account.account_number, ifsc=account.ifsc,
                      phone=withdrawal.user.phone)
    return withdrawal, payee


def withdrawal_payout_send(*, withdrawal_id: int) -> Withdrawal | None:
    """Send (or send again) the payout of a pending or processing withdrawal, then apply the
    provider's answer. Must run outside any transaction. Safe to repeat."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("withdrawal_payout_send calls a provider: never run it inside a transaction.")
    claimed = _claim(withdrawal_id)
    if claimed is None:
        return None
    withdrawal, payee = claimed
    adapter = get_adapter("payouts")
    try:
        result = adapter.create_payout(idempotency_key=payout_key(withdrawal.pk), amount=withdrawal.amount,
                                       currency=settings.CURRENCY, payee=payee,
                                       narration=f"Tranche withdrawal {withdrawal.pk}")
    except IntegrationError as exc:
        definite_refusal = exc.status is not None and 400 <= exc.status < 500 and exc.status not in (408, 409, 429)
        if not definite_refusal:
            # Unknown outcome: leave it processing; the resume job asks again with the same key.
            logger.warning("payout of withdrawal %s: %s; will retry", withdrawal.pk, exc)
            Withdrawal.objects.filter(pk=withdrawal.pk).update(last_error=str(exc)[:500], updated_at=timezone.now())
            return withdrawal
        result = PayoutResult(provider_payout_id="", status=FAILED, failure_reason=f"Refused by the provider: {exc}")
    return withdrawal_settle(withdrawal_id=withdrawal.pk, status=result.status, provider=adapter.provider,
                             provider_payout_id=result.provider_payout_id, failure_reason=result.failure_reason)


@retry_on_deadlock
def withdrawal_settle(*, withdrawal_id: int, status: str, provider: str = "", provider_payout_id: str = "",
                      failure_reason: str = "") -> Withdrawal:
    """Apply a payout's outcome under the withdrawal's lock; repeats and late, out-of-order
    answers change nothing. Locks the withdrawal, then (in `ledger_post`) the user's accounts."""
    with transaction.atomic():
        withdrawal = Withdrawal.objects.select_for_update(of=("self",)).select_related("user").get(pk=withdrawal_id)
        in_flight = withdrawal.status in (WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING)
        before = withdrawal.status
        if provider_payout_id and not withdrawal.provider_payout_id:
            withdrawal.provider = provider
            withdrawal.provider_payout_id = provider_payout_id
        accounts = wallet_open(user=withdrawal.user)
        reference = f"withdrawal:{withdrawal.pk}"
        if status == PROCESSED and in_flight:
            ledger_post(kind=EntryKind.WITHDRAWAL_PAID,
                        transfers=[(accounts.pending_withdrawal, wallet_system_account(AccountKind.BANK),
                                    withdrawal.amount)],
                        reference=reference, memo="Paid to your bank account",
                        idempotency_key=f"{reference}:paid")
            withdrawal.status = WithdrawalStatus.PAID
            withdrawal.paid_at = timezone.now()
        elif status == FAILED and in_flight:
            ledger_post(kind=EntryKind.WITHDRAWAL_FAILED,
                        transfers=[(accounts.pending_withdrawal, accounts.available, withdrawal.amount)],
                        reference=reference, memo=f"Withdrawal failed: {failure_reason}"[:255],
                        idempotency_key=f"{reference}:failed")
            withdrawal.status = WithdrawalStatus.FAILED
            withdrawal.failure_reason = failure_reason[:255]
        elif status == REVERSED and withdrawal.status == WithdrawalStatus.PAID:
            ledger_post(kind=EntryKind.WITHDRAWAL_REVERSED,
                        transfers=[(wallet_system_account(AccountKind.BANK), accounts.available, withdrawal.amount)],
                        reference=reference, memo=f"Returned by the bank: {failure_reason}"[:255],
                        idempotency_key=f"{reference}:reversed")
            withdrawal.status = WithdrawalStatus.REVERSED
            withdrawal.failure_reason = failure_reason[:255]
        elif status == REVERSED and in_flight:
            # Reversed before we heard it was paid: the money never left; return it.
            return withdrawal_settle(withdrawal_id=withdrawal_id, status=FAILED, provider=provider,
                                     provider_payout_id=provider_payout_id, failure_reason=failure_reason)
        elif status == PROCESSING:
            pass
        else:
            logger.info("withdrawal %s is %s; ignoring a late %s", withdrawal.pk, withdrawal.status, status)
        withdrawal.save()
        if withdrawal.status != before and withdrawal.status in (WithdrawalStatus.PAID, WithdrawalStatus.FAILED,
                                                                  WithdrawalStatus.REVERSED):
            outbox_publish(topic=f"withdrawal.{withdrawal.status}", payload={
                "user_id": withdrawal.user_id, "withdrawal_id": withdrawal.pk, "amount": str(withdrawal.amount),
            })
        audit_record(action=f"withdrawal.{status}", target=withdrawal,
                     data={"status": withdrawal.status, "provider_payout_id": withdrawal.provider_payout_id,
                           "reason": failure_reason})
    return withdrawal


def payouts_adapter_for(provider: str):
    if provider != settings.PAYOUT_PROVIDER:
        raise UnknownProvider()
    return get_adapter("payouts")


def payout_webhook_receive(*, provider: str, headers, body: bytes) -> str:
    """Verify and apply one payout status webhook (deduplicated by event id)."""
    adapter = payouts_adapter_for(provider)
    try:
        event = adapter.parse_webhook(headers=headers, body=body)
    except WebhookInvalid as exc:
        logger.warning("payout webhook refused: %s", exc)
        raise WebhookRejected(str(exc), code=f"webhook_{exc.reason}") from None
    return _payout_event_apply(provider=provider, event=event)


@retry_on_deadlock
def _payout_event_apply(*, provider: str, event: PayoutWebhookEvent) -> str:
    prefix = "withdrawal-"
    withdrawal_id = event.reference[len(prefix):] if event.reference.startswith(prefix) else ""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ProviderEvent.objects.create(
                    channel=EventChannel.PAYOUTS, provider=provider, event_id=event.event_id, kind=event.status,
                    object_id=event.reference, payload=event.raw,
                )
        except IntegrityError:
            return "duplicate"
        withdrawal = Withdrawal.objects.filter(pk=int(withdrawal_id)).first() if withdrawal_id.isdigit() else None
        if withdrawal is None or (event.amount is not None and event.amount != withdrawal.amount):
            logger.warning("payout webhook for unknown or mismatched withdrawal %r", event.reference)
            raise UnknownPayment()
        before = withdrawal.status
        settled = withdrawal_settle(withdrawal_id=withdrawal.pk, status=event.status, provider=provider,
                                    provider_payout_id=event.provider_payout_id, failure_reason=event.failure_reason)
        outcome = settled.status if settled.status != before else "ignored"
        record.outcome = outcome
        record.save(update_fields=["outcome"])
    return outcome


def withdrawal_resume(*, now=None, limit: int = 100) -> int:
    """Send again the withdrawals left pending or processing too long. Beat job."""
    now = now or timezone.now()
    stale = list(
        Withdrawal.objects.filter(
            status__in=(WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING),
            updated_at__lt=now - settings.WALLET_PAYOUT_RESUME_AFTER,
        ).order_by("id").values_list("id", flat=True)[:limit]
    )
    for withdrawal_id in stale:
        try:
            withdrawal_payout_send(withdrawal_id=withdrawal_id)
        except Exception:
            logger.exception("resuming withdrawal %s failed", withdrawal_id)
    return len(stale)

