from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.enums import Role
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate
from tests.wallet.factories import PDF_BYTES, PNG_BYTES, verified_investor
from wallet.enums import DepositStatus
from wallet.models import Deposit, JournalEntry
from wallet.selectors import wallet_balance

pytestmark = pytest.mark.django_db
DEPOSITS = "/api/v1/wallet/deposits/"


def upload(content=PNG_BYTES, name="proof.png"):
    return SimpleUploadedFile(name, content, content_type="image/png")


def submit(client, *, amount="500.00", method="bank_transfer", reference="UTR123456", proof=None, key=None):
    data = {"amount": amount, "method": method, "reference": reference}
    if proof is not False:
        data["proof"] = proof or upload()
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(DEPOSITS, data, format="multipart", **extra)


def test_an_offline_deposit_waits_for_verification(kyc_client, kyc_investor):
    response = submit(kyc_client, proof=upload(PDF_BYTES, "slip.pdf"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending_verification" and body["payment_url"] is None
    assert wallet_balance(user=kyc_investor).available == 0
    assert Deposit.objects.get().proof.name.endswith(".pdf")


@pytest.mark.parametrize(("reference", "proof", "code"), [
    ("", None, "proof_required"),
    ("UTR1", False, "proof_required"),
    ("UTR1", SimpleUploadedFile("fake.pdf", b"just some text, not a pdf", content_type="application/pdf"),
     "proof_invalid"),
    ("UTR1", SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024),
                                content_type="image/png"), "proof_invalid"),
])
def test_offline_deposits_need_a_reference_and_a_real_proof(kyc_client, reference, proof, code):
    response = submit(kyc_client, reference=reference, proof=proof)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert not Deposit.objects.exists()


def test_a_reference_can_fund_one_deposit_only(kyc_client):
    assert submit(kyc_client, reference="UTR-1").status_code == 201
    again = submit(kyc_client, reference="UTR-1")
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "duplicate_reference"
    assert Deposit.objects.count() == 1


def test_a_verifier_approves_and_the_money_is_credited_once(kyc_client, kyc_investor, verifier_client,
                                                            assert_reconciled):
    deposit_id = submit(kyc_client).json()["id"]
    queue = verifier_client.get("/api/v1/verifier/deposits/").json()
    assert [row["id"] for row in queue["results"]] == [deposit_id]
    assert queue["results"][0]["proof_url"] == f"/api/v1/verifier/deposits/{deposit_id}/proof/"
    proof = verifier_client.get(f"/api/v1/verifier/deposits/{deposit_id}/proof/")
    assert proof.status_code == 200 and b"".join(proof.streaming_content) == PNG_BYTES

    approved = verifier_client.post(f"/api/v1/verifier/deposits/{deposit_id}/approve/", {"note": "seen in bank"})
    assert approved.status_code == 200 and approved.json()["status"] == "credited"
    twice = verifier_client.post(f"/api/v1/verifier/deposits/{deposit_id}/approve/", {})
    assert twice.status_code == 409 and twice.json()["errors"][0]["code"] == "invalid_state"
    assert wallet_balance(user=kyc_investor).available == Decimal("500.00")
    assert JournalEntry.objects.filter(kind="deposit").count() == 1
    assert verifier_client.get("/api/v1/verifier/deposits/").json()["results"] == []
    assert_reconciled()


def test_a_verifier_rejects_with_a_note(kyc_client, kyc_investor, verifier_client):
    deposit_id = submit(kyc_client).json()["id"]
    missing_note = verifier_client.post(f"/api/v1/verifier/deposits/{deposit_id}/reject/", {})
    assert missing_note.status_code == 400
    rejected = verifier_client.post(f"/api/v1/verifier/deposits/{deposit_id}/reject/", {"note": "no such UTR"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["note"] == "no such UTR"
    assert wallet_balance(user=kyc_investor).available == 0
    # The reference is free again once rejected.
    assert submit(kyc_client).status_code == 201


def test_a_verifier_cannot_approve_their_own_deposit(db):
    from kyc.enums import KYCStatus
    from tests.kyc.factories import KYCProfileFactory

    verifier = UserFactory(role=Role.VERIFIER, is_staff=True)
    KYCProfileFactory(user=verifier, status=KYCStatus.VERIFIED)
    client = authenticate(APIClient(), verifier)
    deposit_id = submit(client).json()["id"]
    response = client.post(f"/api/v1/verifier/deposits/{deposit_id}/approve/", {})
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "cannot_verify_own_deposit"
    assert Deposit.objects.get().status == DepositStatus.PENDING_VERIFICATION
    assert wallet_balance(user=verifier).available == 0


def test_investors_cannot_use_the_verifier_queue(kyc_client):
    deposit_id = submit(kyc_client).json()["id"]
    assert kyc_client.get("/api/v1/verifier/deposits/").status_code == 403
    assert kyc_client.post(f"/api/v1/verifier/deposits/{deposit_id}/approve/", {}).status_code == 403
    assert kyc_client.get(f"/api/v1/verifier/deposits/{deposit_id}/proof/").status_code == 403
    assert Deposit.objects.get().status == DepositStatus.PENDING_VERIFICATION


def test_the_verifier_queue_costs_a_fixed_number_of_queries(verifier_client, django_assert_max_num_queries):
    for _ in range(3):
        user = verified_investor()
        submit(authenticate(APIClient(), user), reference=f"UTR-{user.pk}")
    with django_assert_max_num_queries(4):
        response = verifier_client.get("/api/v1/verifier/deposits/")
    assert len(response.json()["results"]) == 3
