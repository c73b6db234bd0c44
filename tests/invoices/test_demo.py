import random

import pytest

from accounts.enums import Role
from accounts.services import staff_create
from core.management.commands.seed_demo_data import World
from invoices import demo
from invoices.enums import FinanceRequestStatus, InvoiceStatus
from invoices.models import FinanceRequest, Invoice

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_financed_invoice_through_the_services(assert_reconciled):
    world = World(rng=random.Random(2026), investors=0, offerings=0)
    world.users[Role.ADMIN] = staff_create(phone="9190000000", role=Role.ADMIN).user
    demo.seed(world)
    assert Invoice.objects.filter(status=InvoiceStatus.FINANCED).count() == 2
    assert Invoice.objects.filter(status=InvoiceStatus.PARTIALLY_SETTLED).count() == 1
    assert FinanceRequest.objects.filter(status=FinanceRequestStatus.AWAITING_SIGNATURES).count() == 1
    assert len(world.financed_invoices) == 3
    assert_reconciled()
