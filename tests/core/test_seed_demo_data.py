"""`manage.py seed_demo_data` on PostgreSQL: a small world, through the services, with every
thing the demo promises, and books that reconcile."""

import io

import pytest
from django.core.management import call_command

from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _values(model, field: str) -> set[str]:
    return set(model.objects.values_list(field, flat=True))


def test_seed_builds_a_living_world_with_clean_books(assert_reconciled):
    from accounts.enums import STAFF_ROLES
    from accounts.models import User
    from bidding.models import Bid
    from invoices.models import Invoice, Party, Program
    from servicing.models import Distribution
    from tax.models import TDSDeduction
    from trading.models import Listing, Offering, Trade
    from wallet.models import Deposit, Withdrawal

    out = io.StringIO()
    call_command("seed_demo_data", "--force", "--no-progress", "--seed", "7", "--investors", "6",
                 "--offerings", "5", stdout=out)

    assert _values(User, "role") >= {*STAFF_ROLES, "investor"}
    assert Party.objects.count() >= 2 and Program.objects.count() >= 1
    assert "financed" in _values(Invoice, "status")
    assert _values(Offering, "schedule_kind") == {"bullet", "equal_principal", "amortizing", "balloon",
                                                 "interest_only"}
    assert _values(Listing, "kind") == {"primary", "secondary"}
    assert Trade.objects.filter(listing__kind="secondary").exists()
    assert _values(Bid, "status") == {"open", "accepted", "partially_accepted", "withdrawn", "rejected", "expired"}
    assert _values(Deposit, "status") == {"pending", "pending_verification", "credited", "rejected", "failed"}
    assert _values(Withdrawal, "status") == {"paid", "failed", "reversed", "processing"}
    assert _values(Distribution, "status") == {"paid"}
    assert TDSDeduction.objects.filter(tds__gt=0).exists()
    summary = out.getvalue()
    assert "totp_secret=" in summary and "role=investor  phone=+9191" in summary
    assert "Bid: accepted 1, expired 1" in summary
    assert_reconciled()
    assert call_command("reconcile", stdout=io.StringIO()) is None  # exits non-zero on any difference


def test_seed_once_does_nothing_the_second_time():
    from accounts.models import User

    call_command("seed_demo_data", "--force", "--no-progress", "--investors", "4", "--offerings", "1",
                 stdout=io.StringIO())
    users = User.objects.count()
    out = io.StringIO()
    call_command("seed_demo_data", "--force", "--no-progress", "--once", stdout=out)
    assert "already loaded" in out.getvalue()
    assert User.objects.count() == users


def test_seed_refuses_with_debug_off_unless_forced():
    from django.core.management.base import CommandError

    from accounts.models import User

    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo_data", "--no-progress", stdout=io.StringIO())
    assert not User.objects.exists()
