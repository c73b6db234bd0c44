"""Distributing repayments to holders: the worked example, shortfalls and arrears, sales
before the record date, idempotency, a crash mid-run, maturity, default."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone
from freezegun import freeze_time

from bidding.enums import BidStatus
from bidding.services import bid_place
from core.outbox import OutboxMessage
from kyc.enums import KYCStatus
from kyc.models import KYCProfile
from servicing import services
from servicing.enums import DistributionStatus
from servicing.models import Distribution, DistributionCashFlow, DistributionLine
from tax.enums import DeductionReason
from tax.models import TDSDeduction
from tests.trading.factories import trader
from trading.enums import ListingStatus, OfferingStatus, UnitTransferKind
from trading.models import Holding, Listing, OfferingCashFlow, UnitTransfer
from trading.services import listing_buy, listing_post_secondary
from wallet.enums import AccountKind
from wallet.models import JournalEntry
from wallet.selectors import wallet_balance, wallet_system_balance

from .factories import BUILT_ON, big_offering, holders, record

D = Decimal
pytestmark = pytest.mark.django_db


def _available(user) -> Decimal:
    return wallet_balance(user=user).available


def _system(kind: str, offering=None) -> Decimal:
    return wallet_system_balance(kind=kind, offering_id=offering.pk if offering else None)


def _lines(distribution) -> dict:
    return {line.user_id: (line.units, line.principal, line.interest, line.tds, line.net)
            for line in DistributionLine.objects.filter(distribution=distribution)}


def test_worked_example_three_holders_uneven_units_partial_repayment(assert_books_clean,
                                                                      django_capture_on_commit_callbacks):
    """Per unit the bullet schedule owes 20000.00 principal + 566.76 interest; 100 units, so
    2000000.00 + 56676.00. Holders by holding id: platform inventory 5, A 40, B 25, C 30
    (C's KYC is no longer verified: 20%). The business pays 1800000.01 before the due date.

    Split of 180000001 paise over (principal 200000000, interest 5667600):
      principal 175039725.27 → 175039725, interest 4960275.73 → 4960275, 1 paisa left goes
      to the larger remainder (interest): principal 1750397.25, interest 49602.76.
    Principal 175039725 paise by units 5/40/25/30:
      8751986.25, 70015890, 43759931.25, 52511917.5 → floors + 1 paisa to C (.5):
      87519.86, 700158.90, 437599.31, 525119.18.
    Interest 4960276 paise by units:
      248013.8, 1984110.4, 1240069, 1488082.8 → floors + 2 paise to the .8s (inventory, C):
      2480.14, 19841.10, 12400.69, 14880.83.
    TDS (all above ₹10,000 this year): A 10% of 19841.10 = 1984.11, B 10% of 12400.69 =
    1240.069 → 1240.07, C 20% of 14880.83 = 2976.166 → 2976.17.
    """
    offering = big_offering()
    cash_flow = offering.cash_flows.get()
    assert (cash_flow.principal, cash_flow.interest) == (D("20000.00"), D("566.76"))
    (a, b, c), _listing = holders(offering, [40, 25, 30])
    KYCProfile.objects.filter(user=c).update(status=KYCStatus.MANUAL_REVIEW)
    before = {user.pk: _available(user) for user in (a, b, c)}
    proceeds_before, fees_before = _system(AccountKind.PLATFORM_PROCEEDS), _system(AccountKind.FEES)
    bank_before = _system(AccountKind.BANK)

    with django_capture_on_commit_callbacks(execute=True):
        distribution = record(offering, "1800000.01")

    distribution.refresh_from_db()
    assert distribution.status == DistributionStatus.PAID
    assert (distribution.principal, distribution.interest, distribution.spread, distribution.tds) == (
        D("1750397.25"), D("49602.76"), D("0.00"), D("6200.35"))
    assert _lines(distribution) == {
        None: (5, D("87519.86"), D("2480.14"), D("0.00"), D("90000.00")),
        a.pk: (40, D("700158.90"), D("19841.10"), D("1984.11"), D("718015.89")),
        b.pk: (25, D("437599.31"), D("12400.69"), D("1240.07"), D("448759.93")),
        c.pk: (30, D("525119.18"), D("14880.83"), D("2976.17"), D("537023.84")),
    }
    assert {user.pk: _available(user) - before[user.pk] for user in (a, b, c)} == {
        a.pk: D("718015.89"), b.pk: D("448759.93"), c.pk: D("537023.84")}
    deductions = {d.user_id: (d.section, d.rate, d.gross, d.tds, d.net, d.pan_valid, d.reason)
                  for d in TDSDeduction.objects.all()}
    assert deductions == {
        a.pk: ("393(1)", D("0.1000"), D("19841.10"), D("1984.11"), D("17856.99"), True, DeductionReason.DEDUCTED),
        b.pk: ("393(1)", D("0.1000"), D("12400.69"), D("1240.07"), D("11160.62"), True, DeductionReason.DEDUCTED),
        c.pk: ("393(1)", D("0.2000"), D("14880.83"), D("2976.17"), D("11904.66"), False, DeductionReason.DEDUCTED),
    }
    assert TDSDeduction.objects.get(user=a).pan_masked.endswith(KYCProfile.objects.get(user=a).pan[-4:])
    # Money: the cash came in from the bank, through escrow, out to holders, tax and the platform.
    assert _system(AccountKind.BANK) - bank_before == D("-1800000.01")
    assert _system(AccountKind.ESCROW, offering) == D("0.00")
    assert _system(AccountKind.TDS_PAYABLE) == D("6200.35")
    assert _system(AccountKind.PLATFORM_PROCEEDS) - proceeds_before == D("90000.00")
    assert _system(AccountKind.FEES) == fees_before
    entry = JournalEntry.objects.get(kind="distribution")
    assert sum(t.amount for t in entry.transfers.all()) == D("1800000.01")
    # The schedule: paid so far, per unit rounded down (the exact totals are the parts).
    part = DistributionCashFlow.objects.get(distribution=distribution)
    assert (part.principal, part.interest) == (D("1750397.25"), D("49602.76"))
    cash_flow.refresh_from_db()
    assert (cash_flow.paid_principal, cash_flow.paid_interest) == (D("17503.97"), D("496.02"))
    offering.refresh_from_db()
    assert (offering.status, offering.days_past_due) == (OfferingStatus.POSTED, 0)  # 5 units unsold
    paid_event = OutboxMessage.objects.get(topic="distribution.paid")
    assert sorted(paid_event.payload["lines"], key=lambda line: line["user_id"]) == sorted([
        {"user_id": a.pk, "gross": "720000.00", "tds": "1984.11", "net": "718015.89"},
        {"user_id": b.pk, "gross": "450000.00", "tds": "1240.07", "net": "448759.93"},
        {"user_id": c.pk, "gross": "540000.01", "tds": "2976.17", "net": "537023.84"},
    ], key=lambda line: line["user_id"])
    assert_books_clean()


def test_full_repayment_pays_the_schedule_exactly_spread_to_fees_and_matures(assert_books_clean,
                                                                             django_capture_on_commit_callbacks):
    """Owed 2056676.00; received 2056799.45 → 123.45 spread. A holder's open sell post is
    closed (listing.closed published), every unit retired, the offering matured."""
    offering = big_offering()
    (a, b), _listing = holders(offering, [60, 40])
    post = listing_post_secondary(seller=b, offering_id=offering.pk, units=10, price_per_unit=D("20100.00"))
    bidder = trader("50000.00")
    bid = bid_place(bidder=bidder, listing_id=post.pk, units=2, price_per_unit=D("19000.00"))
    assert wallet_balance(user=bidder).held == bid.held_amount > 0
    fees_before = _system(AccountKind.FEES)

    with django_capture_on_commit_callbacks(execute=True):
        distribution = record(offering, "2056799.45")

    distribution.refresh_from_db()
    assert (distribution.principal, distribution.interest, distribution.spread, distribution.matured) == (
        D("2000000.00"), D("56676.00"), D("123.45"), True)
    # 60 × 566.76 = 34005.60 interest, TDS 3400.56; 40 × 566.76 = 22670.40, TDS 2267.04.
    assert _lines(distribution) == {
        a.pk: (60, D("1200000.00"), D("34005.60"), D("3400.56"), D("1230605.04")),
        b.pk: (40, D("800000.00"), D("22670.40"), D("2267.04"), D("820403.36")),
    }
    assert _system(AccountKind.FEES) - fees_before == D("123.45")
    offering.refresh_from_db()
    assert (offering.status, offering.days_past_due) == (OfferingStatus.MATURED, 0)
    assert list(Holding.objects.filter(offering=offering).values_list("units", "units_listed")) == [(0, 0)] * 3
    assert sorted(UnitTransfer.objects.filter(kind=UnitTransferKind.RETIRE, to_holding__isnull=True)
                  .values_list("units", flat=True)) == [40, 60]
    post.refresh_from_db()
    assert post.status == ListingStatus.CANCELLED
    assert OutboxMessage.objects.filter(topic="listing.closed", payload__listing_id=post.pk).exists()
    bid.refresh_from_db()
    assert bid.status == BidStatus.CLOSED  # bidding released it on `listing.closed`
    assert (wallet_balance(user=bidder).held, _available(bidder)) == (D("0.00"), D("50000.00"))
    cash_flow = offering.cash_flows.get()
    assert (cash_flow.paid_principal, cash_flow.paid_interest) == (D("20000.00"), D("566.76"))
    # A later repayment of a matured offering is refused.
    with pytest.raises(services.OfferingNotServiceable):
        record(offering, "10.00", reference="UTR-late")
    assert_books_clean()


@freeze_time(BUILT_ON)  # the interest per flow follows the days in each period from today
def test_shortfall_stays_due_shows_days_past_due_and_arrears_are_paid_first(assert_books_clean):
    """Equal principal, three monthly flows per unit (6666.67 + 187.16, 6666.67 + 128.96,
    6666.66 + 60.30), moved 70 days into the past so the first two are due. One holder
    with all 100 units (so amounts are plain multiples)."""
    offering = big_offering(schedule_kind="equal_principal", frequency="monthly")
    OfferingCashFlow.objects.filter(offering=offering).update(due_date=F("due_date") - timedelta(days=70))
    flows = list(offering.cash_flows.order_by("sequence"))
    holders(offering, [100])
    today = timezone.localdate()

    # 1) 300000.00 against flow 1 (owed 666667.00 + 18716.00 = 685383.00): shared in proportion.
    #    30000000 paise over (66666700, 1871600): 29180779.21 and 819220.79 → floors
    #    29180779 + 819220, the 1 paisa left to the larger remainder (interest, .79).
    first = services.distribution_run(distribution_id=record(offering, "300000.00", reference="R1").pk)
    part = DistributionCashFlow.objects.get(distribution=first)
    assert (part.cash_flow_id, part.principal, part.interest) == (flows[0].pk, D("291807.79"), D("8192.21"))
    # Still due: the rest of flow 1 and all of flow 2 (666667.00 + 12896.00 = 679563.00).
    assert first.shortfall == D("385383.00") + D("679563.00")
    assert (first.interest, first.tds) == (D("8192.21"), D("0.00"))  # below ₹10,000 this year: no TDS
    offering.refresh_from_db()
    assert offering.days_past_due == (today - flows[0].due_date).days == 40

    # 2) 1000000.00: arrears first — the rest of flow 1 (374859.21 + 10523.79 = 385383.00) —
    #    then 614617.00 of flow 2: 61461700 paise over (66666700, 1289600) → 60295347.38 and
    #    1166352.62 → 1 paisa to interest: 602953.47 + 11663.53.
    second = services.distribution_run(distribution_id=record(offering, "1000000.00", reference="R2").pk)
    parts = {p.cash_flow_id: (p.principal, p.interest) for p in DistributionCashFlow.objects.filter(
        distribution=second)}
    assert parts == {flows[0].pk: (D("374859.21"), D("10523.79")), flows[1].pk: (D("602953.47"), D("11663.53"))}
    assert second.shortfall == D("679563.00") - D("614617.00")
    # Catch-up: the year's interest is now 8192.21 + 22187.32 = 30379.53 > 10000, so 10% of all of it.
    deduction = TDSDeduction.objects.get()
    assert (deduction.gross, deduction.tds, deduction.net) == (D("30379.53"), D("3037.95"), D("27341.58"))
    assert second.tds == D("3037.95")
    flows[0].refresh_from_db()
    flows[1].refresh_from_db()
    assert (flows[0].paid_principal, flows[0].paid_interest) == (D("6666.67"), D("187.16"))
    assert (flows[1].paid_principal, flows[1].paid_interest) == (D("6029.53"), D("116.63"))  # rounded down
    offering.refresh_from_db()
    assert offering.days_past_due == (today - flows[1].due_date).days == 9
    # The beat job agrees, and reports no change.
    assert services.offering_days_past_due_refresh() == 0
    assert_books_clean()


def test_a_holder_who_sold_half_before_the_record_date_gets_half(assert_books_clean,
                                                                 django_capture_on_commit_callbacks):
    offering = big_offering()
    (seller, other), _listing = holders(offering, [50, 50])
    post = listing_post_secondary(seller=seller, offering_id=offering.pk, units=25, price_per_unit=D("20050.00"))
    listing_buy(buyer=other, listing_id=post.pk, units=25)

    with django_capture_on_commit_callbacks(execute=True):
        distribution = record(offering, "1028338.00")  # half of 2056676.00, exactly 10283.38 a unit

    lines = _lines(distribution)
    assert lines[seller.pk][:3] == (25, D("250000.00"), D("7084.50"))  # 25 × (10000.00 + 283.38)
    assert lines[other.pk][:3] == (75, D("750000.00"), D("21253.50"))
    assert_books_clean()


def test_the_same_distribution_twice_pays_once(assert_books_clean, django_capture_on_commit_callbacks):
    offering = big_offering()
    (holder,), _listing = holders(offering, [100])
    with django_capture_on_commit_callbacks(execute=True):
        distribution = record(offering, "1000.00")
    balance = _available(holder)
    again = services.distribution_run(distribution_id=distribution.pk)
    assert again.status == DistributionStatus.PAID
    assert _available(holder) == balance
    assert DistributionLine.objects.count() == 1
    assert JournalEntry.objects.filter(kind="distribution").count() == 1
    # Recording the same reference again returns the first; another amount is refused.
    assert record(offering, "1000.00").pk == distribution.pk
    with pytest.raises(services.RepaymentReferenceReused):
        record(offering, "1000.01")
    assert Distribution.objects.count() == 1
    assert_books_clean()


def test_a_crash_mid_distribution_leaves_nothing_and_a_rerun_completes_it(assert_books_clean, monkeypatch):
    offering = big_offering()
    (a, b, c), _listing = holders(offering, [30, 30, 40])
    distribution = record(offering, "50000.00")
    balances = {user.pk: _available(user) for user in (a, b, c)}
    real_write = services._write_line
    written = []

    def crash_after_two(**fields):
        if len(written) == 2:
            raise RuntimeError("worker killed")
        line = real_write(**fields)
        written.append(line.pk)
        return line

    monkeypatch.setattr(services, "_write_line", crash_after_two)
    with pytest.raises(RuntimeError, match="worker killed"):
        services.distribution_run(distribution_id=distribution.pk)
    assert len(written) == 2
    distribution.refresh_from_db()
    assert distribution.status == DistributionStatus.PENDING
    assert not DistributionLine.objects.exists()
    assert not TDSDeduction.objects.exists()
    assert not DistributionCashFlow.objects.exists()
    assert not JournalEntry.objects.filter(kind="distribution").exists()
    assert {user.pk: _available(user) for user in (a, b, c)} == balances
    assert _system(AccountKind.ESCROW, offering) == D("50000.00")
    assert_books_clean()  # pending: the escrow holds exactly its cash

    monkeypatch.setattr(services, "_write_line", real_write)
    services.distribution_run(distribution_id=distribution.pk)
    distribution.refresh_from_db()
    assert distribution.status == DistributionStatus.PAID
    assert DistributionLine.objects.filter(distribution=distribution).count() == 3
    # 50000.00 × 30/40/30 of 100 units: each line exactly its share.
    assert sum(line.gross for line in DistributionLine.objects.all()) == D("50000.00")
    assert _system(AccountKind.ESCROW, offering) == D("0.00")
    assert_books_clean()


def test_invoice_repayment_is_distributed_with_the_holders_interest(assert_books_clean,
                                                                   django_capture_on_commit_callbacks):
    """The invoices app books the repayment (principal) itself; servicing adds the holders'
    interest from the interest the platform took upfront, and pays the schedule."""
    from invoices.services.financing import repayment_record

    offering = big_offering()
    (holder,), _listing = holders(offering, [100])
    fees_before = _system(AccountKind.FEES)
    with django_capture_on_commit_callbacks(execute=True):
        repayment_record(invoice=offering.invoice, amount=D("2000000.00"), received_on=timezone.localdate(),
                         reference="UTR-INV", actor=offering.world.admin)
    distribution = Distribution.objects.get(offering=offering)
    assert (distribution.reference, distribution.amount, distribution.interest_topup, distribution.status) == (
        "invoice:UTR-INV", D("2056676.00"), D("56676.00"), DistributionStatus.PAID)
    assert _lines(distribution)[holder.pk][:3] == (100, D("2000000.00"), D("56676.00"))
    assert fees_before - _system(AccountKind.FEES) == D("56676.00")
    offering.refresh_from_db()
    assert offering.status == OfferingStatus.MATURED
    assert_books_clean()


def test_default_closes_listings_and_tells_holders(assert_books_clean, django_capture_on_commit_callbacks):
    offering = big_offering()
    (a, b), listing = holders(offering, [20, 30])
    with django_capture_on_commit_callbacks(execute=True):
        services.offering_default(organization=offering.organization, offering_id=offering.pk,
                                  reason="The buyer is insolvent.", actor=offering.world.admin)
    offering.refresh_from_db()
    assert (offering.status, offering.status_reason) == (OfferingStatus.DEFAULTED, "The buyer is insolvent.")
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.CANCELLED
    event = OutboxMessage.objects.filter(topic="offering.defaulted").first()
    assert event.payload == {"offering_id": offering.pk, "holder_ids": sorted([a.pk, b.pk]),
                             "reason": "The buyer is insolvent."}
    # Recoveries are still distributed.
    with django_capture_on_commit_callbacks(execute=True):
        distribution = record(offering, "500.00", reference="RECOVERY-1")
    distribution.refresh_from_db()
    assert distribution.status == DistributionStatus.PAID
    with pytest.raises(services.OfferingNotServiceable):
        services.offering_default(organization=offering.organization, offering_id=offering.pk, reason="again",
                                  actor=offering.world.admin)
    assert_books_clean()
