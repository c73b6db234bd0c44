import json
import time
from decimal import Decimal

import pytest

from integrations.payments import SandboxPayments
from wallet.enums import DepositStatus
from wallet.models import Deposit, JournalEntry, ProviderEvent
from wallet.selectors import wallet_balance

pytestmark = pytest.mark.django_db
WEBHOOK = "/api/v1/webhooks/payments/sandbox/"


def start_deposit(client, amount="250.00", key="k-1"):
    response = client.post("/api/v1/wallet/deposits/", {"amount": amount, "method": "gateway"},
                           HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.json()
    return response.json()


def deliver(api_client, headers, body):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()
             if name != "Content-Type"}
    return api_client.generic("POST", WEBHOOK, body, content_type="application/json", **extra)


def signed(deposit, event_type="payment.captured", **options):
    payment = Deposit.objects.get(pk=deposit["id"])
    return SandboxPayments().sign_webhook(event_type=event_type, payment_id=payment.provider_payment_id,
                                          amount=options.pop("amount", payment.amount), **options)


def test_a_gateway_deposit_returns_a_payment_url_and_moves_nothing(kyc_client, kyc_investor):
    body = start_deposit(kyc_client)
    deposit = Deposit.objects.get(pk=body["id"])
    assert body["status"] == "pending"
    assert body["payment_url"] == f"http://127.0.0.1:8000/sandbox/payments/{deposit.provider_payment_id}/"
    assert wallet_balance(user=kyc_investor).available == 0


def test_a_signed_captured_webhook_credits_once_and_replays_are_no_ops(kyc_client, kyc_investor, api_client,
                                                                      assert_reconciled):
    deposit = start_deposit(kyc_client)
    headers, body = signed(deposit, event_id="evt_1")
    first = deliver(api_client, headers, body)
    assert first.status_code == 200 and first.json() == {"outcome": "credited"}
    replay = deliver(api_client, headers, body)
    assert replay.status_code == 200 and replay.json() == {"outcome": "duplicate"}
    # Another event id for the same payment (the provider re-sent it as a new event).
    other_headers, other_body = signed(deposit, event_id="evt_2")
    assert deliver(api_client, other_headers, other_body).json() == {"outcome": "ignored"}

    assert wallet_balance(user=kyc_investor).available == Decimal("250.00")
    assert Deposit.objects.get(pk=deposit["id"]).status == DepositStatus.CREDITED
    assert JournalEntry.objects.filter(kind="deposit").count() == 1
    assert kyc_client.get(f"/api/v1/wallet/deposits/{deposit['id']}/").json()["status"] == "credited"
    assert_reconciled()


def test_a_bad_signature_is_refused_and_nothing_moves(kyc_client, kyc_investor, api_client):
    deposit = start_deposit(kyc_client)
    headers, body = signed(deposit)
    headers["X-Sandbox-Signature"] = "0" * 64
    response = deliver(api_client, headers, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "webhook_signature"
    # A body altered after signing fails too.
    headers, body = signed(deposit)
    tampered = body.replace(b'"250.00"', b'"2500.00"')
    assert deliver(api_client, headers, tampered).json()["errors"][0]["code"] == "webhook_signature"
    assert wallet_balance(user=kyc_investor).available == 0
    assert not ProviderEvent.objects.exists()


def test_a_stale_or_future_timestamp_is_refused(kyc_client, kyc_investor, api_client, settings):
    # A minute past the window either way: the clock moves between signing and checking, and the
    # exact boundary is held by tests/integrations/test_webhooks.py with a fixed clock.
    deposit = start_deposit(kyc_client)
    outside = settings.WEBHOOK_TOLERANCE_SECONDS + 60
    for moment in (int(time.time()) - outside, int(time.time()) + outside):
        headers, body = signed(deposit, timestamp=moment)
        response = deliver(api_client, headers, body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "webhook_stale"
    assert wallet_balance(user=kyc_investor).available == 0
    assert Deposit.objects.get(pk=deposit["id"]).status == DepositStatus.PENDING


def test_out_of_order_delivery(kyc_client, kyc_investor, api_client, assert_reconciled):
    # captured, then a late "failed": stays credited.
    first = start_deposit(kyc_client, "10.00", key="a")
    assert deliver(api_client, *signed(first, event_id="e1")).json() == {"outcome": "credited"}
    assert deliver(api_client, *signed(first, "payment.failed", event_id="e2")).json() == {"outcome": "ignored"}
    assert Deposit.objects.get(pk=first["id"]).status == DepositStatus.CREDITED
    # failed (a first attempt), then captured (a retry that succeeded): credited.
    second = start_deposit(kyc_client, "20.00", key="b")
    assert deliver(api_client, *signed(second, "payment.failed", event_id="e3")).json() == {"outcome": "failed"}
    assert Deposit.objects.get(pk=second["id"]).status == DepositStatus.FAILED
    assert deliver(api_client, *signed(second, event_id="e4")).json() == {"outcome": "credited"}
    assert wallet_balance(user=kyc_investor).available == Decimal("30.00")
    assert_reconciled()


def test_an_amount_mismatch_is_not_credited(kyc_client, kyc_investor, api_client):
    deposit = start_deposit(kyc_client)
    response = deliver(api_client, *signed(deposit, amount=Decimal("1.00")))
    assert response.json() == {"outcome": "amount_mismatch"}
    assert wallet_balance(user=kyc_investor).available == 0


def test_an_unknown_payment_or_provider_is_404_and_not_recorded(api_client):
    headers, body = SandboxPayments().sign_webhook(event_type="payment.captured", payment_id="sbxpay_nope",
                                                   amount=Decimal("1.00"))
    response = deliver(api_client, headers, body)
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "unknown_payment"
    assert not ProviderEvent.objects.exists()
    other = api_client.post("/api/v1/webhooks/payments/razorpay/", {}, format="json")
    assert other.status_code == 404


def test_a_malformed_body_is_refused(api_client):
    payments = SandboxPayments()
    timestamp = str(int(time.time()))
    body = b"not json"
    from integrations.webhooks import hmac_sha256

    headers = {"X-Sandbox-Timestamp": timestamp,
               "X-Sandbox-Signature": hmac_sha256(payments.secret, f"{timestamp}.".encode() + body)}
    response = deliver(api_client, headers, body)
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "webhook_malformed"


def test_deposits_need_verified_kyc(investor_client, investor):
    response = investor_client.post("/api/v1/wallet/deposits/", {"amount": "10.00", "method": "gateway"})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "kyc_required"
    assert not Deposit.objects.exists()


def test_the_sandbox_page_pays_through_a_signed_webhook(kyc_client, kyc_investor, client, assert_reconciled):
    deposit = start_deposit(kyc_client, "75.50")
    path = deposit["payment_url"].removeprefix("http://127.0.0.1:8000")
    page = client.get(path)
    assert page.status_code == 200
    assert b"75.50" in page.content and b'value="pay"' in page.content and b'value="fail"' in page.content
    paid = client.post(path, {"action": "pay"})
    assert paid.status_code == 200 and b"credited" in paid.content
    again = client.post(path, {"action": "pay"})
    assert b"ignored" in again.content
    assert wallet_balance(user=kyc_investor).available == Decimal("75.50")
    event = ProviderEvent.objects.get(outcome="credited")
    assert event.provider == "sandbox" and json.dumps(event.payload)
    assert_reconciled()


def test_the_sandbox_page_fail_button_marks_the_deposit_failed(kyc_client, kyc_investor, client):
    deposit = start_deposit(kyc_client)
    path = deposit["payment_url"].removeprefix("http://127.0.0.1:8000")
    assert b"failed" in client.post(path, {"action": "fail"}).content
    assert Deposit.objects.get(pk=deposit["id"]).status == DepositStatus.FAILED
    assert wallet_balance(user=kyc_investor).available == 0


def test_the_sandbox_page_is_gone_when_the_sandbox_is_off(kyc_client, client, settings):
    deposit = start_deposit(kyc_client)
    path = deposit["payment_url"].removeprefix("http://127.0.0.1:8000")
    settings.PAYMENT_PROVIDER = "razorpay"
    assert client.get(path).status_code == 404
    assert client.post(path, {"action": "pay"}).status_code == 404
