from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.enums import Role
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate
from tests.wallet.factories import verified_investor
from wallet.holds import register_hold_provider, unregister_hold_provider
from wallet.models import WalletHold


@pytest.fixture
def kyc_investor(db):
    return verified_investor()


@pytest.fixture
def kyc_client(kyc_investor) -> APIClient:
    return authenticate(APIClient(), kyc_investor)


@pytest.fixture
def verifier(db):
    return UserFactory(role=Role.VERIFIER, is_staff=True)


@pytest.fixture
def verifier_client(verifier) -> APIClient:
    return authenticate(APIClient(), verifier)


@pytest.fixture
def test_holds():
    """Tests own the `test:` hold references: this dict is what the owner expects held,
    registered as the `test` hold provider so `reconcile` checks the wallet against it."""
    expected: dict[str, Decimal] = {}
    register_hold_provider("test")(lambda: dict(expected))
    yield expected
    unregister_hold_provider("test")


@pytest.fixture
def open_holds():
    return lambda: {h.reference: h.amount for h in WalletHold.objects.filter(amount__gt=0)}
