import random

import pytest

from bidding.models import Bid
from core.management.commands.seed_demo_data import World

pytestmark = pytest.mark.django_db


def test_the_demo_leaves_bids_in_several_states_with_clean_books(assert_books_clean):
    from accounts import demo as accounts_demo
    from bidding import demo as bidding_demo
    from invoices import demo as invoices_demo
    from kyc import demo as kyc_demo
    from wallet import demo as wallet_demo

    world = World(rng=random.Random(2026), investors=4, offerings=2)
    for module in (accounts_demo, kyc_demo, wallet_demo, invoices_demo, bidding_demo):
        module.seed(world)

    assert sorted(Bid.objects.values_list("status", flat=True)) == [
        "accepted", "expired", "open", "partially_accepted", "rejected", "withdrawn"]
    assert Bid.objects.get(status="open").expires_at is not None
    partial = Bid.objects.get(status="partially_accepted")
    assert partial.units_filled > 0 and partial.held_amount > 0
    assert_books_clean()
