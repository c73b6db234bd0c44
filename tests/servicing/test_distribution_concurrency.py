"""Twice at once: the same distribution run by two workers, the same repayment recorded by
two admins, and a buy racing a distribution. Real threads on PostgreSQL."""

from decimal import Decimal

import pytest

from core import outbox
from servicing import services
from servicing.models import Distribution, DistributionLine
from tests.concurrency import run_concurrently
from tests.conftest import requires_postgres
from tests.trading.factories import trader
from trading.models import Holding
from trading.services import listing_buy
from wallet.models import JournalEntry

from .factories import big_offering, holders, record

pytestmark = [pytest.mark.django_db(transaction=True), requires_postgres]


def _together(*calls):
    return run_concurrently(list(calls))


@pytest.fixture
def no_worker():
    """Record without running: take the outbox handler away, so the distribution stays
    pending until the test runs it (as a worker would, later)."""
    handlers = outbox._handlers[services.RECORDED_TOPIC]
    saved = dict(handlers)
    handlers.clear()
    yield
    handlers.update(saved)


def test_the_same_distribution_run_twice_at_once_pays_once(assert_books_clean, no_worker):
    offering = big_offering()
    holders(offering, [60, 40])
    distribution = record(offering, "20000.00")
    assert distribution.status == "pending"

    results = _together(lambda: services.distribution_run(distribution_id=distribution.pk),
                        lambda: services.distribution_run(distribution_id=distribution.pk))
    assert all(isinstance(result, Distribution) for result in results), results
    assert DistributionLine.objects.count() == 2
    assert JournalEntry.objects.filter(kind="distribution").count() == 1
    assert_books_clean()


def test_recording_the_same_repayment_twice_at_once_records_one(assert_books_clean):
    offering = big_offering()
    holders(offering, [100])
    results = _together(lambda: record(offering, "5000.00", reference="UTR-SAME"),
                        lambda: record(offering, "5000.00", reference="UTR-SAME"))
    assert all(isinstance(result, Distribution) for result in results), results
    assert results[0].pk == results[1].pk
    assert Distribution.objects.count() == 1
    assert JournalEntry.objects.filter(kind="distribution.receipt").count() == 1
    assert JournalEntry.objects.filter(kind="distribution").count() == 1
    assert_books_clean()


def test_a_buy_racing_a_distribution_lands_wholly_before_or_after_it(assert_books_clean, no_worker):
    """The run locks every holding of the offering, so a buy either moves its units before
    the record date (the buyer is paid for them) or after (the seller is)."""
    offering = big_offering()
    _seller, listing = holders(offering, [50])  # 50 units left on the primary listing
    buyer = trader("2000000.00")
    distribution = record(offering, "10000.00")
    results = _together(lambda: listing_buy(buyer=buyer, listing_id=listing.pk, units=50),
                        lambda: services.distribution_run(distribution_id=distribution.pk))
    assert not any(isinstance(result, Exception) for result in results), results
    lines = {line.holding_id: line.units for line in DistributionLine.objects.filter(distribution=distribution)}
    assert sum(lines.values()) == 100
    inventory = Holding.objects.get(offering=offering, owner__isnull=True)
    buyer_holding = Holding.objects.get(offering=offering, owner=buyer)
    # Either the inventory was paid for 50 units (buy after), or the buyer was (buy before).
    assert {inventory.pk: 50}.items() <= lines.items() or {buyer_holding.pk: 50}.items() <= lines.items()
    assert sum(DistributionLine.objects.values_list("gross", flat=True)) == Decimal("10000.00")
    assert_books_clean()
