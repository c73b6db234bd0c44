from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from werkzeug import Response

from core.audit import AuditEvent
from integrations.models import ApiCall
from kyc import selectors, services
from kyc.enums import BankAccountStatus, KYCStatus
from kyc.models import BankAccount
from tests.accounts.factories import UserFactory
from tests.kyc.factories import BankAccountFactory, KYCProfileFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/bank-accounts/"


@pytest.fixture
def kyc(investor):
    return KYCProfileFactory(user=investor, full_name="Asha Rao", status=KYCStatus.VERIFIED)


def add(client, run_on_commit, account_number="123456789012", holder_name="Asha Rao", ifsc="HDFC0001234"):
    with run_on_commit():
        return client.post(URL, {"account_number": account_number, "ifsc": ifsc, "holder_name": holder_name})


def test_penny_drop_verifies_and_the_first_account_is_primary(investor, investor_client, kyc, run_on_commit, events):
    response = add(investor_client, run_on_commit)
    assert response.status_code == 201, response.json()
    account = BankAccount.objects.get(user=investor)
    body = investor_client.get(f"{URL}{account.id}/").json()
    assert body["masked_account_number"] == "XXXXXXXX9012"
    assert "123456789012" not in str(body)
    assert (body["status"], body["name_match"], body["is_primary"]) == ("verified", "100.00", True)
    assert events == [("bank_account.verified", {"user_id": investor.id, "bank_account_id": account.id})]
    assert investor_client.get("/api/v1/me/").json()["onboarding"] == {
        "kyc_status": "verified", "bank_status": "verified", "wallet_ready": True, "can_trade": True}


def test_sandbox_account_ending_000_fails(investor, investor_client, kyc, run_on_commit, events):
    add(investor_client, run_on_commit, account_number="123456789000")
    account = BankAccount.objects.get(user=investor)
    assert (account.status, account.is_primary) == (BankAccountStatus.FAILED, False)
    assert "Penny drop failed" in account.status_reason
    assert events == [("bank_account.failed", {"user_id": investor.id, "bank_account_id": account.id})]
    assert investor_client.get("/api/v1/me/").json()["onboarding"]["can_trade"] is False


def test_a_holder_name_that_does_not_match_kyc_fails(investor, investor_client, kyc, run_on_commit):
    add(investor_client, run_on_commit, holder_name="Vikram Mehta")
    account = BankAccount.objects.get(user=investor)
    assert account.status == BankAccountStatus.FAILED and account.name_match < 80
    assert "does not match your KYC name" in account.status_reason


def test_a_failed_account_may_be_added_again(investor, investor_client, kyc, run_on_commit):
    add(investor_client, run_on_commit, holder_name="Vikram Mehta")
    response = add(investor_client, run_on_commit, holder_name="Asha Rao")
    assert response.status_code == 201
    [account] = BankAccount.objects.filter(user=investor)
    assert (account.status, account.holder_name) == (BankAccountStatus.VERIFIED, "Asha Rao")


def test_the_same_account_twice_is_refused(investor, investor_client, kyc, run_on_commit):
    add(investor_client, run_on_commit)
    response = add(investor_client, run_on_commit, account_number="1234 5678 9012")
    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "bank_account_exists"
    assert BankAccount.objects.filter(user=investor).count() == 1


def test_a_bank_account_needs_submitted_kyc(investor, investor_client, run_on_commit):
    response = add(investor_client, run_on_commit)
    assert response.status_code == 403 and response.json()["errors"][0]["code"] == "kyc_required"
    assert not BankAccount.objects.exists()


@pytest.mark.parametrize(("field", "value", "code"), [
    ("ifsc", "HDFC1001234", "ifsc_invalid_format"),
    ("account_number", "12AB56789", "account_number_invalid_format"),
])
def test_bad_ifsc_or_account_number_is_a_400(investor_client, kyc, run_on_commit, field, value, code):
    with run_on_commit():
        response = investor_client.post(URL, {"account_number": "123456789012", "ifsc": "HDFC0001234",
                                              "holder_name": "Asha Rao", field: value})
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert not BankAccount.objects.exists()


def test_the_account_number_is_not_stored_in_plain_text(investor, investor_client, kyc, run_on_commit):
    add(investor_client, run_on_commit, account_number="987654321012")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM kyc_bankaccount WHERE user_id = %s", [investor.id])
        raw = " ".join(str(value) for value in cursor.fetchone())
        cursor.execute("SELECT account_number FROM kyc_bankaccount WHERE user_id = %s", [investor.id])
        [column] = cursor.fetchone()
    assert "987654321012" not in raw and "4321012" not in raw
    assert column.startswith("gAAAAA")
    assert BankAccount.objects.get(user=investor).account_number == "987654321012"


def test_another_users_bank_account_is_not_found(investor, investor_client):
    theirs = BankAccountFactory(user=UserFactory())
    response = investor_client.get(f"{URL}{theirs.id}/")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"
    assert investor_client.post(f"{URL}{theirs.id}/make-primary/").status_code == 404
    from core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.bank_account_get_for_user(user=investor, bank_account_id=theirs.id)
    assert investor_client.get(URL).json()["count"] == 0


def test_make_primary_moves_the_flag_and_needs_a_verified_account(investor, investor_client):
    first = BankAccountFactory(user=investor, status=BankAccountStatus.VERIFIED, is_primary=True)
    second = BankAccountFactory(user=investor, status=BankAccountStatus.VERIFIED)
    pending = BankAccountFactory(user=investor)
    refused = investor_client.post(f"{URL}{pending.id}/make-primary/")
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "invalid_state"
    response = investor_client.post(f"{URL}{second.id}/make-primary/")
    assert response.status_code == 200 and response.json()["is_primary"] is True
    assert list(BankAccount.objects.filter(user=investor, is_primary=True).values_list("id", flat=True)) == [
        second.id]
    first.refresh_from_db()
    assert first.is_primary is False
    assert AuditEvent.objects.filter(action="bank_account.made_primary", target_id=str(second.id)).exists()


def test_the_list_costs_a_fixed_number_of_queries(investor, investor_client, django_assert_max_num_queries):
    BankAccountFactory.create_batch(2, user=investor)
    with django_assert_max_num_queries(4):
        first = investor_client.get(URL)
    BankAccountFactory.create_batch(5, user=investor)
    with django_assert_max_num_queries(4):
        second = investor_client.get(URL)
    assert (first.json()["count"], second.json()["count"]) == (2, 7)
    assert all(row["masked_account_number"].startswith("XXXX") for row in second.json()["results"])


# --- RazorpayX over HTTP -------------------------------------------------------------------

SECRET = "rzp-secret-xyz"


@pytest.fixture
def razorpayx(httpserver, settings):
    settings.BANK_PROVIDER = "razorpayx"
    settings.RAZORPAYX_BASE_URL = httpserver.url_for("/v1")
    settings.RAZORPAYX_KEY_ID = "rzp_key"
    settings.RAZORPAYX_KEY_SECRET = SECRET
    settings.RAZORPAYX_ACCOUNT_NUMBER = "7878780080316316"
    settings.INTEGRATION_MAX_RETRIES = 1
    return httpserver


@pytest.fixture
def pending_account(investor, kyc):
    return BankAccountFactory(user=investor, account_number="123456789012", holder_name="Asha Rao",
                              next_attempt_at=timezone.now())


def test_razorpayx_completed_validation_verifies(razorpayx, pending_account):
    razorpayx.expect_oneshot_request("/v1/fund_accounts/validations", method="POST").respond_with_json(
        {"id": "fav_1", "status": "completed", "results": {"account_status": "active", "registered_name": "ASHA RAO"}})
    services.bank_account_verify(bank_account_id=pending_account.id)
    request, _ = razorpayx.log[0]
    assert request.json["fund_account"]["bank_account"] == {
        "name": "Asha Rao", "ifsc": "HDFC0001234", "account_number": "123456789012"}
    assert request.authorization.username == "rzp_key"
    assert request.headers["X-Payout-Idempotency"] == f"bank-account-{pending_account.id}"
    pending_account.refresh_from_db()
    assert (pending_account.status, pending_account.provider_reference, pending_account.registered_name) == (
        BankAccountStatus.VERIFIED, "fav_1", "ASHA RAO")


def test_razorpayx_invalid_account_fails(razorpayx, pending_account):
    razorpayx.expect_oneshot_request("/v1/fund_accounts/validations").respond_with_json(
        {"id": "fav_2", "status": "completed", "results": {"account_status": "invalid", "registered_name": None}})
    services.bank_account_verify(bank_account_id=pending_account.id)
    pending_account.refresh_from_db()
    assert pending_account.status == BankAccountStatus.FAILED


def test_razorpayx_open_validation_is_polled_not_sent_again(razorpayx, pending_account):
    razorpayx.expect_oneshot_request("/v1/fund_accounts/validations", method="POST").respond_with_json(
        {"id": "fav_3", "status": "created", "results": {}})
    services.bank_account_verify(bank_account_id=pending_account.id)
    pending_account.refresh_from_db()
    assert (pending_account.status, pending_account.provider_reference) == (BankAccountStatus.PENDING, "fav_3")

    razorpayx.expect_oneshot_request("/v1/fund_accounts/validations/fav_3", method="GET").respond_with_json(
        {"id": "fav_3", "status": "completed", "results": {"account_status": "active", "registered_name": "Asha Rao"}})
    services.verification_sweep(now=timezone.now() + timedelta(minutes=5))
    pending_account.refresh_from_db()
    assert pending_account.status == BankAccountStatus.VERIFIED
    assert [r.method for r, _ in razorpayx.log] == ["POST", "GET"]


def test_razorpayx_error_is_not_retried_blindly_and_stays_pending(razorpayx, pending_account):
    razorpayx.expect_request("/v1/fund_accounts/validations").respond_with_response(
        Response(f"bad gateway {SECRET}", status=502))
    services.bank_account_verify(bank_account_id=pending_account.id)
    assert len(razorpayx.log) == 1  # moving money: no blind retry
    pending_account.refresh_from_db()
    assert (pending_account.status, pending_account.attempts) == (BankAccountStatus.PENDING, 1)
    call = ApiCall.objects.get(service="bank")
    assert call.outcome == "error" and SECRET not in call.error
