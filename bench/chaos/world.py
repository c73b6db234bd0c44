"""The world a run starts from, made through the real services (as bench/buy.py does):
verified, funded investors with a verified bank account, financed invoices cut into
offerings, primary listings, and some units already in the investors' hands so they can sell.

- `hot`: one offering and one big primary listing everyone buys from; every secondary
  listing and bid is on that one offering, so every operation contends on a few rows.
- `spread`: eight offerings with three primary listings each; contention is rare."""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

PRICE = Decimal("1000.00")


@dataclass
class Investor:
    user_id: int
    token: str
    bank_account_id: int
    rich: bool


@dataclass
class Listing:
    listing_id: int
    offering_id: int
    price: Decimal
    seller_id: int | None  # None: the platform's inventory


@dataclass
class World:
    config: str
    investors: list[Investor]
    offerings: list[int]
    primary: list[Listing]
    holdings: dict[tuple[int, int], int] = field(default_factory=dict)  # (user, offering) -> units


def seed(*, config: str, investors: int, rng: random.Random) -> World:
    from django.test.utils import override_settings
    from django.utils import timezone

    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        from accounts.services import token_for_user
        from invoices.models import Counterparty, Program
        from invoices.services.financing import (
            finance_request_create,
            finance_request_disburse,
            finance_request_sign,
        )
        from kyc.models import BankAccount
        from tests.invoices.conftest import build_world
        from tests.invoices.factories import InvoiceFactory
        from tests.trading.factories import trader
        from trading.services import listing_buy, listing_post_primary, offering_fractionalize

        world = build_world(signatures_required=1)
        Program.objects.filter(pk=world.program.pk).update(max_limit_amount=Decimal("1e12"),
                                                           max_invoice_amount=Decimal("1e10"))
        Counterparty.objects.filter(pk=world.counterparty.pk).update(limit_amount=Decimal("1e12"))
        world.program.refresh_from_db()
        world.counterparty.refresh_from_db()

        def offering(units: int):
            today = timezone.localdate()
            # 80% of the invoice is financed, in units of ₹1,000.
            invoice = InvoiceFactory(counterparty=world.counterparty, amount=PRICE * units * 5 / 4,
                                     issue_date=today, due_date=today + timedelta(days=120))
            request = finance_request_create(invoice=invoice, actor=world.signer_a)
            finance_request_sign(finance_request=request, actor=world.signer_a)
            finance_request_disburse(finance_request=request, actor=world.admin)
            return offering_fractionalize(organization=world.organization, invoice_id=invoice.pk, total_units=units,
                                          schedule_kind="bullet", price_per_unit=PRICE, created_by=world.admin)

        def post(offering_id: int, units: int) -> Listing:
            made = listing_post_primary(organization=world.organization, offering_id=offering_id, units=units,
                                        price_per_unit=PRICE, created_by=world.admin)
            return Listing(listing_id=made.pk, offering_id=offering_id, price=PRICE, seller_id=None)

        if config == "hot":
            offerings = [offering(80_000).pk]
            primary = [post(offerings[0], 70_000)]
        else:
            offerings = [offering(800).pk for _ in range(8)]
            primary = [post(offering_id, 200) for offering_id in offerings for _ in range(3)]

        people, holdings = [], {}
        for number in range(investors):
            rich = number % 6 != 5  # one in six can afford little: insufficient funds happen too
            user = trader("5000000.00" if rich else "3000.00")
            bank_account = BankAccount.objects.filter(user=user).values_list("pk", flat=True).first()
            people.append(Investor(user_id=user.pk, token=str(token_for_user(user).access_token),
                                   bank_account_id=bank_account, rich=rich))
            if rich:  # some units to sell from the start
                for listing in rng.sample(primary, k=min(2, len(primary))):
                    listing_buy(buyer=user, listing_id=listing.listing_id, units=10)
                    key = (user.pk, listing.offering_id)
                    holdings[key] = holdings.get(key, 0) + 10
    return World(config=config, investors=people, offerings=offerings, primary=primary, holdings=holdings)
