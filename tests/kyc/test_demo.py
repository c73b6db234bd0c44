import io
import random

import pytest

from accounts.enums import Role
from accounts.models import User
from core.management.commands.seed_demo_data import World
from kyc import demo, selectors
from kyc.enums import KYCStatus
from kyc.models import KYCProfile


@pytest.mark.django_db
def test_the_demo_verifies_the_first_investors_and_queues_one_for_review(django_capture_on_commit_callbacks):
    investors = [User.objects.create(phone=f"+91910000000{n}", name=f"Demo Investor {n}", role=Role.INVESTOR)
                 for n in range(1, 6)]
    world = World(rng=random.Random(1), investors=5, offerings=0, users={"investors": investors},
                  out=io.StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed(world)
    assert [selectors.user_can_trade(user=user) for user in investors] == [True, True, True, False, False]
    assert KYCProfile.objects.get(user=investors[3]).status == KYCStatus.MANUAL_REVIEW
    assert not KYCProfile.objects.filter(user=investors[4]).exists()
    assert all(selectors.bank_account_primary_for_user(user=user) for user in investors[:3])
