import re

import pytest
from rest_framework.test import APIClient

from integrations.models import OutboundMessage


@pytest.mark.django_db(transaction=True)
def test_from_sign_up_to_can_trade_through_the_api_alone():
    """Real commits (no captured callbacks): the verification tasks run after each commit,
    as they do in production, eagerly here."""
    client = APIClient()
    phone = "+919812345678"
    assert client.post("/api/v1/auth/otp/", {"phone": phone}).status_code == 202
    code = re.search(r"\b(\d{6})\b", OutboundMessage.objects.filter(to=phone).latest("id").body).group(1)
    signed_in = client.post("/api/v1/auth/otp/verify/", {"phone": phone, "otp": code})
    assert signed_in.status_code == 200, signed_in.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['access']}")
    assert client.get("/api/v1/me/").json()["onboarding"]["can_trade"] is False

    kyc = client.put("/api/v1/kyc/", {"kind": "individual", "full_name": "Meera Iyer", "pan": "ABCPI2468M",
                                      "date_of_birth": "1988-08-08", "address": "Chennai"})
    assert kyc.status_code == 200 and kyc.json()["status"] == "verified", kyc.json()
    bank = client.post("/api/v1/bank-accounts/", {"account_number": "50100012345678", "ifsc": "ICIC0000123",
                                                  "holder_name": "MEERA IYER"})
    assert bank.status_code == 201 and bank.json()["status"] == "verified", bank.json()

    assert client.get("/api/v1/me/").json()["onboarding"] == {
        "kyc_status": "verified", "bank_status": "verified", "wallet_ready": True, "can_trade": True}
