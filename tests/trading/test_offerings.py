from decimal import Decimal

import pytest

import irr
from tests.conftest import authenticate
from tests.trading.factories import disbursed_invoice, make_offering
from trading.enums import OfferingStatus
from trading.models import Holding, UnitTransfer
from trading.services import offering_fractionalize
from trading.services.offerings import UnitsDoNotDivide

pytestmark = pytest.mark.django_db


def test_units_divide_the_principal_exactly_and_all_go_to_the_inventory():
    offering = make_offering(total_units=100)  # 80% of 100,000 financed = 80,000
    assert offering.unit_face_value == Decimal("800.00")
    assert offering.unit_face_value * offering.total_units == offering.finance_request.finance_amount
    assert offering.status == OfferingStatus.CONFIGURED
    inventory = Holding.objects.get(offering=offering)
    assert (inventory.owner_id, inventory.units, inventory.units_listed) == (None, 100, 0)
    issue = UnitTransfer.objects.get(offering=offering)
    assert (issue.kind, issue.units, issue.from_holding_id, issue.to_holding_id) == ("issue", 100, None, inventory.pk)


def test_units_that_do_not_divide_are_refused_with_counts_that_work():
    world, invoice = disbursed_invoice(amount="100000.01")  # finance 80,000.01 → 8,000,001 paise
    with pytest.raises(UnitsDoNotDivide) as caught:
        offering_fractionalize(organization=world.organization, invoice_id=invoice.pk, total_units=100,
                               schedule_kind="bullet", price_per_unit=Decimal("800.00"), created_by=world.admin)
    suggestions = irr.divisible_unit_counts(Decimal("80000.01"), near=100)
    assert all(str(count) in caught.value.detail for count in suggestions)
    assert not Holding.objects.exists()


def test_refusal_over_the_api_is_a_422_naming_the_field(api_client):
    world, invoice = disbursed_invoice(amount="100000.01")
    authenticate(api_client, world.admin)
    response = api_client.post("/api/v1/admin/offerings/", {"invoice": invoice.pk, "total_units": 100,
                                                            "price_per_unit": "800.00"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "units_do_not_divide"
    assert response.json()["errors"][0]["attr"] == "total_units"


@pytest.mark.parametrize(("kind", "frequency"), [
    ("bullet", ""), ("equal_principal", "monthly"), ("amortizing", "monthly"), ("balloon", "monthly"),
    ("interest_only", "monthly"),
])
def test_each_schedule_kind_gives_a_per_unit_schedule_that_repays_the_face_value(kind, frequency):
    offering = make_offering(schedule_kind=kind, frequency=frequency, due_in_days=150,
                             balloon_share="0.6" if kind == "balloon" else None)
    rows = list(offering.cash_flows.order_by("sequence"))
    assert sum(row.principal for row in rows) == offering.unit_face_value
    assert all(row.principal >= 0 and row.interest >= 0 for row in rows)
    assert rows[-1].due_date == offering.maturity_date
    if kind == "bullet":
        assert len(rows) == 1
    else:
        assert len(rows) >= 4
    flows = [(offering.start_date, -offering.unit_face_value)] + [(r.due_date, r.principal + r.interest) for r in rows]
    assert abs(irr.xirr(flows) - float(offering.annual_rate)) < 0.0001


def test_price_from_a_target_xirr_yields_that_xirr():
    offering = make_offering(price_per_unit=None, target_xirr="0.15")
    rows = [(row.due_date, row.principal + row.interest) for row in offering.cash_flows.all()]
    implied = irr.xirr([(offering.start_date, -offering.issue_price), *rows])
    assert abs(implied - 0.15) < 0.001  # paise rounding of the price
    assert abs(float(offering.implied_xirr) - implied) < 1e-6
    assert offering.issue_price < offering.unit_face_value * Decimal("1.02")  # a 90-day bullet at 12%


def test_an_invoice_can_be_fractionalized_once():
    offering = make_offering()
    world = offering.world
    from core.errors import InvalidState

    with pytest.raises(InvalidState):
        offering_fractionalize(organization=world.organization, invoice_id=offering.invoice_id, total_units=100,
                               schedule_kind="bullet", price_per_unit=Decimal("800.00"), created_by=world.admin)
    assert Holding.objects.filter(offering__invoice=offering.invoice).count() == 1


def test_an_investor_cannot_fractionalize(api_client, investor):
    _world, invoice = disbursed_invoice()
    authenticate(api_client, investor)
    response = api_client.post("/api/v1/admin/offerings/", {"invoice": invoice.pk, "total_units": 100,
                                                            "price_per_unit": "800.00"})
    assert response.status_code == 403


def test_admin_invoice_categories(api_client, django_assert_max_num_queries):
    configured = make_offering()
    world = configured.world
    _, unfractionalized = disbursed_invoice(world=world)
    posted = offering_fractionalize(organization=world.organization,
                                    invoice_id=disbursed_invoice(world=world)[1].pk, total_units=100,
                                    schedule_kind="bullet", price_per_unit=Decimal("800.00"), created_by=world.admin)
    from trading.services import listing_buy, listing_post_primary

    listing = listing_post_primary(organization=world.organization, offering_id=posted.pk, units=100,
                                   price_per_unit=Decimal("800.00"), created_by=world.admin)
    from tests.trading.factories import trader

    listing_buy(buyer=trader("10000.00"), listing_id=listing.pk, units=7)
    client = authenticate(api_client, world.admin)
    rows = {}
    for category in ("unfractionalized", "configured", "posted"):
        with django_assert_max_num_queries(4):  # user, membership, count, page
            rows[category] = client.get(f"/api/v1/admin/invoices/?category={category}").json()["results"]
    assert [r["invoice"] for r in rows["unfractionalized"]] == [unfractionalized.pk]
    assert [r["offering"] for r in rows["configured"]] == [configured.pk]
    assert [(r["offering"], r["units_sold"], r["offering_status"]) for r in rows["posted"]] == [(posted.pk, 7,
                                                                                                 "posted")]
    assert client.get("/api/v1/admin/invoices/?category=other").status_code == 400


def test_another_organizations_invoices_are_invisible(api_client):
    from tests.invoices.conftest import build_world
    from tests.invoices.factories import OrganizationFactory

    make_offering()  # in the platform organization
    other = build_world(OrganizationFactory(slug="elsewhere"), signatures_required=1)
    client = authenticate(api_client, other.admin)
    assert client.get("/api/v1/admin/invoices/?category=configured").json()["count"] == 0
    offering = make_offering()
    response = client.post(f"/api/v1/admin/offerings/{offering.pk}/post/", {"units": 10, "price_per_unit": "800.00"})
    assert response.status_code == 404
