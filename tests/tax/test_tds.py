"""TDS as data: threshold and catch-up across a financial year boundary, Form 15G, the
rule in force by date, and the pure rule itself."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from accounts.enums import Role
from core.errors import DomainError
from servicing import services
from servicing.models import DistributionLine
from tax import rules as tax
from tax import services as tax_services
from tax.enums import DeductionReason
from tax.models import TaxRule, TDSDeduction
from tests.accounts.factories import UserFactory
from tests.servicing.factories import BUILT_ON, big_offering, holders, record
from tests.wallet.factories import PDF_BYTES

D = Decimal
pytestmark = pytest.mark.django_db


def _at(day: str):
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T12:00:00"))


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("15g.pdf", PDF_BYTES, content_type="application/pdf")


def test_financial_years():
    assert [tax.financial_year(dt.date(*d)) for d in ((2026, 3, 31), (2026, 4, 1), (2027, 1, 5))] == [
        "2025-26", "2026-27", "2026-27"]
    assert tax.financial_year_bounds("2026-27") == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    for bad in ("2026-28", "26-27", "2026", "abcd-ef"):
        with pytest.raises(ValueError):
            tax.financial_year_bounds(bad)


def test_seeded_rules_change_section_at_the_new_act():
    assert TaxRule.objects.count() == 2
    old, new = tax.tax_rule_in_force(day=dt.date(2026, 3, 31)), tax.tax_rule_in_force(day=dt.date(2026, 4, 1))
    assert (old.section, old.rate_with_pan, old.rate_without_pan, old.yearly_threshold) == (
        "194A", D("0.1000"), D("0.2000"), D("10000.00"))
    assert (new.section, new.rate_with_pan, new.rate_without_pan, new.yearly_threshold) == (
        "393(1)", D("0.1000"), D("0.2000"), D("10000.00"))
    with pytest.raises(DomainError) as caught:
        tax.tax_rule_in_force(day=dt.date(2025, 3, 31))  # before FY 2025-26: no rule seeded
    assert caught.value.code == "tax_rule_missing"


def test_the_rule_by_hand():
    rule = TaxRule(section="X", rate_with_pan=D("0.1"), rate_without_pan=D("0.2"), yearly_threshold=D("10000.00"),
                   effective_from=dt.date(2025, 4, 1))

    def decide(interest, so_far="0", taxed="0", cash=None, pan=True, declared=False):
        return tax.tds_for_line(rule=rule, interest=D(interest), line_cash=D(cash or interest),
                                interest_so_far=D(so_far), brought_to_tax=D(taxed), pan_valid=pan, declared=declared)

    assert decide("10000.00").tds == D("0.00")  # at the threshold: nothing
    crossing = decide("0.01", so_far="10000.00", cash="100000.00")  # catch-up on 10000.01
    assert (crossing.base, crossing.tds) == (D("10000.01"), D("1000.00"))
    after = decide("500.00", so_far="12000.00", taxed="12000.00")
    assert (after.base, after.tds, after.rate) == (D("500.00"), D("50.00"), D("0.1"))
    assert decide("500.00", so_far="12000.00", taxed="12000.00", pan=False).tds == D("100.00")
    declared = decide("50000.00", declared=True)
    assert (declared.tds, declared.base, declared.reason) == (D("0.00"), D("50000.00"), DeductionReason.DECLARATION)
    # A catch-up the line cannot bear is cut to what it can: 10% of 9999.99 + 2.00 = 1000.20 > 2.00.
    capped = decide("2.00", so_far="9999.99", cash="2.00")
    assert (capped.base, capped.tds) == (D("20.00"), D("2.00"))


def test_threshold_and_catch_up_across_the_financial_year_boundary_and_a_15g_holder(assert_books_clean):
    """Equal principal, three monthly flows of interest 187.16, 128.96 and 60.30 per unit.
    Two holders of 50 units: H (PAN verified) and G (Form 15G accepted for FY 2025-26).

    - 20 Mar 2026 (FY 2025-26, s.194A): flow 1, interest 50 × 187.16 = 9358.00 each — below
      ₹10,000: nothing withheld from H; G's line is recorded as declared.
    - 28 Mar 2026: flow 2, 50 × 128.96 = 6448.00 → H's year is 15806.00 > 10000: catch-up,
      10% of 15806.00 = 1580.60. G: declared again, nothing withheld.
    - 2 Apr 2026 (FY 2026-27, s.393(1)): flow 3, 50 × 60.30 = 3015.00 — a new year starts
      below the threshold: nothing withheld from anyone (G's 15G was for last year only).
    """
    # The schedule's periods (and so the interest per flow) follow the invoice's dates,
    # which the factories take from today: build it on a fixed day.
    with freeze_time(BUILT_ON):
        offering = big_offering(schedule_kind="equal_principal", frequency="monthly")
        (h, g), _listing = holders(offering, [50, 50])
    reviewer = UserFactory(role=Role.ADMIN)
    with freeze_time("2026-03-01 10:00:00+05:30"):
        declaration = tax_services.tax_declaration_submit(user=g, financial_year="2025-26", form="15G", file=_pdf())
        tax_services.tax_declaration_decide(actor=reviewer, declaration_id=declaration.pk, accept=True)

    first = record(offering, "685383.00", reference="M1")
    services.distribution_run(distribution_id=first.pk, now=_at("2026-03-20"))
    assert list(TDSDeduction.objects.values_list("user_id", "reason", "gross", "tds")) == [
        (g.pk, DeductionReason.DECLARATION, D("9358.00"), D("0.00"))]

    second = record(offering, "679563.00", reference="M2")
    services.distribution_run(distribution_id=second.pk, now=_at("2026-03-28"))
    h_row = TDSDeduction.objects.get(user=h)
    assert (h_row.section, h_row.financial_year, h_row.gross, h_row.rate, h_row.tds, h_row.net) == (
        "194A", "2025-26", D("15806.00"), D("0.1000"), D("1580.60"), D("14225.40"))
    assert DistributionLine.objects.get(distribution=second, user=h).tds == D("1580.60")
    assert DistributionLine.objects.get(distribution=second, user=g).tds == D("0.00")

    third = record(offering, "672696.00", reference="M3")
    services.distribution_run(distribution_id=third.pk, now=_at("2026-04-02"))
    assert list(DistributionLine.objects.filter(distribution=third).values_list("interest", "tds")) == [
        (D("3015.00"), D("0.00")), (D("3015.00"), D("0.00"))]
    assert TDSDeduction.objects.filter(financial_year="2026-27").count() == 0
    assert sum(TDSDeduction.objects.values_list("tds", flat=True)) == D("1580.60")
    offering.refresh_from_db()
    assert offering.status == "matured"
    assert_books_clean()
