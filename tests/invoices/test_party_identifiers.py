"""A party's PAN and GSTIN: encrypted at rest, masked in every response, found and kept
unique through blind indexes (DESIGN.md section 8)."""

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import FieldError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory

from core.audit import AuditEvent
from core.crypto import blind_index, decrypt
from invoices.models import Party
from tests.accounts.factories import UserFactory
from tests.invoices.factories import OrganizationFactory, PartyFactory, make_gstin, make_pan

pytestmark = pytest.mark.django_db


def stored(party_id: int) -> dict:
    """The party's row as PostgreSQL holds it, read around the ORM."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pan, pan_index, gstin, gstin_index FROM invoices_party WHERE id = %s", [party_id])
        return dict(zip(("pan", "pan_index", "gstin", "gstin_index"), cursor.fetchone(), strict=True))


def test_a_new_party_is_stored_encrypted_and_answered_masked(world):
    pan = make_pan(4321)
    gstin = make_gstin(pan)
    response = world.client(world.admin).post("/api/v1/parties/", {
        "legal_name": "Kaveri Textiles", "pan": pan.lower(), "gstin": gstin, "kind": "seller"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["pan"], body["gstin"]) == ("XXXXXX" + pan[-4:], "X" * 11 + gstin[-4:])

    row = stored(body["id"])
    assert pan not in row["pan"] and pan not in row["gstin"] and gstin not in row["gstin"]
    assert (decrypt(row["pan"]), decrypt(row["gstin"])) == (pan, gstin)
    assert (row["pan_index"], row["gstin_index"]) == (blind_index(pan), blind_index(gstin))
    # Every read masks them: the detail and the list too.
    assert world.client(world.admin).get(f"/api/v1/parties/{body['id']}/").json()["pan"] == "XXXXXX" + pan[-4:]
    listed = world.client(world.admin).get("/api/v1/parties/").json()["results"]
    assert all(pan not in str(party) for party in listed)


def test_a_party_without_a_gstin_has_no_gstin_index():
    party = PartyFactory(gstin="", gstin_index="")
    assert stored(party.pk)["gstin"] == "" and Party.objects.get(pk=party.pk).masked_gstin == ""


def test_pan_and_gstin_stay_unique_within_an_organization_only(world, other_world):
    admin = world.client(world.admin)
    taken = Party.objects.get(pk=world.buyer.pk)
    again = admin.post("/api/v1/parties/", {"legal_name": "Copy", "pan": taken.pan.lower(), "kind": "seller"})
    assert (again.status_code, again.json()["errors"][0]["code"]) == (409, "party_exists")
    # Another party's GSTIN embeds that party's PAN, so it is refused as invalid for this one.
    clash = admin.patch(f"/api/v1/parties/{world.seller.pk}/", {"gstin": taken.gstin})
    assert (clash.status_code, clash.json()["errors"][0]["attr"]) == (400, "gstin")
    # The same business may be a party of another organization.
    elsewhere = other_world.client(other_world.admin).post("/api/v1/parties/", {
        "legal_name": "Same Business", "pan": taken.pan, "gstin": taken.gstin, "kind": "seller"})
    assert elsewhere.status_code == 201, elsewhere.json()
    assert Party.objects.filter(pan_index=blind_index(taken.pan)).count() == 2


def test_the_database_refuses_a_second_party_with_the_same_gstin():
    organization = OrganizationFactory(slug="gstin-org")
    first = PartyFactory(organization=organization)
    with pytest.raises(IntegrityError, match="gstin_index"), transaction.atomic():
        PartyFactory(organization=organization, pan=make_pan(9876), pan_index=blind_index(make_pan(9876)),
                     gstin=first.gstin, gstin_index=first.gstin_index)


def test_a_gstin_change_is_audited_without_the_gstin(world):
    seller = Party.objects.get(pk=world.seller.pk)
    new_gstin = make_gstin(seller.pan, state="29")
    response = world.client(world.admin).patch(f"/api/v1/parties/{seller.pk}/", {"gstin": new_gstin})
    assert response.status_code == 200, response.json()
    assert response.json()["gstin"] == "X" * 11 + new_gstin[-4:]
    seller.refresh_from_db()
    assert (seller.gstin, stored(seller.pk)["gstin_index"]) == (new_gstin, blind_index(new_gstin))
    event = AuditEvent.objects.get(action="invoices.party_updated")
    assert event.data == {"gstin": "changed", "gstin_index": "changed"}


def test_filtering_on_an_encrypted_field_fails_loudly():
    # A comparison with a fresh random token would never match: a silent "not found".
    with pytest.raises(FieldError):
        list(Party.objects.filter(pan="ABCCA0001Z"))
    with pytest.raises(FieldError):
        list(Party.objects.filter(gstin__icontains="27"))
    assert not Party.objects.filter(pan__isnull=True).exists()


def test_the_admin_shows_masked_identifiers_and_finds_a_whole_pan_or_gstin(world):
    admin_view = site._registry[Party]
    seller = Party.objects.get(pk=world.seller.pk)
    request = RequestFactory().get("/admin/invoices/party/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    queryset = Party.objects.all()
    for term in (seller.pan.lower(), seller.gstin, " ".join(seller.pan)):
        found, _ = admin_view.get_search_results(request, queryset, term)
        assert list(found) == [seller], term
    found, _ = admin_view.get_search_results(request, queryset, "Buyer Traders")
    assert list(found) == [world.buyer]
    assert "pan" not in admin_view.get_fields(request, seller) and "masked_pan" in admin_view.list_display


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_parties_and_decrypts_them_back():
    before, after = [("invoices", "0004_money_checks_rounded")], [("invoices", "0005_party_identifiers_encrypted")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        organization = old.get_model("accounts", "Organization").objects.create(slug="legacy", name="Legacy")
        pan = make_pan(555)
        party = old.get_model("invoices", "Party").objects.create(
            organization_id=organization.pk, legal_name="Legacy Ltd", pan=pan, gstin=make_gstin(pan), kind="seller")
        bare = old.get_model("invoices", "Party").objects.create(
            organization_id=organization.pk, legal_name="No GSTIN", pan=make_pan(556), gstin="", kind="seller")

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        row = stored(party.pk)
        assert pan not in row["pan"] and (decrypt(row["pan"]), decrypt(row["gstin"])) == (pan, make_gstin(pan))
        assert (row["pan_index"], row["gstin_index"]) == (blind_index(pan), blind_index(make_gstin(pan)))
        assert stored(bare.pk)["gstin"] == "" and stored(bare.pk)["gstin_index"] == ""

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pan, gstin FROM invoices_party WHERE id = %s", [party.pk])
            assert cursor.fetchone() == (pan, make_gstin(pan))
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
