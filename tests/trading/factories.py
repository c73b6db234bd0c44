"""Trading test helpers: a disbursed invoice, its offering, listings and funded traders —
all made through the real services, so money and units balance from the start."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from invoices.services.financing import finance_request_create, finance_request_disburse, finance_request_sign
from tests.invoices.conftest import build_world
from tests.invoices.factories import InvoiceFactory
from tests.wallet.factories import fund, verified_bank_account, verified_investor
from trading.services import listing_post_primary, offering_fractionalize


def disbursed_invoice(*, amount: str = "100000.00", due_in_days: int = 90, world=None):
    """An invoice of `amount` whose finance (80% of it) has been signed and disbursed."""
    world = world or build_world(signatures_required=1)
    today = timezone.localdate()
    invoice = InvoiceFactory(counterparty=world.counterparty, amount=Decimal(amount), issue_date=today,
                             due_date=today + timedelta(days=due_in_days))
    request = finance_request_create(invoice=invoice, actor=world.signer_a)
    finance_request_sign(finance_request=request, actor=world.signer_a)
    finance_request_disburse(finance_request=request, actor=world.admin)
    return world, invoice


def make_offering(*, total_units: int = 100, schedule_kind: str = "bullet", frequency: str = "",
                  price_per_unit: str | None = "800.00", target_xirr: str | None = None,
                  balloon_share: str | None = None, **invoice_kwargs):
    world, invoice = disbursed_invoice(**invoice_kwargs)
    offering = offering_fractionalize(
        organization=world.organization, invoice_id=invoice.pk, total_units=total_units,
        schedule_kind=schedule_kind, frequency=frequency,
        balloon_share=None if balloon_share is None else Decimal(balloon_share),
        price_per_unit=None if price_per_unit is None else Decimal(price_per_unit),
        target_xirr=None if target_xirr is None else Decimal(target_xirr), created_by=world.admin,
    )
    offering.world = world
    return offering


def post_primary(offering, *, units: int = 100, price: str = "800.00", min_units: int = 1, **kwargs):
    return listing_post_primary(organization=offering.organization, offering_id=offering.pk,
                                units=units, price_per_unit=Decimal(price),
                                min_units=min_units, created_by=offering.world.admin, **kwargs)


def trader(balance: str = "0.00", **fields):
    """An investor who may trade (KYC and bank verified), with `balance` available."""
    user = verified_investor(**fields)
    verified_bank_account(user)
    if Decimal(balance):
        fund(user, balance)
    return user
