"""The HTTP edge of servicing: staff repayments and default (tenancy, idempotency), the
investor's cash flows, portfolio and tax statement, Form 15G/15H, and the books check."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts.enums import Role
from core.outbox import OutboxMessage
from servicing import services
from servicing.models import Distribution
from tax import rules as tax_rules
from tax.models import TaxDeclaration
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate
from tests.invoices.conftest import build_world
from tests.invoices.factories import OrganizationFactory
from tests.wallet.factories import PDF_BYTES, PNG_BYTES
from wallet.enums import AccountKind, EntryKind
from wallet.services import ledger_post, wallet_system_account

from .factories import big_offering, holders, record

D = Decimal
pytestmark = pytest.mark.django_db


def _repay(client, offering, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/admin/offerings/{offering.pk}/repayments/", body, format="json", **headers)


def test_an_org_admin_records_a_repayment_and_it_is_distributed(django_capture_on_commit_callbacks,
                                                                assert_books_clean):
    offering = big_offering()
    holders(offering, [100])
    client = offering.world.client(offering.world.admin)
    body = {"amount": "1000.00", "received_on": timezone.localdate().isoformat(), "reference": "UTR-9"}
    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        response = _repay(client, offering, body, key)
    assert response.status_code == 202, response.json()
    assert (response.json()["status"], response.json()["amount"], response.json()["reference"]) == (
        "pending", "1000.00", "UTR-9")
    distribution_id = response.json()["id"]
    detail = client.get(f"/api/v1/admin/distributions/{distribution_id}/").json()
    assert (detail["status"], detail["principal"], detail["interest"]) == ("paid", "972.44", "27.56")

    assert _repay(client, offering, body, key).json() == response.json()  # same key: the first answer again
    again = _repay(client, offering, body)  # same reference, no key: the same distribution
    assert (again.status_code, again.json()["id"], again.json()["status"]) == (200, distribution_id, "paid")
    refused = _repay(client, offering, {**body, "amount": "1000.01"})
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "repayment_reference_reused"
    assert Distribution.objects.count() == 1
    listing = client.get(f"/api/v1/admin/offerings/{offering.pk}/repayments/").json()
    assert [row["id"] for row in listing["results"]] == [distribution_id]
    assert_books_clean()


def test_another_organization_or_a_non_admin_cannot_record_or_default():
    offering = big_offering()
    other = build_world(OrganizationFactory(slug="other-org"), signatures_required=1)
    body = {"amount": "10.00", "received_on": timezone.localdate().isoformat(), "reference": "X"}
    response = _repay(other.client(other.admin), offering, body)
    assert (response.status_code, response.json()["errors"][0]["code"]) == (404, "not_found")
    response = other.client(other.admin).post(f"/api/v1/admin/offerings/{offering.pk}/default/",
                                              {"reason": "no"}, format="json")
    assert response.status_code == 404
    investor = authenticate(APIClient(), UserFactory())
    assert _repay(investor, offering, body).status_code == 403
    future = {**body, "received_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat()}
    response = _repay(offering.world.client(offering.world.admin), offering, future)
    assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, "received_on")
    assert not Distribution.objects.exists()
    offering.refresh_from_db()
    assert offering.status == "configured"


def test_default_endpoint(django_capture_on_commit_callbacks):
    offering = big_offering()
    (holder,), _listing = holders(offering, [10])
    client = offering.world.client(offering.world.admin)
    url = f"/api/v1/admin/offerings/{offering.pk}/default/"
    assert client.post(url, {}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Buyer insolvent"}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["status_reason"]) == (
        200, "defaulted", "Buyer insolvent")
    assert OutboxMessage.objects.get(topic="offering.defaulted").payload["holder_ids"] == [holder.pk]
    from notifications.models import Notification

    assert Notification.objects.filter(user=holder, kind="offering_defaulted").count() == 1


def test_investor_cash_flows_portfolio_and_tax_statement(django_assert_max_num_queries, assert_books_clean):
    """A (40 units) of the worked example's offering: paid 700158.90 + 19841.10 (TDS 1984.11)
    thirty days after buying; the schedule still owes 40% of 249602.75 principal and of
    7073.24 interest."""
    offering = big_offering()
    (a, _b, _c), _listing = holders(offering, [40, 25, 30])
    later = timezone.now() + dt.timedelta(days=30)
    services.distribution_run(distribution_id=record(offering, "1800000.01").pk, now=later)
    with freeze_time(later):
        _investor_reads(offering, a, later, django_assert_max_num_queries)
    assert_books_clean()


def _investor_reads(offering, a, later, django_assert_max_num_queries):
    client = authenticate(APIClient(), a)

    with django_assert_max_num_queries(6):
        received = client.get("/api/v1/cash-flows/").json()
    assert [(r["status"], r["principal"], r["interest"], r["gross"], r["tds"], r["net"], r["tds_section"])
            for r in received["results"]] == [
        ("received", "700158.90", "19841.10", "720000.00", "1984.11", "718015.89", "393(1)")]
    with django_assert_max_num_queries(6):
        upcoming = client.get("/api/v1/cash-flows/?status=upcoming").json()
    assert [(r["date"], r["units"], r["principal"], r["interest"], r["tds"], r["is_overdue"])
            for r in upcoming["results"]] == [
        (offering.maturity_date.isoformat(), 40, "99841.10", "2829.30", None, False)]

    with django_assert_max_num_queries(8):
        portfolio = client.get("/api/v1/portfolio/").json()
    invested = D("800000.00") + D("2000.00")  # 40 × 20000.00 + 0.25% buyer fee
    assert {k: portfolio[k] for k in ("invested", "received", "tds", "net_received", "outstanding_principal",
                                      "holdings_count")} == {
        "invested": str(invested), "received": "720000.00", "tds": "1984.11", "net_received": "718015.89",
        "outstanding_principal": "99841.10", "holdings_count": 1}
    # Two dates: paid 802000.00 today; 720000.00 + 99841.10 "back" in 30 days.
    expected = float((D("720000.00") + D("99841.10")) / invested) ** (365 / 30) - 1
    assert abs(float(portfolio["xirr"]) - expected) < 1e-6

    holdings = client.get("/api/v1/holdings/").json()["results"]
    assert holdings[0]["received"] == "720000.00"

    fy = tax_rules.financial_year(timezone.localdate(later))
    with django_assert_max_num_queries(6):
        statement = client.get(f"/api/v1/reports/tax-statement/?fy={fy}").json()
    assert (statement["interest"], statement["tds"], statement["net"], statement["sections"]) == (
        "19841.10", "1984.11", "17856.99", ["393(1)"])
    assert [(r["offering"], r["interest"], r["tds"], r["net"]) for r in statement["rows"]] == [
        (offering.pk, "19841.10", "1984.11", "17856.99")]
    assert statement["pan"].startswith("XXXXXX")
    csv_response = client.get(f"/api/v1/reports/tax-statement/?fy={fy}&format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    lines = csv_response.content.decode().splitlines()
    assert lines[0] == "financial_year,offering,offering_title,interest,tds,net,principal"
    assert lines[-1] == f"{fy},,Total,19841.10,1984.11,17856.99,"
    pdf = client.get(f"/api/v1/reports/tax-statement/?fy={fy}&format=pdf")
    assert (pdf.status_code, pdf["Content-Type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")
    bad = client.get("/api/v1/reports/tax-statement/?fy=2026-28")
    assert (bad.status_code, bad.json()["errors"][0]["attr"]) == (400, "fy")
    # Someone else sees none of it.
    stranger = authenticate(APIClient(), UserFactory())
    assert stranger.get("/api/v1/cash-flows/").json()["count"] == 0
    assert stranger.get(f"/api/v1/reports/tax-statement/?fy={fy}").json()["rows"] == []


def test_form_15g_upload_and_staff_review():
    investor = UserFactory()
    client = authenticate(APIClient(), investor)
    url = "/api/v1/tax-declarations/"
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(content=PDF_BYTES, fy="2026-27"):
        return client.post(url, {"financial_year": fy, "form": "15G",
                                 "file": SimpleUploadedFile("f.pdf", content)}, format="multipart")

    png = upload(PNG_BYTES)
    assert (png.status_code, png.json()["errors"][0]["code"]) == (422, "document_type_not_allowed")
    assert upload(fy="2026").status_code == 400
    created = upload()
    assert (created.status_code, created.json()["status"]) == (201, "pending")
    duplicate = upload()
    assert (duplicate.status_code, duplicate.json()["errors"][0]["code"]) == (409, "declaration_exists")
    with_queries = client.get(url).json()
    assert [row["id"] for row in with_queries["results"]] == [created.json()["id"]]

    declaration_id = created.json()["id"]
    accept_url = f"/api/v1/admin/tax-declarations/{declaration_id}/accept/"
    assert client.post(accept_url, {}, format="json").status_code == 403
    reviewer = authenticate(APIClient(), UserFactory(role=Role.VERIFIER))
    queue = reviewer.get("/api/v1/admin/tax-declarations/?status=pending").json()
    assert [(row["id"], row["user"]) for row in queue["results"]] == [(declaration_id, investor.pk)]
    accepted = reviewer.post(accept_url, {"note": "ok"}, format="json")
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    again = reviewer.post(f"/api/v1/admin/tax-declarations/{declaration_id}/reject/", {}, format="json")
    assert (again.status_code, again.json()["errors"][0]["code"]) == (409, "invalid_state")
    assert TaxDeclaration.objects.get().status == "accepted"


def test_reconcile_reports_tds_that_no_deduction_explains(assert_reconciled):
    from wallet.reconcile import reconcile

    ledger_post(kind=EntryKind.SYSTEM_TRANSFER, transfers=[
        (wallet_system_account(AccountKind.BANK), wallet_system_account(AccountKind.TDS_PAYABLE), D("5.00"))])
    assert "tds: deductions sum to 0.00 but tds_payable holds 5.00" in reconcile()
    ledger_post(kind=EntryKind.SYSTEM_TRANSFER, transfers=[
        (wallet_system_account(AccountKind.TDS_PAYABLE), wallet_system_account(AccountKind.BANK), D("5.00"))])
    offering = big_offering()
    holders(offering, [100])
    record(offering, "100.00")  # pending: the escrow holds its 100.00 (the drain runs only after commit)
    assert_reconciled()
    ledger_post(kind=EntryKind.SYSTEM_TRANSFER, transfers=[
        (wallet_system_account(AccountKind.BANK), wallet_system_account(AccountKind.ESCROW, offering.pk), D("7.00"))])
    assert f"offering {offering.pk}: escrow holds 107.00 but pending distributions total 100.00" in reconcile()
