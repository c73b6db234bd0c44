"""The payment sandbox's hosted page: a gateway deposit made through the API is paid on the
page in a real browser, and the wallet shows the money."""

import pytest

from accounts.services import token_for_user
from tests.wallet.factories import verified_investor
from wallet.enums import DepositStatus
from wallet.models import Deposit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sandbox_page_completes_a_deposit_and_the_wallet_shows_it(page, assert_reconciled):
    investor = verified_investor()
    auth = {"Authorization": f"Bearer {token_for_user(investor).access_token}"}

    created = page.request.post("/api/v1/wallet/deposits/", headers=auth,
                                data={"amount": "1500.00", "method": "gateway"})
    assert created.status == 201, created.text()
    deposit = created.json()
    assert deposit["status"] == "pending"
    assert deposit["payment_url"].startswith(page.base_url + "/sandbox/payments/")

    page.goto(deposit["payment_url"])
    assert page.locator(".amount").inner_text() == "₹1500.00"
    page.click("button.pay")
    page.wait_for_selector("#outcome")
    assert page.locator("#status").inner_text() == "Credited"
    assert page.locator("button.pay").count() == 0  # nothing left to pay

    wallet = page.request.get("/api/v1/wallet/", headers=auth)
    assert wallet.status == 200
    assert wallet.json()["available"] == "1500.00"
    assert Deposit.objects.get(pk=deposit["id"]).status == DepositStatus.CREDITED
    assert_reconciled()
