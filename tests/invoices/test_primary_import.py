"""The primary-platform adapter: local (nothing to pull) and HTTP (against a local server),
and `manage.py import_primary`."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from werkzeug import Response

from integrations.errors import IntegrationError
from integrations.models import ApiCall
from integrations.primary import HttpPrimary, LocalPrimary
from integrations.registry import get_adapter
from invoices.enums import FinanceRequestStatus, InvoiceStatus, RepaymentSource
from invoices.models import FinanceRequest, Invoice, Repayment
from invoices.services.imports import primary_import
from wallet.selectors import wallet_system_balance

pytestmark = pytest.mark.django_db
TOKEN = "primary-secret-token"


@pytest.fixture
def primary(httpserver, settings):
    settings.PRIMARY_PROVIDER = "http"
    settings.PRIMARY_API_URL = httpserver.url_for("/api/")
    settings.PRIMARY_API_TOKEN = TOKEN
    settings.INTEGRATION_MAX_RETRIES = 1
    return httpserver


def _party(party):
    return {"legal_name": party.legal_name, "pan": party.pan, "gstin": party.gstin}


def _invoice(world, external_id="P-1", number="EXT-1", amount="100000.00", finance_amount="75000.00"):
    return {"id": external_id, "number": number, "amount": amount, "issue_date": "2026-01-01",
            "due_date": "2026-03-02", "finance_amount": finance_amount, "disbursed_on": "2026-01-01",
            "seller": _party(world.seller), "buyer": _party(world.buyer)}


def test_the_setting_chooses_the_adapter(settings, primary):
    assert isinstance(get_adapter("primary"), HttpPrimary)
    settings.PRIMARY_PROVIDER = "local"
    assert isinstance(get_adapter("primary"), LocalPrimary)


def test_local_has_nothing_to_import(world, settings):
    settings.PRIMARY_PROVIDER = "local"
    report = primary_import(organization=world.organization, program=world.program)
    assert (report.invoices_created, report.repayments_created, report.errors) == (0, 0, [])


def test_http_import_pages_through_invoices_then_repayments(world, primary, assert_reconciled):
    next_url = primary.url_for("/api/financed-invoices/") + "?page=2"
    primary.expect_ordered_request("/api/financed-invoices/", query_string={"since": "2026-01-01T00:00:00"},
                                   headers={"Authorization": f"Bearer {TOKEN}"}).respond_with_json(
        {"results": [_invoice(world)], "next": next_url})
    primary.expect_ordered_request("/api/financed-invoices/", query_string={"page": "2"}).respond_with_json(
        {"results": [_invoice(world, "P-2", "EXT-2", "50000.00", "40000.00")], "next": None})
    primary.expect_ordered_request("/api/repayments/").respond_with_json({"results": [
        {"reference": "R-1", "invoice_id": "P-1", "amount": "75000.00", "received_on": "2026-03-02"},
        {"reference": "R-2", "invoice_id": "P-2", "amount": "10000.00", "received_on": "2026-03-02"},
        {"reference": "R-3", "invoice_id": "P-404", "amount": "1.00", "received_on": "2026-03-02"},
    ], "next": None})
    from datetime import datetime
    report = primary_import(organization=world.organization, program=world.program,
                            since=datetime(2026, 1, 1))
    assert (report.invoices_created, report.repayments_created) == (2, 2)
    assert report.errors == ["repayment R-3: unknown invoice P-404"]
    first = FinanceRequest.objects.get(invoice__external_id="P-1")
    # The request was signed on the primary platform; here it is imported as disbursed on its date.
    assert (first.status, first.finance_amount, first.signatures_required, first.disbursed_on.isoformat()) == (
        FinanceRequestStatus.REPAID, Decimal("75000.00"), 0, "2026-01-01")
    assert Invoice.objects.get(external_id="P-1").status == InvoiceStatus.SETTLED
    assert Invoice.objects.get(external_id="P-2").status == InvoiceStatus.PARTIALLY_SETTLED
    assert set(Repayment.objects.values_list("source", flat=True)) == {RepaymentSource.PRIMARY}
    # 75000 + 40000 lent, 75000 + 10000 repaid: 30000 still owed.
    assert wallet_system_balance(kind="loan_book") == Decimal("-30000.00")
    assert ApiCall.objects.filter(service="primary", outcome="ok").count() == 3
    assert_reconciled()


def test_a_second_import_changes_nothing(world, primary):
    for _ in range(2):
        primary.expect_ordered_request("/api/financed-invoices/").respond_with_json(
            {"results": [_invoice(world)], "next": None})
        primary.expect_ordered_request("/api/repayments/").respond_with_json({"results": [
            {"reference": "R-1", "invoice_id": "P-1", "amount": "5000.00", "received_on": "2026-03-02"}],
            "next": None})
    first = primary_import(organization=world.organization, program=world.program)
    second = primary_import(organization=world.organization, program=world.program)
    assert (first.invoices_created, first.repayments_created) == (1, 1)
    assert (second.invoices_created, second.invoices_skipped, second.repayments_created,
            second.repayments_skipped) == (0, 1, 0, 1)
    assert (Invoice.objects.count(), Repayment.objects.count()) == (1, 1)


def test_a_bad_record_is_reported_and_the_rest_imported(world, primary):
    unknown = _invoice(world, "P-9", "EXT-9")
    unknown["buyer"] = {"legal_name": "Nobody", "pan": "ZZZPZ9999Z", "gstin": ""}
    too_big = _invoice(world, "P-8", "EXT-8", finance_amount="1000001.00", amount="2000000.00")
    primary.expect_ordered_request("/api/financed-invoices/").respond_with_json(
        {"results": [unknown, too_big, _invoice(world)], "next": None})
    primary.expect_ordered_request("/api/repayments/").respond_with_json({"results": [], "next": None})
    report = primary_import(organization=world.organization, program=world.program)
    assert report.invoices_created == 1
    assert report.errors[0] == "invoice P-9: no party with PAN ZZZPZ9999Z in the organization"
    assert report.errors[1].startswith("invoice P-8: limit_exceeded")
    assert list(Invoice.objects.values_list("external_id", flat=True)) == ["P-1"]


def test_a_failing_server_is_retried_then_reported_without_the_token(world, primary):
    primary.expect_request("/api/financed-invoices/").respond_with_response(
        Response(f"down, token={TOKEN}", status=503))
    with pytest.raises(IntegrationError) as caught:
        primary_import(organization=world.organization, program=world.program)
    assert caught.value.status == 503
    assert len(primary.log) == 2  # one retry: a read is idempotent
    call = ApiCall.objects.get(service="primary")
    assert TOKEN not in call.error and call.attempts == 2
    assert not Invoice.objects.exists()


def test_import_primary_command(world, primary):
    primary.expect_ordered_request("/api/financed-invoices/").respond_with_json(
        {"results": [_invoice(world)], "next": None})
    primary.expect_ordered_request("/api/repayments/").respond_with_json({"results": [], "next": None})
    out = io.StringIO()
    call_command("import_primary", "--program", str(world.program.pk), stdout=out)
    assert json.loads(out.getvalue()) == {"invoices_created": 1, "invoices_skipped": 0, "repayments_created": 0,
                                          "repayments_skipped": 0, "errors": []}
    with pytest.raises(CommandError):
        call_command("import_primary", "--program", "999999", stdout=io.StringIO())
