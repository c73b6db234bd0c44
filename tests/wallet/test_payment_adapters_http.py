"""The real HTTP adapters (Razorpay payment links, RazorpayX payouts) against a local server."""

import json
import time
from decimal import Decimal

import pytest
from werkzeug import Response

from integrations.errors import IntegrationError
from integrations.models import ApiCall
from integrations.payments import CAPTURED, RazorpayPayments
from integrations.payouts import FAILED, PROCESSED, PROCESSING, REVERSED, Payee, RazorpayXPayouts
from integrations.webhooks import WebhookInvalid, hmac_sha256

pytestmark = pytest.mark.django_db
PAYEE = Payee(name="Asha Rao", account_number="910012345678", ifsc="HDFC0001234", phone="+919800000001")


@pytest.fixture
def razorpay(httpserver, settings):
    settings.RAZORPAY_BASE_URL = httpserver.url_for("/v1")
    settings.RAZORPAYX_BASE_URL = httpserver.url_for("/v1")
    settings.RAZORPAY_KEY_ID = settings.RAZORPAYX_KEY_ID = "rzp_test_key"
    settings.RAZORPAY_KEY_SECRET = settings.RAZORPAYX_KEY_SECRET = "very-secret"
    settings.RAZORPAY_WEBHOOK_SECRET = "payments-hook-secret"
    settings.RAZORPAYX_WEBHOOK_SECRET = "payouts-hook-secret"
    settings.RAZORPAYX_ACCOUNT_NUMBER = "2323230000000000"
    settings.INTEGRATION_MAX_RETRIES = 1
    return httpserver


def test_razorpay_creates_a_payment_link(razorpay):
    razorpay.expect_request("/v1/payment_links", method="POST").respond_with_json(
        {"id": "plink_123", "short_url": "https://rzp.io/i/abc"})
    intent = RazorpayPayments().create_payment(deposit_id=9, amount=Decimal("1250.50"), currency="INR",
                                               payer_phone="+919800000001", description="deposit 9")
    assert (intent.provider_payment_id, intent.payment_url) == ("plink_123", "https://rzp.io/i/abc")
    request, _ = razorpay.log[0]
    body = json.loads(request.data)
    assert body["amount"] == 125050 and body["reference_id"] == "deposit-9"
    assert request.authorization.username == "rzp_test_key"
    assert ApiCall.objects.get().outcome == "ok"


def test_razorpay_webhook_is_verified_over_the_raw_body():
    adapter = RazorpayPayments.__new__(RazorpayPayments)
    adapter.webhook_secret = "payments-hook-secret"
    body = json.dumps({"event": "payment_link.paid", "created_at": int(time.time()),
                       "payload": {"payment_link": {"entity": {"id": "plink_1", "amount_paid": 10050}}}}).encode()
    headers = {"X-Razorpay-Signature": hmac_sha256("payments-hook-secret", body), "X-Razorpay-Event-Id": "ev_1"}
    event = adapter.parse_webhook(headers=headers, body=body)
    assert (event.kind, event.provider_payment_id, event.amount, event.event_id) == (
        CAPTURED, "plink_1", Decimal("100.50"), "ev_1")
    with pytest.raises(WebhookInvalid) as bad:
        adapter.parse_webhook(headers={**headers, "X-Razorpay-Signature": "00"}, body=body)
    assert bad.value.reason == "signature"


def test_razorpayx_sends_our_idempotency_key_and_maps_the_status(razorpay):
    razorpay.expect_request("/v1/payouts", method="POST",
                            headers={"X-Payout-Idempotency": "withdrawal-7"}).respond_with_json(
        {"id": "pout_1", "status": "processing"})
    result = RazorpayXPayouts().create_payout(idempotency_key="withdrawal-7", amount=Decimal("10.00"),
                                              currency="INR", payee=PAYEE, narration="Tranche withdrawal 7")
    assert (result.provider_payout_id, result.status) == ("pout_1", PROCESSING)
    body = json.loads(razorpay.log[0][0].data)
    assert body["amount"] == 1000 and body["reference_id"] == "withdrawal-7"
    assert body["fund_account"]["bank_account"]["ifsc"] == "HDFC0001234"
    assert "910012345678" not in ApiCall.objects.get().error


@pytest.mark.parametrize(("status", "expected"), [("processed", PROCESSED), ("rejected", FAILED),
                                                    ("queued", PROCESSING)])
def test_razorpayx_final_statuses(razorpay, status, expected):
    razorpay.expect_request("/v1/payouts", method="POST").respond_with_json({"id": "pout_2", "status": status})
    assert RazorpayXPayouts().create_payout(idempotency_key="withdrawal-8", amount=Decimal("1.00"), currency="INR",
                                            payee=PAYEE, narration="x").status == expected


def test_razorpayx_retries_a_5xx_with_the_same_key(razorpay):
    calls = []

    def handler(request):
        calls.append(request.headers["X-Payout-Idempotency"])
        if len(calls) == 1:
            return Response("upstream down", status=502)
        return Response(json.dumps({"id": "pout_3", "status": "processed"}), content_type="application/json")

    razorpay.expect_request("/v1/payouts", method="POST").respond_with_handler(handler)
    result = RazorpayXPayouts().create_payout(idempotency_key="withdrawal-9", amount=Decimal("1.00"),
                                              currency="INR", payee=PAYEE, narration="x")
    assert result.status == PROCESSED and calls == ["withdrawal-9", "withdrawal-9"]


def test_razorpayx_a_4xx_is_a_definite_refusal(razorpay):
    razorpay.expect_request("/v1/payouts", method="POST").respond_with_json({"error": "bad ifsc"}, status=400)
    with pytest.raises(IntegrationError) as refused:
        RazorpayXPayouts().create_payout(idempotency_key="withdrawal-10", amount=Decimal("1.00"), currency="INR",
                                         payee=PAYEE, narration="x")
    assert refused.value.status == 400 and not refused.value.retryable


def test_razorpayx_payout_webhook(razorpay):
    adapter = RazorpayXPayouts()
    now = int(time.time())
    body = json.dumps({"event": "payout.reversed", "created_at": now,
                       "payload": {"payout": {"entity": {"id": "pout_1", "reference_id": "withdrawal-7",
                                                         "amount": 1000}}}}).encode()
    headers = {"X-Razorpay-Signature": hmac_sha256("payouts-hook-secret", body), "X-Razorpay-Event-Id": "ev_9"}
    event = adapter.parse_webhook(headers=headers, body=body)
    assert (event.status, event.reference, event.amount) == (REVERSED, "withdrawal-7", Decimal("10.00"))
    stale = body.replace(str(now).encode(), b"1000000000")
    with pytest.raises(WebhookInvalid) as refused:
        adapter.parse_webhook(headers={**headers, "X-Razorpay-Signature": hmac_sha256("payouts-hook-secret", stale)},
                              body=stale)
    assert refused.value.reason == "stale"
