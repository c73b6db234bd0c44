"""Payments (money in): `PAYMENT_PROVIDER=sandbox|razorpay`.

An adapter creates a payment for a deposit and returns where the payer goes to pay, and
turns a provider's webhook delivery into a verified, normalised `PaymentWebhookEvent`
(raising `WebhookInvalid` for a bad signature, a stale timestamp or a malformed body).

- `SandboxPayments`: deterministic and local. Its `payment_url` is a page this app serves
  (`/sandbox/payments/<id>/`, only while the sandbox is on) whose Pay and Fail buttons send a
  webhook signed exactly like a real one (`sign_webhook`), through the same verification.
  Headers: `X-Sandbox-Timestamp` (Unix seconds) and `X-Sandbox-Signature`, the hex
  HMAC-SHA256 of `"<timestamp>." + raw body` under `PAYMENT_SANDBOX_WEBHOOK_SECRET`.
- `RazorpayPayments`: Payment Links API; webhooks signed with `X-Razorpay-Signature`
  (hex HMAC-SHA256 of the raw body), event id in `X-Razorpay-Event-Id`, time in the body's
  `created_at`.
"""

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.conf import settings

from integrations.errors import IntegrationError
from integrations.http import HttpAdapter, log_sandbox_call
from integrations.webhooks import WebhookInvalid, header, hmac_sha256, require_fresh, require_signature

CAPTURED = "captured"
FAILED = "failed"
IGNORED = "ignored"


@dataclass(frozen=True)
class PaymentIntent:
    provider_payment_id: str
    payment_url: str


@dataclass(frozen=True)
class PaymentWebhookEvent:
    event_id: str
    kind: str  # captured | failed | ignored
    provider_payment_id: str
    amount: Decimal | None
    occurred_at: int
    raw: dict = field(default_factory=dict)


class PaymentGateway(Protocol):
    provider: str

    def create_payment(self, *, deposit_id: int, amount: Decimal, currency: str, payer_phone: str,
                       description: str) -> PaymentIntent: ...

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> PaymentWebhookEvent: ...


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookInvalid("malformed", "The webhook body is not JSON.") from None
    if not isinstance(data, dict):
        raise WebhookInvalid("malformed", "The webhook body is not a JSON object.")
    return data


def _money(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise WebhookInvalid("malformed", "The webhook amount is not a number.") from None
    if not amount.is_finite():
        raise WebhookInvalid("malformed", "The webhook amount is not a number.")
    return amount


class SandboxPayments:
    provider = "sandbox"
    EVENT_KINDS = {"payment.captured": CAPTURED, "payment.failed": FAILED}

    def __init__(self, *, secret: str | None = None):
        self.secret = secret if secret is not None else settings.PAYMENT_SANDBOX_WEBHOOK_SECRET

    def create_payment(self, *, deposit_id: int, amount: Decimal, currency: str, payer_phone: str,
                       description: str) -> PaymentIntent:
        payment_id = f"sbxpay_{deposit_id}_{secrets.token_urlsafe(12)}"
        log_sandbox_call(service="payments", provider=self.provider, operation="create_payment")
        return PaymentIntent(provider_payment_id=payment_id,
                             payment_url=f"{settings.SITE_URL.rstrip('/')}/sandbox/payments/{payment_id}/")

    def sign_webhook(self, *, event_type: str, payment_id: str, amount: Decimal, event_id: str | None = None,
                     timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        """The headers and body of a delivery as the provider would send it."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        body = json.dumps({
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "type": event_type,
            "created": timestamp,
            "data": {"payment_id": payment_id, "amount": str(amount), "currency": settings.CURRENCY},
        }).encode()
        signature = hmac_sha256(self.secret, f"{timestamp}.".encode() + body)
        return {"X-Sandbox-Timestamp": str(timestamp), "X-Sandbox-Signature": signature,
                "Content-Type": "application/json"}, body

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> PaymentWebhookEvent:
        timestamp = header(headers, "X-Sandbox-Timestamp")
        require_signature(secret=self.secret, message=f"{timestamp}.".encode() + body,
                          signature=header(headers, "X-Sandbox-Signature"))
        moment = require_fresh(timestamp)
        data = _json(body)
        payment = data.get("data") or {}
        if not data.get("id") or not payment.get("payment_id"):
            raise WebhookInvalid("malformed", "The webhook has no event id or payment id.")
        return PaymentWebhookEvent(
            event_id=str(data["id"]), kind=self.EVENT_KINDS.get(data.get("type"), IGNORED),
            provider_payment_id=str(payment["payment_id"]),
            amount=_money(payment["amount"]) if "amount" in payment else None, occurred_at=moment, raw=data,
        )


class RazorpayPayments(HttpAdapter):
    service = "payments"
    provider = "razorpay"
    EVENT_KINDS = {"payment_link.paid": CAPTURED, "payment_link.cancelled": FAILED, "payment_link.expired": FAILED}

    def __init__(self, **kwargs):
        self.key_id = settings.RAZORPAY_KEY_ID
        self.key_secret = settings.RAZORPAY_KEY_SECRET
        self.webhook_secret = settings.RAZORPAY_WEBHOOK_SECRET
        kwargs.setdefault("base_url", settings.RAZORPAY_BASE_URL)
        super().__init__(secrets=[self.key_secret, self.webhook_secret], **kwargs)

    def create_payment(self, *, deposit_id: int, amount: Decimal, currency: str, payer_phone: str,
                       description: str) -> PaymentIntent:
        # Razorpay refuses a second link with the same reference_id, so a retry cannot
        # create two payable links for one deposit; still, only unsent requests are retried.
        response = self.request(
            "create_payment", "POST", "payment_links", idempotent=False,
            auth=(self.key_id, self.key_secret),
            json={
                "amount": int(amount * 100), "currency": currency, "reference_id": f"deposit-{deposit_id}",
                "description": description, "customer": {"contact": payer_phone},
                "notify": {"sms": False, "email": False}, "reminder_enable": False,
            },
        )
        data = response.json()
        if not data.get("id") or not data.get("short_url"):
            raise IntegrationError("razorpay returned no payment link", service=self.service,
                                   operation="create_payment")
        return PaymentIntent(provider_payment_id=data["id"], payment_url=data["short_url"])

    def parse_webhook(self, *, headers: Mapping[str, str], body: bytes) -> PaymentWebhookEvent:
        require_signature(secret=self.webhook_secret, message=body, signature=header(headers, "X-Razorpay-Signature"))
        data = _json(body)
        moment = require_fresh(data.get("created_at"))
        event_id = header(headers, "X-Razorpay-Event-Id")
        link = ((data.get("payload") or {}).get("payment_link") or {}).get("entity") or {}
        if not event_id or not link.get("id"):
            raise WebhookInvalid("malformed", "The webhook has no event id or payment link.")
        amount = link.get("amount_paid") or link.get("amount")
        return PaymentWebhookEvent(
            event_id=str(event_id), kind=self.EVENT_KINDS.get(data.get("event"), IGNORED),
            provider_payment_id=str(link["id"]),
            amount=_money(amount) / 100 if amount is not None else None, occurred_at=moment, raw=data,
        )
