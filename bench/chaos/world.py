"""The world a run starts from, made through the real services (as bench/buy.py does):
verified, funded investors with a verified bank account, financed invoices cut into
offerings, primary listings, and some units already in the investors' hands so they can sell.

- `hot`: one offering and one big primary listing everyone buys from; every secondary
  listing and bid is on that one offering, so every operation contends on a few rows.
- `spread`: eight offerings with three primary listings each; contention is rare."""

import random
from dataclasses import dataclass, field
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

    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        from accounts.services import token_for_user
        from bench.buy import market_world, offering_of
        from kyc.models import BankAccount
        from tests.trading.factories import trader
        from trading.services import listing_buy, listing_post_primary

        world = market_world()

        def offering(units: int):
            return offering_of(world, units=units, price=PRICE)

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
