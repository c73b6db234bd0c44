"""Payouts (money out to a bank account): `PAYOUT_PROVIDER=sandbox|razorpayx`.

`create_payout` is called outside any database transaction with our withdrawal's key as the
provider's idempotency key, so sending it twice (a retry, a crash between the call and our
commit) pays once. It returns the provider's view: `processed`, `failed` or `processing`
(the final word then comes by webhook, `parse_webhook`).

- `SandboxPayouts`: deterministic; an amount whose paise are `13` (`100.13`) fails, any other
  succeeds at once. Webhooks are signed like the sandbox payments' (`X-Sandbox-Timestamp`,
  `X-Sandbox-Signature`) under `PAYOUT_SANDBOX_WEBHOOK_SECRET`. A fault switch, read on every
  call (`sandbox_payout_fault`: the `SANDBOX_PAYOUT_FAULT` environment variable, else the cache
  key `sandbox:payout_fault` that bench/chaos's nemesis sets), makes it behave like a provider
  that fails *after* executing the payout (`after_execute`) or never answers (`timeout`); both
  raise with no status, so the caller cannot know the outcome and must ask again with the key.
- `RazorpayXPayouts`: `POST /payouts` (composite: contact + fund account inline) with
  `X-Payout-Idempotency`; webhooks `payout.processed|failed|reversed|rejected` signed with
  `X-Razorpay-Signature`.
"""

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.conf import settings

from integrations.errors import IntegrationError, IntegrationTimeout
from integrations.http import HttpAdapter, log_sandbox_call
from integrations.payments import _json, _money
from integrations.webhooks import WebhookInvalid, header, hmac_sha256, require_fresh, require_signature

PROCESSED = "processed"
FAILED = "failed"
PROCESSING = "processing"
REVERSED = "reversed"


@dataclass(frozen=True)
class Payee:
    name: str
    account_number: str
    ifsc: str
    phone: str = ""


@dataclass(frozen=True)
class PayoutResult:
    provider_payout_id: str
    status: str  # processed | failed | processing
    failure_reason: str = ""


@dataclass(frozen=True)
class PayoutWebhookEvent:
    event_id: str
    status: str  # processed | failed | reversed | processing
    provider_payout_id: str
    reference: str  # our idempotency key / reference id
    amount: Decimal | None
    failure_reason: str = ""
    raw: dict = field(default_factory=dict)


class PayoutGateway(Protocol):
    provider: str

    def create_payout(self, *, idempotency_key: str, amount: Decimal, currency: str, payee: Payee,
                      narration: str) -> PayoutResult: ...

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> PayoutWebhookEvent: ...


SANDBOX_FAULT_CACHE_KEY = "sandbox:payout_fault"
SANDBOX_FAULTS = ("after_execute", "timeout")
SANDBOX_TIMEOUT_SECONDS = 1.0


def sandbox_payout_fault() -> str:
    """The fault the sandbox injects on this call: `after_execute`, `timeout` or "" (none).
    Read per call so a chaos test can switch it on and off while workers run."""
    fault = os.environ.get("SANDBOX_PAYOUT_FAULT", "")
    if not fault:
        from django.core.cache import cache

        try:
            fault = cache.get(SANDBOX_FAULT_CACHE_KEY) or ""
        except Exception:  # a cache outage must not break payouts; it just means no fault
            fault = ""
    return fault if fault in SANDBOX_FAULTS else ""


class SandboxPayouts:
    provider = "sandbox"
    EVENT_STATUSES = {"payout.processed": PROCESSED, "payout.failed": FAILED, "payout.reversed": REVERSED}

    def __init__(self, *, secret: str | None = None):
        self.secret = secret if secret is not None else settings.PAYOUT_SANDBOX_WEBHOOK_SECRET

    def create_payout(self, *, idempotency_key: str, amount: Decimal, currency: str, payee: Payee,
                      narration: str) -> PayoutResult:
        payout_id = f"sbxpout_{idempotency_key}"
        fault = sandbox_payout_fault()
        if fault == "timeout":
            time.sleep(SANDBOX_TIMEOUT_SECONDS)
            log_sandbox_call(service="payouts", provider=self.provider, operation="create_payout",
                             outcome="timeout", error="sandbox fault: timeout")
            raise IntegrationTimeout("sandbox: the payout provider did not answer in time", service="payouts",
                                     operation="create_payout", retryable=True)
        if amount.quantize(Decimal("0.01")) % 1 == Decimal("0.13"):
            log_sandbox_call(service="payouts", provider=self.provider, operation="create_payout",
                             outcome="error", error="sandbox: amounts ending in .13 fail")
            return PayoutResult(provider_payout_id=payout_id, status=FAILED,
                                failure_reason="Sandbox: amounts ending in .13 fail.")
        log_sandbox_call(service="payouts", provider=self.provider, operation="create_payout")
        if fault == "after_execute":  # the payout is made (a retry with this key answers `processed`)
            raise IntegrationError("sandbox: the payout provider failed after executing the payout",
                                   service="payouts", operation="create_payout", retryable=True)
        return PayoutResult(provider_payout_id=payout_id, status=PROCESSED)

    def sign_webhook(self, *, event_type: str, payout_id: str, reference: str, amount: Decimal,
                     event_id: str, timestamp: int | None = None, reason: str = "") -> tuple[dict[str, str], bytes]:
        timestamp = int(time.time()) if timestamp is None else timestamp
        body = json.dumps({
            "id": event_id, "type": event_type, "created": timestamp,
            "data": {"payout_id": payout_id, "reference": reference, "amount": str(amount), "reason": reason},
        }).encode()
        signature = hmac_sha256(self.secret, f"{timestamp}.".encode() + body)
        return {"X-Sandbox-Timestamp": str(timestamp), "X-Sandbox-Signature": signature,
                "Content-Type": "application/json"}, body

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> PayoutWebhookEvent:
        timestamp = header(headers, "X-Sandbox-Timestamp")
        require_signature(secret=self.secret, message=f"{timestamp}.".encode() + body,
                          signature=header(headers, "X-Sandbox-Signature"))
        require_fresh(timestamp)
        data = _json(body)
        payout = data.get("data") or {}
        if not data.get("id") or not payout.get("reference"):
            raise WebhookInvalid("malformed", "The webhook has no event id or reference.")
        return PayoutWebhookEvent(
            event_id=str(data["id"]), status=self.EVENT_STATUSES.get(data.get("type"), PROCESSING),
            provider_payout_id=str(payout.get("payout_id", "")), reference=str(payout["reference"]),
            amount=_money(payout["amount"]) if "amount" in payout else None,
            failure_reason=str(payout.get("reason", "")), raw=data,
        )


class RazorpayXPayouts(HttpAdapter):
    service = "payouts"
    provider = "razorpayx"
    FINAL = {"processed": PROCESSED, "reversed": FAILED, "failed": FAILED, "rejected": FAILED, "cancelled": FAILED}
    EVENT_STATUSES = {"payout.processed": PROCESSED, "payout.failed": FAILED, "payout.rejected": FAILED,
                      "payout.reversed": REVERSED}

    def __init__(self, **kwargs):
        self.key_id = settings.RAZORPAYX_KEY_ID
        self.key_secret = settings.RAZORPAYX_KEY_SECRET
        self.source_account = settings.RAZORPAYX_ACCOUNT_NUMBER
        self.webhook_secret = settings.RAZORPAYX_WEBHOOK_SECRET
        kwargs.setdefault("base_url", settings.RAZORPAYX_BASE_URL)
        super().__init__(secrets=[self.key_secret, self.webhook_secret], **kwargs)

    def create_payout(self, *, idempotency_key: str, amount: Decimal, currency: str, payee: Payee,
                      narration: str) -> PayoutResult:
        # The idempotency header makes a repeat safe, so timeouts and 5xx are retried too.
        response = self.request(
            "create_payout", "POST", "payouts", idempotent=True,
            auth=(self.key_id, self.key_secret),
            headers={"X-Payout-Idempotency": idempotency_key},
            json={
                "account_number": self.source_account,
                "amount": int(amount * 100),
                "currency": currency,
                "mode": "IMPS",
                "purpose": "payout",
                "queue_if_low_balance": True,
                "reference_id": idempotency_key,
                "narration": narration[:30],
                "fund_account": {
                    "account_type": "bank_account",
                    "bank_account": {"name": payee.name, "ifsc": payee.ifsc, "account_number": payee.account_number},
                    "contact": {"name": payee.name, "contact": payee.phone, "type": "customer"},
                },
            },
        )
        data = response.json()
        if not data.get("id"):
            raise IntegrationError("razorpayx returned no payout id", service=self.service, operation="create_payout",
                                   retryable=True)
        status = self.FINAL.get(data.get("status", ""), PROCESSING)
        reason = ((data.get("status_details") or {}).get("description") or "") if status == FAILED else ""
        return PayoutResult(provider_payout_id=data["id"], status=status, failure_reason=reason)

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> PayoutWebhookEvent:
        require_signature(secret=self.webhook_secret, message=body, signature=header(headers, "X-Razorpay-Signature"))
        data = _json(body)
        require_fresh(data.get("created_at"))
        event_id = header(headers, "X-Razorpay-Event-Id")
        payout = ((data.get("payload") or {}).get("payout") or {}).get("entity") or {}
        if not event_id or not payout.get("id") or not payout.get("reference_id"):
            raise WebhookInvalid("malformed", "The webhook has no event id, payout or reference.")
        return PayoutWebhookEvent(
            event_id=str(event_id), status=self.EVENT_STATUSES.get(data.get("event"), PROCESSING),
            provider_payout_id=str(payout["id"]), reference=str(payout["reference_id"]),
            amount=_money(payout["amount"]) / 100 if payout.get("amount") is not None else None,
            failure_reason=str((payout.get("status_details") or {}).get("description") or ""), raw=data,
        )
