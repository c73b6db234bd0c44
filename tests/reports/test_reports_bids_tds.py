"""The bids and TDS reports on hand-built data made through the real services."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from freezegun import freeze_time

from accounts.enums import Role
from bidding.services import bid_place, bid_reject, bid_withdraw
from servicing import services as servicing
from tax import services as tax_services
from tests.accounts.factories import UserFactory
from tests.reports.test_reports import URL, all_results, assert_exports_match_json
from tests.servicing.factories import BUILT_ON, big_offering, holders, record
from tests.trading.factories import make_offering, post_primary, trader
from tests.wallet.factories import PDF_BYTES
from trading.services import listing_buy, listing_post_secondary

pytestmark = pytest.mark.django_db


def test_bids_with_outcome_and_hours_to_outcome(admin_client, assert_books_clean, django_assert_max_num_queries):
    offering = make_offering(total_units=100, price_per_unit="800.00")
    seller, rejected_bidder, withdrawn_bidder, open_bidder = (trader("5000.00") for _ in range(4))
    primary = post_primary(offering, units=100, price="800.00")
    listing_buy(buyer=seller, listing_id=primary.pk, units=5)
    listing = listing_post_secondary(seller=seller, offering_id=offering.pk, units=5,
                                     price_per_unit=Decimal("900.00"))
    start = timezone.now() + dt.timedelta(minutes=1)
    first = bid_place(bidder=rejected_bidder, listing_id=listing.pk, units=2, price_per_unit=Decimal("850.00"),
                      now=start)
    second = bid_place(bidder=withdrawn_bidder, listing_id=listing.pk, units=1, price_per_unit=Decimal("800.00"),
                       now=start + dt.timedelta(minutes=1))
    third = bid_place(bidder=open_bidder, listing_id=listing.pk, units=1, price_per_unit=Decimal("820.00"),
                      now=start + dt.timedelta(minutes=2))
    bid_reject(seller=seller, bid_id=first.pk, now=start + dt.timedelta(hours=2, minutes=15))
    bid_withdraw(bidder=withdrawn_bidder, bid_id=second.pk, now=start + dt.timedelta(minutes=31))

    rows = assert_exports_match_json(admin_client, "bids")
    assert [(row["bid_id"], row["outcome"], row["units_filled"], row["units_open"], row["price_per_unit"],
             row["ask_price"], row["held_amount"], row["time_to_outcome"]) for row in rows] == [
        (first.pk, "rejected", 0, 0, "850.00", "900.00", "0.00", "2.25"),
        (second.pk, "withdrawn", 0, 0, "800.00", "900.00", "0.00", "0.50"),
        (third.pk, "open", 0, 1, "820.00", "900.00", "822.05", None),
    ]
    assert [row["bid_id"] for row in all_results(admin_client, "bids", status="open")] == [third.pk]
    with django_assert_max_num_queries(3):
        assert admin_client.get(URL.format("bids"), {"page_size": 1}).status_code == 200
    assert [row["bid_id"] for row in all_results(admin_client, "bids", bidder=rejected_bidder.pk)] == [first.pk]
    assert_books_clean()


@pytest.fixture
def tax_rules():
    importlib.import_module("tax.migrations.0004_seed_tax_rules").seed(apps, None)


def _at(day: str):
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T12:00:00"))


def test_tds_quarter_in_form_26q_columns(admin_client, tax_rules, assert_books_clean,
                                        django_assert_max_num_queries):
    """The servicing scenario of tests/tax/test_tds.py: H crosses the ₹10,000
    threshold on 28 Mar 2026 (catch-up 10% of 15806.00); G has a Form 15G for 2025-26."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kyc.models import KYCProfile

    # The schedule's periods (and so the interest per flow) follow the invoice's dates,
    # which the factories take from today: build it on a fixed day.
    with freeze_time(BUILT_ON):
        offering = big_offering(schedule_kind="equal_principal", frequency="monthly")
        (h, g), _listing = holders(offering, [50, 50])
    reviewer = UserFactory(role=Role.ADMIN)
    with freeze_time("2026-03-01 10:00:00+05:30"):
        declaration = tax_services.tax_declaration_submit(
            user=g, financial_year="2025-26", form="15G",
            file=SimpleUploadedFile("15g.pdf", PDF_BYTES, content_type="application/pdf"))
        tax_services.tax_declaration_decide(actor=reviewer, declaration_id=declaration.pk, accept=True)
    servicing.distribution_run(distribution_id=record(offering, "685383.00", reference="M1").pk,
                               now=_at("2026-03-20"))
    servicing.distribution_run(distribution_id=record(offering, "679563.00", reference="M2").pk,
                               now=_at("2026-03-28"))

    quarter = {"financial_year": "2025-26", "quarter": "Q4"}
    rows = assert_exports_match_json(admin_client, "tds", **quarter)
    h_pan, g_pan = (KYCProfile.objects.get(user=user).pan for user in (h, g))
    assert [(row["user_id"], row["pan"], row["section"], row["paid_on"], row["gross"], row["tds"], row["rate"],
             row["deducted_on"], row["remark"], row["net"]) for row in rows] == [
        (g.pk, g_pan, "194A", "2026-03-20", "9358.00", "0.00", "0", None, "B", "9358.00"),
        (h.pk, h_pan, "194A", "2026-03-28", "15806.00", "1580.60", "0.1", "2026-03-28", "", "14225.40"),
        (g.pk, g_pan, "194A", "2026-03-28", "6448.00", "0.00", "0", None, "B", "6448.00"),
    ]
    assert rows[1]["deductee_name"] == KYCProfile.objects.get(user=h).full_name
    assert all_results(admin_client, "tds", financial_year="2025-26", quarter="Q3") == []
    with django_assert_max_num_queries(3):
        assert admin_client.get(URL.format("tds"), {"page_size": 1, **quarter}).status_code == 200
    response = admin_client.get(URL.format("tds"), {"quarter": "Q4"})
    assert response.status_code == 400
    assert_books_clean()
