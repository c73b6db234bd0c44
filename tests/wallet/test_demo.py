import random
from decimal import Decimal

import pytest

from core.management.commands.seed_demo_data import World
from wallet.enums import DepositStatus
from wallet.models import Deposit, Withdrawal
from wallet.selectors import wallet_balance

pytestmark = pytest.mark.django_db


def test_the_demo_funds_the_verified_investors_through_the_services(assert_reconciled):
    from accounts import demo as accounts_demo
    from kyc import demo as kyc_demo
    from wallet import demo as wallet_demo

    world = World(rng=random.Random(2026), investors=4, offerings=0)
    accounts_demo.seed(world)
    kyc_demo.seed(world)
    wallet_demo.seed(world)

    first = world.users["investors"][0]
    assert wallet_balance(user=first).available == Decimal("70000.00")  # 50,000 + 25,000 - 5,000
    assert Deposit.objects.filter(status=DepositStatus.PENDING_VERIFICATION).count() == 1
    assert Withdrawal.objects.get(user=first).amount == Decimal("5000.00")
    assert_reconciled()
