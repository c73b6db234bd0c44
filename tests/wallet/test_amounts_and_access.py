from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from tests.conftest import authenticate
from tests.wallet.factories import fund, verified_bank_account, verified_investor
from wallet.models import Deposit, JournalEntry, Withdrawal
from wallet.selectors import wallet_balance
from wallet.services import withdrawal_create

pytestmark = pytest.mark.django_db

BAD_AMOUNTS = ["-1.00", "0", "0.00", "1.234", "100000000000000000000", "10000000.01", "abc", "", "NaN",
               "Infinity", 12.5, None, True]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_deposit_amounts_are_400_and_nothing_moves(kyc_client, kyc_investor, amount):
    response = kyc_client.post("/api/v1/wallet/deposits/", {"amount": amount, "method": "gateway"}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == "amount"
    assert not Deposit.objects.exists()
    assert wallet_balance(user=kyc_investor).available == 0


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_withdrawal_amounts_are_400_and_nothing_moves(amount):
    user = verified_investor()
    fund(user, "100.00")
    client = authenticate(APIClient(), user)
    response = client.post("/api/v1/wallet/withdrawals/",
                           {"amount": amount, "bank_account": verified_bank_account(user).pk}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["attr"] == "amount"
    assert not Withdrawal.objects.exists()
    assert wallet_balance(user=user).available == Decimal("100.00")
    assert JournalEntry.objects.count() == 1


def test_another_users_deposit_and_withdrawal_are_404():
    owner = verified_investor()
    fund(owner, "100.00")
    deposit = Deposit.objects.create(user=owner, amount=Decimal("1.00"), method="gateway", status="pending")
    withdrawal = withdrawal_create(user=owner, amount=Decimal("5.00"),
                                   bank_account_id=verified_bank_account(owner).pk)
    stranger = authenticate(APIClient(), verified_investor())
    for path in (f"/api/v1/wallet/deposits/{deposit.pk}/", f"/api/v1/wallet/withdrawals/{withdrawal.pk}/"):
        response = stranger.get(path)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "not_found"
    assert stranger.get("/api/v1/wallet/deposits/").json()["results"] == []
    assert stranger.get("/api/v1/wallet/withdrawals/").json()["results"] == []


def test_the_wallet_needs_authentication(api_client):
    assert api_client.get("/api/v1/wallet/").status_code == 401
    assert api_client.post("/api/v1/wallet/withdrawals/", {"amount": "1.00", "bank_account": 1}).status_code == 401
