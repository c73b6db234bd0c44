"""The primary platform over HTTP: the whole flow, who sees what, and fixed query counts."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from invoices.models import FinanceRequest, Invoice, Party, Program, Repayment
from invoices.services import finance_request_create, finance_request_disburse, finance_request_sign
from tests.invoices.factories import InvoiceFactory, PartyFactory, make_gstin, make_pan

pytestmark = pytest.mark.django_db


def _dates(days=60):
    today = timezone.localdate()
    return today, today + timedelta(days=days)


def _disbursed(world):
    issue, due = _dates()
    invoice = InvoiceFactory(counterparty=world.counterparty, issue_date=issue, due_date=due)
    request = finance_request_create(invoice=invoice, actor=world.signer_a)
    finance_request_sign(finance_request=request, actor=world.signer_a)
    finance_request_sign(finance_request=request, actor=world.signer_b)
    finance_request_disburse(finance_request=request, actor=world.admin)
    return invoice, request


def test_an_sme_user_goes_from_upload_to_repaid(world, assert_reconciled):
    seller = world.client(world.signer_a)
    issue, due = _dates()
    response = seller.post("/api/v1/invoices/", {"number": "INV-77", "buyer": world.buyer.pk, "amount": "100000.00",
                                                 "issue_date": issue.isoformat(), "due_date": due.isoformat()})
    assert response.status_code == 201, response.json()
    invoice_id = response.json()["id"]
    assert response.json()["seller"] == {"id": world.seller.pk, "legal_name": "Anchor Seller Ltd"}

    response = seller.post("/api/v1/finance-requests/", {"invoice": invoice_id})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("finance_amount", "finance_percentage", "status", "signatures_required",
                                 "signatures")} == {
        "finance_amount": "80000.00", "finance_percentage": "80.00", "status": "awaiting_signatures",
        "signatures_required": 2, "signatures": []}
    request_id = body["id"]

    assert seller.post(f"/api/v1/finance-requests/{request_id}/sign/", {"step": 1}).status_code == 200
    response = world.client(world.signer_b).post(f"/api/v1/finance-requests/{request_id}/sign/", {})
    assert response.json()["status"] == "approved"
    assert [s["signer"] for s in response.json()["signatures"]] == [world.signer_a.pk, world.signer_b.pk]

    admin = world.client(world.admin)
    response = admin.post(f"/api/v1/admin/finance-requests/{request_id}/disburse/",
                          HTTP_IDEMPOTENCY_KEY="d0a7d8a4-6f7e-4d55-9d7e-0d6c3a0c2a11")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["net_disbursal_amount"]) == ("disbursed", "78421.92")

    url = f"/api/v1/admin/invoices/{invoice_id}/repayments/"
    response = admin.post(url, {"amount": "80000.00", "received_on": due.isoformat(), "reference": "UTR-1"})
    assert response.status_code == 201, response.json()
    replay = admin.post(url, {"amount": "80000.00", "received_on": due.isoformat(), "reference": "UTR-1"})
    assert (replay.status_code, replay.json()["id"]) == (200, response.json()["id"])
    assert seller.get(f"/api/v1/invoices/{invoice_id}/").json()["status"] == "settled"

    detail = seller.get(f"/api/v1/finance-requests/{request_id}/").json()
    assert detail["status"] == "repaid"
    assert [e["action"] for e in detail["events"]] == ["requested", "signed", "signed", "disbursed", "repayment"]
    assert_reconciled()


def test_members_cannot_do_admin_work(world):
    invoice, request = _disbursed(world)
    seller = world.client(world.signer_a)
    for path, body in [
        ("/api/v1/parties/", {"legal_name": "X", "pan": make_pan(9000), "kind": "seller"}),
        (f"/api/v1/admin/invoices/{invoice.pk}/repayments/",
         {"amount": "1.00", "received_on": "2026-01-01", "reference": "R"}),
        (f"/api/v1/admin/finance-requests/{request.pk}/disburse/", {}),
        (f"/api/v1/programs/{world.program.pk}/suspend/", {}),
    ]:
        response = seller.post(path, body)
        assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "permission_denied"), path
    assert not Repayment.objects.exists()
    assert Program.objects.get(pk=world.program.pk).status == "active"


def test_admin_sets_up_parties_programs_and_members(world):
    admin = world.client(world.admin)
    pan = make_pan(7777)
    response = admin.post("/api/v1/parties/", {"legal_name": "New SME", "pan": pan.lower(), "gstin": make_gstin(pan),
                                               "kind": "seller", "signatures_required": 3})
    assert response.status_code == 201, response.json()
    assert (response.json()["pan"], response.json()["signatures_required"]) == ("XXXXXX" + pan[-4:], 3)
    party_id = response.json()["id"]

    bad = admin.post("/api/v1/parties/", {"legal_name": "Bad", "pan": "ABCDE1234", "kind": "seller"})
    assert (bad.status_code, bad.json()["errors"][0]["attr"]) == (400, "pan")
    mismatch = admin.post("/api/v1/parties/", {"legal_name": "Bad", "pan": make_pan(7778),
                                               "gstin": make_gstin(make_pan(7779)), "kind": "seller"})
    assert mismatch.json()["errors"][0]["code"] == "gstin_pan_mismatch"

    response = admin.post(f"/api/v1/parties/{party_id}/members/", {"user": world.buyer_user.pk,
                                                                  "role": "supervisor"})
    assert response.status_code == 201
    assert admin.get(f"/api/v1/parties/{party_id}/members/").json()["count"] == 1
    assert admin.delete(f"/api/v1/parties/{party_id}/members/{world.buyer_user.pk}/").status_code == 204

    response = admin.post("/api/v1/programs/", {
        "name": "Dealer line", "kind": "DF", "anchor": world.seller.pk, "max_limit_amount": "500000.00",
        "max_invoice_amount": "100000.00", "max_invoice_percent": "90.00", "interest_rate": "11.5000",
        "min_tenor_days": 15, "max_tenor_days": 90, "grace_days": 3, "overdue_rate": "18.0000"})
    assert response.status_code == 201, response.json()
    program_id = response.json()["id"]
    assert response.json()["status"] == "draft"
    assert admin.post(f"/api/v1/programs/{program_id}/activate/").json()["status"] == "active"
    response = admin.post(f"/api/v1/programs/{program_id}/counterparties/", {"party": party_id,
                                                                              "limit_amount": "100000.00"})
    assert response.status_code == 201, response.json()
    counterparty_id = response.json()["id"]
    response = admin.patch(f"/api/v1/programs/{program_id}/counterparties/{counterparty_id}/",
                           {"limit_amount": "150000.00"})
    assert response.json()["limit_amount"] == "150000.00"
    response = admin.patch(f"/api/v1/programs/{program_id}/", {"max_limit_amount": "600000.00"})
    assert response.json()["max_limit_amount"] == "600000.00"


def test_a_limit_cannot_shrink_below_what_is_used(world):
    _disbursed(world)
    response = world.client(world.admin).patch(f"/api/v1/programs/{world.program.pk}/",
                                               {"max_limit_amount": "79999.99"})
    assert (response.status_code, response.json()["errors"][0]["code"]) == (422, "limit_exceeded")
    assert Program.objects.get(pk=world.program.pk).max_limit_amount == Decimal("1000000.00")


def test_csv_upload_over_http_reports_rows(world):
    seller = world.client(world.signer_a)
    issue, due = _dates()
    text = ("number,buyer_gstin,amount,issue_date,due_date\n"
            f"C-1,{world.buyer.gstin},1000,{issue},{due}\n"
            f"C-2,{world.buyer.gstin},-5,{issue},{due}\n")
    upload = io.BytesIO(text.encode())
    upload.name = "invoices.csv"
    response = seller.post("/api/v1/invoices/bulk/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "errors": [
        {"code": "invalid_amount", "detail": "The amount must be more than zero.", "attr": "rows.3.amount"}]}
    assert not Invoice.objects.exists()

    upload = io.BytesIO(text.replace("-5", "5").encode())
    upload.name = "invoices.csv"
    response = seller.post("/api/v1/invoices/bulk/", {"file": upload}, format="multipart")
    assert (response.status_code, response.json()["created"]) == (201, 2)


def test_party_users_see_only_their_partys_data(world):
    invoice, request = _disbursed(world)
    # Another seller in the same organization, with its own program and invoice.
    other_seller = PartyFactory(organization=world.organization, kind="anchor")
    from tests.invoices.factories import CounterpartyFactory, ProgramFactory, party_member
    program = ProgramFactory(organization=world.organization, anchor=other_seller)
    counterparty = CounterpartyFactory(program=program)
    stranger = party_member(other_seller)
    hidden = InvoiceFactory(counterparty=counterparty)
    client = world.client(stranger)
    for path in (f"/api/v1/invoices/{invoice.pk}/", f"/api/v1/finance-requests/{request.pk}/",
                 f"/api/v1/parties/{world.seller.pk}/dashboard/", f"/api/v1/programs/{world.program.pk}/",
                 f"/api/v1/parties/{world.seller.pk}/members/"):
        response = client.get(path)
        assert (response.status_code, response.json()["errors"][0]["code"]) == (404, "not_found"), path
    assert client.post(f"/api/v1/finance-requests/{request.pk}/sign/").status_code == 404
    assert [i["id"] for i in client.get("/api/v1/invoices/").json()["results"]] == [hidden.pk]
    assert client.get("/api/v1/finance-requests/").json()["count"] == 0
    # The buyer sees the invoice it owes, but cannot sign the seller's request.
    buyer = world.client(world.buyer_user)
    assert buyer.get(f"/api/v1/invoices/{invoice.pk}/").status_code == 200
    assert [i["id"] for i in buyer.get("/api/v1/invoices/").json()["results"]] == [invoice.pk]


def _other_org_paths(other):
    invoice, request = _disbursed(other)
    return [
        ("get", f"/api/v1/parties/{other.seller.pk}/"),
        ("patch", f"/api/v1/parties/{other.seller.pk}/"),
        ("get", f"/api/v1/parties/{other.seller.pk}/members/"),
        ("post", f"/api/v1/parties/{other.seller.pk}/members/"),
        ("delete", f"/api/v1/parties/{other.seller.pk}/members/{other.signer_a.pk}/"),
        ("get", f"/api/v1/parties/{other.seller.pk}/dashboard/"),
        ("get", f"/api/v1/programs/{other.program.pk}/"),
        ("patch", f"/api/v1/programs/{other.program.pk}/"),
        ("post", f"/api/v1/programs/{other.program.pk}/activate/"),
        ("post", f"/api/v1/programs/{other.program.pk}/suspend/"),
        ("get", f"/api/v1/programs/{other.program.pk}/utilization/"),
        ("get", f"/api/v1/programs/{other.program.pk}/counterparties/"),
        ("post", f"/api/v1/programs/{other.program.pk}/counterparties/"),
        ("get", f"/api/v1/programs/{other.program.pk}/counterparties/{other.counterparty.pk}/"),
        ("patch", f"/api/v1/programs/{other.program.pk}/counterparties/{other.counterparty.pk}/"),
        ("get", f"/api/v1/invoices/{invoice.pk}/"),
        ("get", f"/api/v1/finance-requests/{request.pk}/"),
        ("post", f"/api/v1/finance-requests/{request.pk}/sign/"),
        ("post", f"/api/v1/finance-requests/{request.pk}/reject/"),
        ("post", f"/api/v1/admin/finance-requests/{request.pk}/disburse/"),
        ("get", f"/api/v1/admin/invoices/{invoice.pk}/repayments/"),
        ("post", f"/api/v1/admin/invoices/{invoice.pk}/repayments/"),
    ]


def test_another_organizations_objects_are_404_on_every_endpoint(world, other_world):
    """Even for the admin of this organization, who sees everything in their own."""
    paths = _other_org_paths(other_world)
    admin = world.client(world.admin)
    before = (FinanceRequest.objects.values_list("status", flat=True).get(organization=other_world.organization),
              Party.objects.count(), Repayment.objects.count())
    for method, path in paths:
        response = getattr(admin, method)(path, {})
        assert (response.status_code, response.json()["errors"][0]["code"]) == (404, "not_found"), (method, path)
    after = (FinanceRequest.objects.values_list("status", flat=True).get(organization=other_world.organization),
             Party.objects.count(), Repayment.objects.count())
    assert after == before
    # Naming another organization in a body is a validation error, not a way in.
    response = admin.post("/api/v1/invoices/", {"number": "X", "buyer": other_world.buyer.pk, "amount": "1.00",
                                                "issue_date": "2026-01-01", "due_date": "2026-02-01",
                                                "seller": world.seller.pk})
    assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, "buyer")
    # Lists never leak the other organization.
    assert {p["id"] for p in admin.get("/api/v1/parties/").json()["results"]} == {world.seller.pk, world.buyer.pk}
    assert admin.get("/api/v1/invoices/").json()["count"] == 0


def test_the_organization_header_picks_among_memberships(world, other_world):
    from tests.invoices.factories import org_admin
    both = org_admin(world.organization)
    org_admin_in_other = org_admin(other_world.organization)  # noqa: F841 - other admins exist
    from accounts.models import OrganizationMembership
    OrganizationMembership.objects.create(organization=other_world.organization, user=both, role="admin")
    client = world.client(both)
    response = client.get("/api/v1/parties/")  # no header: the organization joined first
    assert {p["id"] for p in response.json()["results"]} == {world.seller.pk, world.buyer.pk}
    response = client.get("/api/v1/parties/", HTTP_X_ORGANIZATION="other-org")
    assert {p["id"] for p in response.json()["results"]} == {other_world.seller.pk, other_world.buyer.pk}
    response = client.get("/api/v1/parties/", HTTP_X_ORGANIZATION="nowhere")
    assert response.status_code == 404


def test_a_user_of_no_organization_is_refused(world, investor_client):
    response = investor_client.get("/api/v1/invoices/")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (403, "organization_membership_required")


@pytest.mark.parametrize("path", ["/api/v1/parties/", "/api/v1/programs/", "/api/v1/invoices/",
                                  "/api/v1/finance-requests/", "/api/v1/programs/{program}/counterparties/"])
def test_lists_cost_a_fixed_number_of_queries(world, path, django_assert_max_num_queries):
    for _ in range(3):
        _disbursed(world)
    PartyFactory.create_batch(3, organization=world.organization)
    client = world.client(world.admin)
    path = path.format(program=world.program.pk)
    with django_assert_max_num_queries(6):
        response = client.get(path)
    assert response.status_code == 200
    client = world.client(world.signer_a)
    with django_assert_max_num_queries(6):
        assert client.get(path).status_code == 200


def test_dashboards(world):
    _invoice, request = _disbursed(world)
    FinanceRequest.objects.filter(pk=request.pk).update(status="overdue")
    issue, due = _dates()
    pending = InvoiceFactory(counterparty=world.counterparty, issue_date=issue, due_date=due, amount=Decimal("50000"))
    finance_request_create(invoice=pending, actor=world.signer_a)  # 40000 more used, awaiting signatures

    body = world.client(world.admin).get(f"/api/v1/programs/{world.program.pk}/utilization/").json()
    assert {k: body[k] for k in ("limit", "used", "available", "utilization_percent", "outstanding_amount",
                                 "overdue_amount", "overdue_count")} == {
        "limit": "1000000.00", "used": "120000.00", "available": "880000.00", "utilization_percent": "12.00",
        "outstanding_amount": "80000.00", "overdue_amount": "80000.00", "overdue_count": 1}
    assert body["counterparties"] == [{
        "limit": "500000.00", "used": "120000.00", "available": "380000.00", "utilization_percent": "24.00",
        "id": world.counterparty.pk, "party": {"id": world.buyer.pk, "legal_name": "Buyer Traders"},
        "is_active": True, "overdue_count": 1}]

    body = world.client(world.signer_a).get(f"/api/v1/parties/{world.seller.pk}/dashboard/").json()
    assert body["invoices"]["financed"] == 1 and body["invoices"]["finance_requested"] == 1
    assert (body["outstanding_amount"], body["overdue_amount"], body["awaiting_signatures"]) == (
        "80000.00", "80000.00", 1)
    body = world.client(world.buyer_user).get(f"/api/v1/parties/{world.buyer.pk}/dashboard/").json()
    assert body["limits"] == [{"limit": "500000.00", "used": "120000.00", "available": "380000.00",
                               "utilization_percent": "24.00", "program_id": world.program.pk,
                               "program": world.program.name, "is_active": True}]
